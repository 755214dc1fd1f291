"""The ``autotune`` command: argument parsing, terminal output and exit codes only.

Exit codes: 0 done, 1 an unexpected error, 2 bad input (run file, flags, data), 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from autotune._process_env import quiet_native_stderr

# TensorFlow's C++ start-up chatter (CUDA probes, CPU features) says nothing a user can act on;
# set before anything imports TensorFlow. TF_CPP_MIN_LOG_LEVEL=0 in the environment restores it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextmanager
def _quiet_tensorflow_import() -> Iterator[None]:
    """Import TensorFlow with native stderr muted (unless the user set TF_CPP_MIN_LOG_LEVEL):
    what it prints before its logging starts ignores the level. Python errors still surface
    after stderr is restored."""
    with quiet_native_stderr():
        import tensorflow  # noqa: F401

        yield


if TYPE_CHECKING:
    from autotune.engine import RunReport
    from autotune.results import RankedTrial

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        errors.print(f"autotune: error: {message}", markup=False)
        raise SystemExit(EXIT_USAGE)


def _duration(text: str) -> float:
    from autotune.spec import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _run_flags(command: argparse.ArgumentParser) -> None:
    """The arguments of ``run`` and ``worker``."""
    command.add_argument("file", type=Path, help="the run file (YAML)")
    command.add_argument("--trials", type=_positive, help="study-wide total of trials")
    command.add_argument("--budget", type=_duration, help="wall-clock budget: 90s, 10m, 1.5h")
    command.add_argument("--study", help="study name (default: study: or the file's stem)")
    command.add_argument(
        "--storage", help="Optuna storage URL (default: SQLite in the results dir)"
    )
    command.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="default: results"
    )
    command.add_argument("--seed", type=int, help="seed (default: seed: in the run file)")
    command.add_argument(
        "--workers",
        type=_positive,
        help="worker processes (default: one per device group; CPU: trials run in-process)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = _Parser(prog="autotune", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run (or resume) the study a run file describes")
    _run_flags(run)
    worker = sub.add_parser(
        "worker",
        help="join (or create) a study on a database server and run its trials here",
        description="Start one on every machine: together they run --trials N in all, "
        "then stop. `autotune run` or `autotune report` ranks the study.",
    )
    _run_flags(worker)  # the same flags as run
    worker.add_argument(
        "--join",
        action="store_true",
        help="train.processes_per_trial > 1: each worker process here joins a group formed "
        "through the storage with other machines' processes (default: this machine forms "
        "whole groups)",
    )

    validate = sub.add_parser("validate", help="check a run file and print the resolved space")
    validate.add_argument("file", type=Path)

    report = sub.add_parser("report", help="re-rank a study and re-write its exports")
    report.add_argument("target", help="a results/<study> folder or an Optuna storage URL")
    report.add_argument("--study", help="the study (when the storage holds several)")
    report.add_argument("--results-dir", type=Path, default=Path("results"))

    studies = sub.add_parser("studies", help="list the studies in a storage")
    studies.add_argument("target", help="an Optuna storage URL or a results/<study> folder")

    dashboard = sub.add_parser("dashboard", help="open Optuna Dashboard on a study")
    dashboard.add_argument("target", help="a results/<study> folder or an Optuna storage URL")
    dashboard.add_argument("--port", type=int, default=8080)
    dashboard.add_argument("--host", default="127.0.0.1")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``autotune`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from autotune.spec import SpecError

    try:
        if args.command == "validate":
            return _validate(args)
        if args.command in ("run", "worker"):
            return _run(args)
        if args.command == "report":
            return _report(args)
        if args.command == "studies":
            return _studies(args)
        return _dashboard(args)
    except SpecError as error:
        errors.print(f"[red]error:[/red] {escape(str(error))}", markup=True, soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        errors.print("interrupted")
        return EXIT_INTERRUPTED


def _validate(args: argparse.Namespace) -> int:
    from autotune.spec import describe, load_run_file
    from autotune.spec._check import check_run_file

    spec = load_run_file(args.file)
    check_run_file(spec)
    console.print(describe(spec), soft_wrap=True)
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from autotune.spec import load_run_file

    spec = load_run_file(args.file)
    with _quiet_tensorflow_import():
        _quiet_libraries()
        from autotune.engine import RunOptions, run

    options = RunOptions(
        trials=args.trials,
        budget=args.budget,
        study=args.study,
        storage=args.storage,
        results_dir=args.results_dir,
        seed=args.seed,
        workers=args.workers,
        worker=args.command == "worker",
        join=bool(getattr(args, "join", False)),
    )
    from autotune._progress import Progress

    console.print(f"autotune: {args.command}: [bold]{args.file}[/bold]")
    total = args.trials or spec.search.trials
    budget = args.budget if args.budget is not None else spec.search.budget
    with _data_lines(), Progress(console, total=total, budget=budget) as progress:
        report = run(spec, options, on_event=progress)
    if options.worker:
        console.print(
            f"worker stopped: the study {report.study!r} holds {report.done}/{report.total} trials"
        )
        if report.running_elsewhere:
            console.print(_elsewhere(report), soft_wrap=True)
        console.print(f"storage: {report.storage}")
    else:
        _print_summary(report)
    return EXIT_INTERRUPTED if report.interrupted else EXIT_OK


class _DataLines(logging.Handler):
    """Prints what the data loaders say at INFO and above (the split, the path taken, the cache
    pass's progress) as ``data: ...`` lines."""

    def emit(self, record: logging.LogRecord) -> None:
        console.print(f"data: {record.getMessage()}", markup=False, soft_wrap=True)


@contextmanager
def _data_lines() -> Iterator[None]:
    """While a run runs, the data loaders' lines go to the terminal (and not twice)."""
    logger = logging.getLogger("autotune.data")
    handler = _DataLines(logging.INFO)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _quiet_libraries() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for name in ("absl", "tensorflow"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def _print_summary(report: RunReport) -> None:
    if report.abandoned:
        console.print(f"marked abandoned (FAIL): trials {report.abandoned}")
    console.print(_leaderboard(report.ranked, report.rank_by))
    if not report.ranked:
        console.print("no trial completed: trials.csv gives each trial's end reason")
    if report.test_accuracy is not None and report.ranked:
        console.print(
            f"test accuracy of trial {report.ranked[0].number}: {report.test_accuracy:.4f}"
        )
    state = "interrupted" if report.interrupted else "done"
    if report.running_elsewhere and not report.interrupted:
        state = "this run is done"
    console.print(f"{state}: {report.done}/{report.total} trials in study {report.study!r}")
    if report.running_elsewhere:
        console.print(_elsewhere(report), soft_wrap=True)
    console.print(f"storage: {report.storage}", soft_wrap=True)
    for path in report.files:
        console.print(f"wrote {path}", soft_wrap=True)
    _print_review(report.directory, report.files)


def _elsewhere(report: RunReport) -> str:
    """The line that says a study is not finished: trials still run in other processes."""
    count = report.running_elsewhere
    trials = "trial is" if count == 1 else "trials are"
    return (
        f"{count} {trials} still running in another process or machine: not in this "
        f"leaderboard yet; `autotune report {report.directory}` ranks the study once they end"
    )


def _print_review(directory: Path, files: Sequence[Path]) -> None:
    if any(path.name == "report.html" for path in files):
        report = directory / "report.html"
        console.print(
            f"review: open {report}, or run: autotune dashboard {directory}", soft_wrap=True
        )


def _leaderboard(ranked: Sequence[RankedTrial], rank_by: str, limit: int = 10) -> Table:
    table = Table(title=f"leaderboard (ranked by {rank_by.replace('_', ' ')})")
    for column in ("rank", "trial", "accuracy", "seconds", "acc/s", "pareto"):
        table.add_column(column, justify="right")
    for row in ranked[:limit]:
        table.add_row(
            str(row.rank),
            str(row.number) + (" (partial)" if row.partial else ""),
            f"{row.accuracy:.4f}",
            f"{row.wall_seconds:.1f}",
            f"{row.accuracy_per_second:.4f}",
            "*" if row.pareto else "",
        )
    return table


def _report(args: argparse.Namespace) -> int:
    from autotune.results import rewrite

    try:
        written = rewrite(args.target, study=args.study, results_dir=args.results_dir)
    except ValueError as error:
        errors.print(f"error: {error}", soft_wrap=True, markup=False)
        return EXIT_USAGE
    console.print(_leaderboard(written.ranked, "the study's rank: rule"))
    for path in written.files:
        console.print(f"wrote {path}", soft_wrap=True)
    if written.report is not None:
        _print_review(written.report.html.parent, written.files)
    return EXIT_OK


def _studies(args: argparse.Namespace) -> int:
    from autotune.results import list_studies

    try:
        summaries = list_studies(args.target)
    except ValueError as error:
        errors.print(f"error: {error}", soft_wrap=True, markup=False)
        return EXIT_USAGE
    table = Table(title="studies")
    for column in ("study", "goal", "complete", "pruned", "fail", "running", "waiting"):
        table.add_column(column, justify="left" if column in ("study", "goal") else "right")
    table.add_column("best", justify="right", no_wrap=True)
    for row in summaries:
        if row.pareto_size is not None:
            best = f"Pareto: {row.pareto_size}"
        elif row.best_number is not None and row.best_value is not None:
            best = f"#{row.best_number}: {row.best_value:.4g}"
        else:
            best = "-"
        table.add_row(
            row.name,
            ",".join(d[:3] for d in row.directions),
            *(
                str(row.states.get(s, 0))
                for s in ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")
            ),
            best,
        )
    console.print(table if summaries else "no studies")
    return EXIT_OK


def _dashboard(args: argparse.Namespace) -> int:
    from autotune.results import check_storage, storage_url

    try:
        storage = storage_url(args.target)
        check_storage(storage)  # before the dashboard opens it: Optuna would add its tables
    except ValueError as error:
        errors.print(f"error: {error}", soft_wrap=True, markup=False)
        return EXIT_USAGE
    try:
        from optuna_dashboard import run_server
    except ImportError:  # pragma: no cover - a dependency, but say how to fix a broken install
        errors.print("error: optuna-dashboard is not installed: pip install optuna-dashboard")
        return EXIT_USAGE
    console.print(f"Optuna Dashboard on http://{args.host}:{args.port}/ (Ctrl-C to stop)")
    run_server(storage, host=args.host, port=args.port)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

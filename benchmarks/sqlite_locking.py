"""How should several local workers share one SQLite study? Errors, double pops, trials/second.

Each of P processes pops reserved trials (``autotune.engine.reserved._tickets.pop``) from one study
until none is left, and for each writes what a real trial writes (8 user attrs, 3 intermediate
values, ``tell``) and reads the study once (as a worker ranks its result). Compared, in the
same run:

- ``optuna-default``: ``optuna.load_study(storage="sqlite:///...")`` as Optuna opens it.
- ``immediate``: every transaction, reads included, begins ``BEGIN IMMEDIATE`` and waits in
  SQLite's busy handler (what ``storage_for`` did until session 4).
- ``queued``: ``autotune.engine.storage_for`` (``LocalSQLiteStorage``): writes begin
  ``BEGIN IMMEDIATE`` after queueing on a lock file, reads begin a deferred ``BEGIN``;
  rollback journal.
- ``queued-wal``: the same with ``journal_mode=WAL``.
- ``journal-file``: Optuna's ``JournalStorage`` on a ``JournalFileBackend`` (a log file + lock).

A failure is any storage exception a worker sees ("database is locked" and friends); a double
pop is a trial that two processes both claimed. Usage::

    python benchmarks/sqlite_locking.py               # 4 processes x 160 trials, 3 repeats
    python benchmarks/sqlite_locking.py --smoke       # seconds; what the test runs
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MECHANISMS = ("optuna-default", "immediate", "queued", "queued-wal", "journal-file")
RESULTS = Path(__file__).resolve().parent / "results"


def _storage(mechanism: str, path: Path) -> Any:
    import optuna

    from autotune.engine.storages._local import storage_for

    if mechanism == "optuna-default":
        return f"sqlite:///{path}"
    if mechanism == "immediate":
        return _immediate(f"sqlite:///{path}")
    if mechanism == "queued":
        return storage_for(f"sqlite:///{path}")
    if mechanism == "queued-wal":
        return storage_for(f"sqlite:///{path}", journal="wal")
    backend = optuna.storages.journal.JournalFileBackend(str(path) + ".log")
    return optuna.storages.JournalStorage(backend)


def _immediate(url: str) -> Any:
    """The storage ``storage_for`` gave until session 4: ``BEGIN IMMEDIATE`` for every
    transaction, waiting only in SQLite's busy handler."""
    import optuna
    from sqlalchemy import event

    storage = optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 120.0}})

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(storage.engine, "connect", on_connect)
    event.listen(storage.engine, "begin", on_begin)
    storage.engine.dispose()
    return storage


def _worker(mechanism: str, path: str, queue: Any, ready: Any, go: Any) -> None:
    import optuna

    from autotune.engine.reserved._tickets import pop

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    ready.release()
    go.wait()
    popped: list[int] = []
    errors: list[str] = []
    study = optuna.load_study(study_name="lock", storage=_storage(mechanism, Path(path)))
    while True:
        try:
            trial = pop(study)
        except Exception as error:  # a locked database, and the like
            errors.append(f"pop: {type(error).__name__}: {str(error.__cause__ or error)[:80]}")
            if len(errors) > 50:
                break
            continue
        if trial is None:
            break
        popped.append(trial.number)
        try:
            x = trial.suggest_float("x", -1.0, 1.0)
            for i in range(8):
                trial.set_user_attr(f"attr{i}", [x, i])
            for step in range(3):
                trial.report(x * step, step)
            study.tell(trial, x * x)
            study.get_trials(deepcopy=False)
        except Exception as error:
            errors.append(f"trial: {type(error).__name__}: {str(error.__cause__ or error)[:80]}")
    queue.put((popped, errors))


def measure(mechanism: str, processes: int, trials: int) -> dict[str, Any]:
    import optuna

    from autotune.engine.reserved._tickets import reserve

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "study.db"
        study = optuna.create_study(study_name="lock", storage=_storage(mechanism, path))
        reserve(study, trials)
        context = mp.get_context("spawn")
        queue, ready, go = context.Queue(), context.Semaphore(0), context.Event()
        workers = [
            context.Process(target=_worker, args=(mechanism, str(path), queue, ready, go))
            for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        for _ in workers:  # imports are not what is measured
            ready.acquire()
        started = time.perf_counter()
        go.set()
        outcomes = [queue.get(timeout=600) for _ in workers]
        seconds = time.perf_counter() - started
        for worker in workers:
            worker.join()
        popped = [n for p, _ in outcomes for n in p]
        errors = [e for _, e in outcomes for e in e]
        states = [
            t.state.name
            for t in optuna.load_study(
                study_name="lock", storage=_storage(mechanism, path)
            ).get_trials(deepcopy=False)
        ]
    return {
        "mechanism": mechanism,
        "processes": processes,
        "trials": trials,
        "seconds": seconds,
        "trials_per_second": trials / seconds,
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:3],
        "double_pops": len(popped) - len(set(popped)),
        "complete": states.count("COMPLETE"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--trials", type=int, default=160)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="2 processes, 12 trials, 1 repeat")
    parser.add_argument("--out", type=Path, default=RESULTS / "sqlite_locking.json")
    args = parser.parse_args(argv)
    if args.smoke:
        args.processes, args.trials, args.repeats = 2, 12, 1
    rows = []
    for mechanism in MECHANISMS:
        runs = [measure(mechanism, args.processes, args.trials) for _ in range(args.repeats)]
        rows.append(
            {
                "mechanism": mechanism,
                "median_trials_per_second": statistics.median(r["trials_per_second"] for r in runs),
                "errors": sum(r["errors"] for r in runs),
                "double_pops": sum(r["double_pops"] for r in runs),
                "complete_of_reserved": f"{sum(r['complete'] for r in runs)}/"
                f"{args.trials * args.repeats}",
                "runs": runs,
            }
        )
    print(f"{args.processes} processes x {args.trials} trials, {args.repeats} repeats")
    print(f"{'mechanism':16} {'trials/s':>9} {'errors':>7} {'double pops':>12} {'complete':>10}")
    for row in rows:
        print(
            f"{row['mechanism']:16} {row['median_trials_per_second']:9.1f} {row['errors']:7d} "
            f"{row['double_pops']:12d} {row['complete_of_reserved']:>10}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"argv": sys.argv[1:], "rows": rows}, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

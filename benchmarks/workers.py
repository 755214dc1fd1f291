"""Trials per minute with 1 vs 2 worker processes (and in-process) for a small model on this CPU.

Each configuration runs the same small study (an MLP on scikit-learn's digits, random sampler,
no pruner) from scratch. Throughput is trials / (last trial's end - first trial's start), read
from the study's own timestamps, so process start-up and data loading are not counted; the
end-to-end seconds of the whole run are reported too. Medians over ``--repeats``; the ratio is
2-worker throughput over 1-worker throughput.

    python benchmarks/workers.py                 # 48 trials x 3 epochs, 3 repeats
    python benchmarks/workers.py --smoke         # seconds-to-a-minute; what the test runs

Run it on a quiet machine: other processes on the same cores change the ratio. Each worker
traces its own models (compiled models are kept per process), so a short study measures
mostly that warm-up: 48 trials (about 0.25 s each here) measure the steady state; ``--trials
12`` was the default until trials got that short.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
CONFIGS: dict[str, int | None] = {"in-process": None, "1 worker": 1, "2 workers": 2}


def run_file(trials: int, epochs: int) -> dict[str, Any]:
    return {
        "study": "bench",
        "seed": 0,
        "data": {"dataset": "digits", "validation_size": 300, "test": False},
        "model": "mlp",
        "space": {
            "depth": 1,
            "width": [32, 64],
            "learning_rate": {"low": 1e-3, "high": 1e-2, "log": True},
            "batch_size": 32,
        },
        "train": {"epochs": epochs},
        "search": {"sampler": "random", "pruner": "none", "trials": trials},
    }


def measure(workers: int | None, trials: int, epochs: int, seed: int) -> dict[str, Any]:
    from autotune.spec import load_run_mapping

    return throughput(load_run_mapping(run_file(trials, epochs)), workers, seed)


def throughput(spec: Any, workers: int | None, seed: int) -> dict[str, Any]:
    """Run ``spec`` (study "bench") from scratch in a temporary folder: its trials per minute
    between the first trial's start and the last one's end, and the run's wall seconds."""
    import optuna

    from autotune.engine import RunOptions, run

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = run(spec, RunOptions(results_dir=Path(tmp), workers=workers, seed=seed))
        wall = time.perf_counter() - started
        done = optuna.load_study(study_name="bench", storage=report.storage).trials
    first = min(t.datetime_start for t in done if t.datetime_start)
    last = max(t.datetime_complete for t in done if t.datetime_complete)
    span = (last - first).total_seconds()
    return {
        "trials": len(done),
        "complete": sum(t.state.name == "COMPLETE" for t in done),
        "span_seconds": span,
        "wall_seconds": wall,
        "trials_per_minute": 60.0 * len(done) / span,
    }


def summarize(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Each configuration's median trials per minute and wall seconds, with its runs."""
    return {
        name: {
            "median_trials_per_minute": statistics.median(r["trials_per_minute"] for r in runs),
            "median_wall_seconds": statistics.median(r["wall_seconds"] for r in runs),
            "runs": runs,
        }
        for name, runs in rows.items()
    }


def print_table(summary: dict[str, Any]) -> None:
    """Each configuration's median trials per minute and run seconds, a line each."""
    width = max(len("configuration"), *(len(name) for name in summary))
    print(f"{'configuration':{width}} {'trials/min':>11} {'run seconds':>12}")
    for name, row in summary.items():
        tpm, wall = row["median_trials_per_minute"], row["median_wall_seconds"]
        print(f"{name:{width}} {tpm:11.1f} {wall:12.1f}")


def save(out: Path, summary: dict[str, Any], **fields: Any) -> None:
    """Write the summary as JSON with the command line, the CPUs, the load and ``fields``."""
    document = {
        "argv": sys.argv[1:],
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        **fields,
        "configurations": summary,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=48)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="2 trials, 1 epoch, 1 repeat")
    parser.add_argument("--out", type=Path, default=RESULTS / "workers.json")
    args = parser.parse_args(argv)
    if args.smoke:
        args.trials, args.epochs, args.repeats = 2, 1, 1
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    rows: dict[str, Any] = {}
    for repeat in range(args.repeats):
        for name, workers in CONFIGS.items():  # interleaved, so load changes hit all alike
            rows.setdefault(name, []).append(measure(workers, args.trials, args.epochs, repeat))
    summary = summarize(rows)
    one = summary["1 worker"]["median_trials_per_minute"]
    two = summary["2 workers"]["median_trials_per_minute"]
    ratio = two / one if one else float("nan")
    print(
        f"{args.trials} trials x {args.epochs} epochs, {args.repeats} repeats, "
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})"
    )
    print_table(summary)
    print(f"2 workers / 1 worker: {ratio:.2f}x")
    save(args.out, summary, ratio_2_over_1=ratio)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

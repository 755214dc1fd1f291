"""Trials per minute over a long study of tiny trials: what scales with the study's length.

Two costs grew with a study's length and are compared here with and without their fix, in
the same run (interleaved, medians over ``--repeats``):

- **Worker recycling.** A worker is replaced after ``train.max_trials_per_worker`` trials (50 by
  default), and a fresh process spent ~4.4 s here importing TensorFlow before its first trial.
  ``1 worker, started ahead`` (the default) starts the successor while the worker runs its last
  trials (``autotune.engine.workers._pool.START_AHEAD``); ``1 worker, started on exit`` starts it
  when the worker has exited, as before.
- **Reserved tickets.** Optuna's RDB storage re-reads every WAITING trial on each read of the
  study. ``in-process, 16 tickets`` (the default) holds at most 16 reserved trials at a time;
  ``in-process, all tickets`` reserves the whole total up front, as before. (The window is
  compared in-process because worker processes cannot be handed another window.)

Throughput is trials / (last trial's end - first trial's start), from the study's timestamps.

    python benchmarks/long_study.py              # 300 trials x 1 epoch, 3 repeats
    python benchmarks/long_study.py --smoke      # seconds; what the test runs
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import warnings
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.workers import print_table, run_file, save, summarize, throughput

RESULTS = Path(__file__).resolve().parent / "results"
CONFIGS: dict[str, dict[str, Any]] = {
    "1 worker, started ahead": {"workers": 1, "ahead": True},
    "1 worker, started on exit": {"workers": 1, "ahead": False},
    "in-process, 16 tickets": {"workers": None, "window": None},
    "in-process, all tickets": {"workers": None, "window": 10**9},
}
PAIRS = {
    "recycling: started ahead / on exit": ("1 worker, started ahead", "1 worker, started on exit"),
    "tickets: 16 / all up front": ("in-process, 16 tickets", "in-process, all tickets"),
}


def measure(config: dict[str, Any], trials: int, epochs: int, per_worker: int) -> dict[str, Any]:
    from autotune.engine.reserved import _claim as _shared
    from autotune.engine.workers import _pool as _workers
    from autotune.spec import load_run_mapping

    document = run_file(trials, epochs)
    document["train"]["max_trials_per_worker"] = per_worker
    saved = _workers.START_AHEAD, _shared.WINDOW
    _workers.START_AHEAD = config.get("ahead", True)
    _shared.WINDOW = config.get("window") or saved[1]
    try:
        return throughput(load_run_mapping(document), config["workers"], seed=0)
    finally:
        _workers.START_AHEAD, _shared.WINDOW = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--per-worker", type=int, default=50, help="max_trials_per_worker")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="6 trials, 3 per worker, 1 repeat")
    parser.add_argument("--out", type=Path, default=RESULTS / "long_study.json")
    args = parser.parse_args(argv)
    if args.smoke:
        args.trials, args.per_worker, args.repeats = 6, 3, 1
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    rows: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.repeats):
        for name, config in CONFIGS.items():  # interleaved, so load changes hit all alike
            result = measure(config, args.trials, args.epochs, args.per_worker)
            rows.setdefault(name, []).append(result)
    summary = summarize(rows)
    ratios = {
        label: summary[new]["median_trials_per_minute"] / summary[old]["median_trials_per_minute"]
        for label, (new, old) in PAIRS.items()
    }
    print(
        f"{args.trials} trials x {args.epochs} epoch(s), max_trials_per_worker "
        f"{args.per_worker}, {args.repeats} repeats, {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()})"
    )
    print_table(summary)
    for label, ratio in ratios.items():
        print(f"{label}: {ratio:.2f}x")
    save(args.out, summary, ratios=ratios)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What a group of processes per trial costs on one machine: ``processes_per_trial`` 1 vs 2.

The same fixed configuration (nothing sampled) trains as one process (Keras ``fit``, autotune's
defaults) and as a group of two processes on 127.0.0.1 (MultiWorkerMirroredStrategy, autotune's
distributed step, each process half the cores), one after the other, order alternating by
seed. Each run is ``autotune run`` on a run file a user would write (two trials, the second
one reported: the first includes the group's start-up), so process start-up is outside the
trial's seconds; the whole run's seconds are reported too.

    python -m benchmarks.groups                # digits MLP and a Fashion-MNIST CNN, 3 seeds
    python -m benchmarks.groups --smoke        # one seed, digits only; what the test runs

On one machine a group does not pay: the same cores now also exchange every gradient through
gRPC, and the step runs one batch per call. A group pays when one trial needs the devices of
several machines.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks._common import (
    FASHION,
    ROOT,
    child_env,
    emit,
    machine,
    ordered,
    parser,
    spread,
    summary,
    table,
    write,
)

MODES = {"1 process": 1, "group of 2": 2}


def run_file(model: str, processes: int, *, smoke: bool) -> dict[str, Any]:
    """The run file of one benchmark run: a user's file, with the configuration fixed."""
    if model == "mlp":
        data: dict[str, Any] = {"dataset": "digits", "validation_size": 300, "test": False}
        space: dict[str, Any] = {"depth": 2, "width": 64, "learning_rate": 0.003}
        epochs = 3 if smoke else 10
    else:
        data = {
            "dataset": "fashion_mnist",
            "path": FASHION,
            "train_size": 6000,
            "validation_size": 2000,
            "test": False,
        }
        space = {"depth": 2, "width": 32, "learning_rate": 0.001}
        epochs = 3
    return {
        "study": "bench",
        "seed": 0,
        "data": data,
        "model": model,
        "space": {**space, "optimizer": "adam", "batch_size": 64},
        "train": {"epochs": epochs, "processes_per_trial": processes},
        "search": {"sampler": "random", "pruner": "none", "trials": 2},
    }


def child(model: str, processes: int, smoke: bool) -> None:
    """One ``autotune run`` of the fixed configuration; emits its second trial's numbers."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "bench.yaml"
        path.write_text(yaml.safe_dump(run_file(model, processes, smoke=smoke)))
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "autotune", "run", str(path), "--results-dir", scratch],
            cwd=ROOT,
            env=child_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - began
        if done.returncode != 0:
            emit({"error": done.stderr.strip().splitlines()[-1:]})
            return
        with (Path(scratch) / "bench" / "trials.csv").open() as handle:
            rows = list(csv.DictReader(handle))
    second = rows[-1]
    emit(
        {
            "trial_seconds": float(second["wall_seconds"]),
            "examples_per_second": float(second["examples_per_second"]),
            "accuracy": float(second["accuracy"]),
            "run_seconds": seconds,
        }
    )


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", choices=["mlp", "cnn"], action="append")
    p.add_argument("--processes", type=int, default=1, help="child: processes per trial")
    args = p.parse_args(argv)
    models = args.model or (["mlp"] if args.smoke else ["mlp", "cnn"])
    if args.child:
        child(models[0], args.processes, args.smoke)
        return 0
    from benchmarks._common import run_child

    seeds = args.seeds or (1 if args.smoke else 3)
    started = machine()
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for model in models:
        results[model] = {mode: [] for mode in MODES}
        for seed in range(seeds):
            for mode in ordered(list(MODES), seed):
                flags = ["--model", model, "--processes", str(MODES[mode])]
                flags += ["--smoke"] if args.smoke else []
                result = run_child("benchmarks.groups", flags, timeout=1800)
                results[model][mode].append(result)
                print(model, mode, seed, result, flush=True)
    rows, document = [], {"machine": started, "seeds": seeds, "models": {}}
    for model, modes in results.items():
        stats: dict[str, Any] = {}
        for mode, runs in modes.items():
            stats[mode] = {
                key: summary(r.get(key) for r in runs)
                for key in ("trial_seconds", "examples_per_second", "accuracy", "run_seconds")
            }
        ratios = [
            one["trial_seconds"] / two["trial_seconds"]
            for one, two in zip(modes["1 process"], modes["group of 2"], strict=True)
            if "trial_seconds" in one and "trial_seconds" in two
        ]
        stats["speed_ratio_group_over_one"] = summary(ratios)
        document["models"][model] = {"stats": stats, "runs": modes}
        for mode in MODES:
            s = stats[mode]
            rows.append(
                [
                    model,
                    mode,
                    spread(s["trial_seconds"], 1),
                    spread(s["examples_per_second"]),
                    spread(s["accuracy"], 4),
                    spread(s["run_seconds"], 1),
                    spread(stats["speed_ratio_group_over_one"], 2) if mode != "1 process" else "1",
                ]
            )
    headers = ["model", "mode", "trial s", "ex/s", "val acc", "run s", "speed vs 1"]
    print(table(headers, rows))
    print("wrote", write("groups", document, out=args.out, smoke=args.smoke))
    return 0


if __name__ == "__main__":
    sys.exit(main())

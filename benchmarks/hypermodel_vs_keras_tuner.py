"""The same KerasTuner HyperModel tuned by keras_tuner.RandomSearch and by autotune.tune.

The HyperModel is KerasTuner's "getting started" model (layers, units with a step, activation,
dropout, log-scaled learning rate) on scikit-learn's digits. Each configuration runs the same
number of trials and epochs in a fresh Python process (so TensorFlow start-up and earlier runs
do not favour anyone) and reports the search's wall seconds (model building, training and each
tuner's own bookkeeping, not process start-up), seconds per trial, the best validation
accuracy found, and the process's resident memory after the search. Medians over
``--repeats``; ratios are autotune over KerasTuner.

    python benchmarks/hypermodel_vs_keras_tuner.py            # 12 trials x 4 epochs, 3 repeats
    python benchmarks/hypermodel_vs_keras_tuner.py --smoke    # seconds; what the test runs

Configurations: ``keras_tuner.RandomSearch``; ``autotune random`` (random sampler, no pruner:
the same search); ``autotune tpe+hyperband`` (autotune's defaults, which prune).
Run it on a quiet machine: other processes on the same cores change the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
CONFIGS = ("keras_tuner.RandomSearch", "autotune random", "autotune tpe+hyperband")


def build_model(hp: Any) -> Any:
    import keras

    model = keras.Sequential([keras.Input((64,))])
    for i in range(hp.Int("num_layers", 1, 3)):
        model.add(
            keras.layers.Dense(
                hp.Int(f"units_{i}", 32, 256, step=32),
                activation=hp.Choice("activation", ["relu", "tanh"]),
            )
        )
    if hp.Boolean("dropout"):
        model.add(keras.layers.Dropout(0.25))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def one(config: str, trials: int, epochs: int, seed: int) -> dict[str, Any]:
    """Run one configuration in this process and measure it."""
    import psutil
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    data, validation = (x[:1400], y[:1400]), (x[1400:], y[1400:])
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        if config == "keras_tuner.RandomSearch":
            import keras_tuner as kt

            tuner = kt.RandomSearch(
                build_model,
                objective="val_accuracy",
                max_trials=trials,
                seed=seed,
                directory=tmp,
                project_name="bench",
            )
            tuner.search(*data, validation_data=validation, epochs=epochs, verbose=0)
            wall = time.perf_counter() - started
            best = tuner.oracle.get_best_trials(1)[0]
            accuracy = float(best.metrics.get_last_value("val_accuracy"))
            done = len(tuner.oracle.trials)
        else:
            import autotune as at

            sampler, pruner = ("random", "none") if "random" in config else ("tpe", "hyperband")
            study = at.tune(
                build_model,
                data=data,
                validation=validation,
                trials=trials,
                epochs=epochs,
                sampler=sampler,
                pruner=pruner,
                rank="accuracy",
                seed=seed,
                results_dir=tmp,
            )
            wall = time.perf_counter() - started
            result = study.best_result
            accuracy = float(result.accuracy or 0.0) if result else 0.0
            done = study.report.done
    rss = psutil.Process().memory_info().rss / 2**20
    return {
        "trials": done,
        "wall_seconds": wall,
        "seconds_per_trial": wall / max(done, 1),
        "best_val_accuracy": accuracy,
        "rss_mib": rss,
    }


def measure(config: str, trials: int, epochs: int, seed: int) -> dict[str, Any]:
    """Run one configuration in a fresh Python process."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, __file__, "--one", config, "--trials", str(trials),
         "--epochs", str(epochs), "--seed", str(seed)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{config} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="2 trials, 1 epoch, 1 repeat")
    parser.add_argument("--out", type=Path, default=RESULTS / "hypermodel_vs_keras_tuner.json")
    parser.add_argument("--one", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        import logging

        logging.disable(logging.WARNING)
        print(json.dumps(one(args.one, args.trials, args.epochs, args.seed)))
        return
    if args.smoke:
        args.trials, args.epochs, args.repeats = 2, 1, 1
    rows: dict[str, dict[str, Any]] = {name: {"runs": []} for name in CONFIGS}
    for repeat in range(args.repeats):
        order = CONFIGS if repeat % 2 == 0 else tuple(reversed(CONFIGS))
        for name in order:
            rows[name]["runs"].append(measure(name, args.trials, args.epochs, args.seed + repeat))
    for row in rows.values():
        for key in ("wall_seconds", "seconds_per_trial", "best_val_accuracy", "rss_mib"):
            row[f"median_{key}"] = statistics.median(run[key] for run in row["runs"])
    base = rows["keras_tuner.RandomSearch"]
    print(f"{args.trials} trials x {args.epochs} epochs, median of {args.repeats} "
          f"({platform.processor() or platform.machine()}, {os.cpu_count()} cpus)")  # fmt: skip
    print(f"{'configuration':<26}{'wall s':>9}{'s/trial':>9}{'best acc':>10}{'RSS MiB':>9}"
          f"{'wall / kt':>11}")  # fmt: skip
    for name, row in rows.items():
        ratio = row["median_wall_seconds"] / base["median_wall_seconds"]
        print(
            f"{name:<26}{row['median_wall_seconds']:>9.1f}{row['median_seconds_per_trial']:>9.2f}"
            f"{row['median_best_val_accuracy']:>10.3f}{row['median_rss_mib']:>9.0f}{ratio:>11.2f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "benchmark": "hypermodel_vs_keras_tuner",
                "trials": args.trials,
                "epochs": args.epochs,
                "repeats": args.repeats,
                "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                "configurations": rows,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: how high the ``cnn`` family gets on the search-efficiency split, by epoch.

A search can only find what its model family reaches. This trains a few strong fixed
configurations of ``search_spaces/fashion_cnn.yaml``'s space (Fashion-MNIST, 12,000 training
and 3,000 validation examples, the split of seed 0) through ``autotune run``, each for more
epochs than the file's 9, with no pruner and no budget, and reports every configuration's
validation accuracy after epoch 9 and after the last, its best epoch and the trial's wall
seconds. Each configuration runs in a child process of its own. No tuner runs and none is
compared: the configurations are picked by hand, on purpose, to bound what any search of this
space can find (the search benchmarks' headlines stay plain run files beside their peers). Run::

    python -m benchmarks.family_ceiling                 # 5 configurations, 16 epochs
    python -m benchmarks.family_ceiling --epochs 9 --configs speed_first
    python -m benchmarks.family_ceiling --smoke         # seconds: tiny data, 2 epochs
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from benchmarks._common import FASHION, ROOT, emit, finish, machine, parser, run_child, table

NAME = "family_ceiling"

CONFIGS: dict[str, dict[str, Any]] = {
    # the space's default region (what autotune's first trial trains without start_with)
    "default_region": {"depth": 2, "width": 32, "optimizer": "adam", "learning_rate": 1e-3},
    "wide": {
        "depth": 2,
        "width": 64,
        "dropout": 0.2,
        "initializer": "he_normal",
        "normalization": "standardize",
        "optimizer": "adam",
        "learning_rate": 1e-3,
    },
    # search_spaces/fashion_speed.yaml's second start_with (its first until 2026-12-07)
    "speed_first": {
        "depth": 3,
        "width": 32,
        "dropout": 0.1,
        "optimizer": "adam",
        "learning_rate": 2e-3,
    },
    # the space's default configuration with residual blocks instead of plain ones
    "default_residual": {
        "depth": 2,
        "width": 32,
        "connection": "residual",
        "l2": 1e-6,
        "optimizer": "adam",
        "learning_rate": 1e-3,
    },
    # two 3x3 convolutions per block
    "residual": {
        "depth": 2,
        "width": 32,
        "connection": "residual",
        "dropout": 0.2,
        "normalization": "standardize",
        "optimizer": "adam",
        "learning_rate": 1e-3,
    },
}
COMMON = {"batch_size": 64, "l2": 1e-5}
FILE_EPOCHS = 9
"""The epochs ``fashion_cnn.yaml`` trains each trial for: the mark the table reports first."""


def run_file(name: str, epochs: int, smoke: bool) -> dict[str, Any]:
    """The run file that trains configuration ``name`` alone for ``epochs`` epochs."""
    document = yaml.safe_load((ROOT / "search_spaces" / "fashion_cnn.yaml").read_text())
    document["study"] = f"ceiling-{name.replace('_', '-')}"
    document["space"] = {**COMMON, **CONFIGS[name]}
    document["train"]["epochs"] = epochs
    document["search"] = {"sampler": "random", "pruner": "none", "trials": 1}
    document["data"]["test"] = False
    if smoke:
        document["data"].update(train_size=600, validation_size=300)
    if not Path(FASHION).exists():  # a machine without the Debian package: digits, labelled
        document["data"] = {"dataset": "digits", "validation_split": 0.2}
    return document


def child(name: str, epochs: int, smoke: bool) -> None:
    import optuna

    from autotune.engine import RunOptions, run
    from autotune.spec import load_run_mapping

    document = run_file(name, epochs, smoke)
    with tempfile.TemporaryDirectory() as scratch:
        report = run(load_run_mapping(document), RunOptions(results_dir=Path(scratch)))
        (trial,) = optuna.load_study(study_name=report.study, storage=report.storage).trials
    curve = [float(accuracy) for _, accuracy in trial.user_attrs.get("curve", [])]
    emit(
        {
            "dataset": document["data"]["dataset"],
            "curve": curve,
            "seconds": trial.user_attrs.get("wall_seconds"),
            "end": trial.user_attrs.get("end"),
        }
    )


def _at(curve: list[float], epoch: int) -> str:
    return f"{curve[epoch - 1]:.4f}" if len(curve) >= epoch else "-"


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__ or NAME)
    p.add_argument("--configs", nargs="*", choices=list(CONFIGS), default=None)
    p.add_argument("--epochs", type=int, default=None, help="epochs per configuration")
    p.add_argument("--config", help="(child) configuration")
    args = p.parse_args(argv)
    epochs = args.epochs or (2 if args.smoke else 16)
    if args.child:
        child(args.config, epochs, args.smoke)
        return 0
    names = args.configs or (["speed_first"] if args.smoke else list(CONFIGS))
    runs: list[dict[str, Any]] = []
    for name in names:
        child_args = ["--config", name, "--epochs", str(epochs)]
        child_args += ["--smoke"] if args.smoke else []
        result = run_child("benchmarks." + NAME, child_args, timeout=3600)
        runs.append({"config": name, "values": {**COMMON, **CONFIGS[name]}, **result})
        print(f"{name}: {result.get('curve', result.get('error'))}", file=sys.stderr)
    rows = []
    for r in runs:
        curve: list[float] = r.get("curve") or []
        best = max(range(len(curve)), key=curve.__getitem__) if curve else None
        rows.append(
            [
                r["config"],
                _at(curve, FILE_EPOCHS),
                _at(curve, len(curve)) if curve else "-",
                "-" if best is None else f"{curve[best]:.4f} (epoch {best + 1})",
                "-" if r.get("seconds") is None else f"{r['seconds']:.0f}",
            ]
        )
    headers = ["configuration", f"val @ epoch {FILE_EPOCHS}", f"val @ last ({epochs})", "best"]
    text = table([*headers, "s"], rows)
    print(text)
    return finish(
        NAME,
        {
            "benchmark": NAME,
            "smoke": args.smoke,
            "epochs": epochs,
            "machine": machine(),
            "runs": runs,
            "table": text,
        },
        runs,
        out=args.out,
        smoke=args.smoke,
    )


if __name__ == "__main__":
    sys.exit(main())

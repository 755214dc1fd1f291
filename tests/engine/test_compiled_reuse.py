"""Trials that share a model's shape reuse one compiled model, and the results do not change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import optuna

from autotune.engine import RunOptions, run
from autotune.spec import load_run_file

SPACE = {
    "depth": 1,
    "width": 16,
    "optimizer": "adam",
    "momentum": 0.0,
    "learning_rate": {"low": 1.0e-3, "high": 3.0e-2, "log": True},
    "batch_size": [32, 64],
    "initializer": ["glorot_uniform", "he_normal"],
}


def _accuracies(tmp_path: Path, run_file: Callable[..., Path], reuse: bool) -> list[dict]:
    path = run_file(
        f"reuse_{reuse}.yaml",
        space=SPACE,
        train={"epochs": 2, "reuse_compiled": reuse},
        search={"trials": 5},
        data={"test": False},
    )
    report = run(load_run_file(path), RunOptions(results_dir=tmp_path / f"out_{reuse}"))
    study = optuna.load_study(study_name=report.study, storage=report.storage)
    return [
        {
            "params": t.params,
            "accuracy": t.user_attrs["accuracy"],
            "reused": t.user_attrs["reused_compiled"],
        }
        for t in sorted(study.get_trials(), key=lambda t: t.number)
    ]


def test_reusing_compiled_models_changes_no_trial_result(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    kept = _accuracies(tmp_path, run_file, reuse=True)
    fresh = _accuracies(tmp_path, run_file, reuse=False)
    # one model shape: the first trial compiles it, every later one reuses it
    assert [t["reused"] for t in kept] == [False, True, True, True, True]
    assert not any(t["reused"] for t in fresh)
    assert [t["params"] for t in kept] == [t["params"] for t in fresh]
    for a, b in zip(kept, fresh, strict=True):
        assert abs(a["accuracy"] - b["accuracy"]) < 1e-6, (a, b)

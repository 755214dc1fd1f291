"""Each reach into Optuna's private API has a public fallback: remove the private hook and a
study still runs and records every trial (``autotune/_private/_optuna.py``)."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

import autotune as at
from autotune._private import _optuna

HOOKS = ["TRIAL_ID", "STUDY_ID", "CACHE_BACKEND", "THREAD_LOCAL", "RDB_MODELS", "RDB_STORAGE"]


def _objective(config: at.TrialConfig, ctx: at.TrialContext) -> float:
    accuracy = 0.5
    for epoch in range(1, 4):
        accuracy = 0.5 + 0.1 * epoch * float(config["x"])
        if ctx.report(accuracy, epoch):
            break
    return accuracy


@pytest.mark.parametrize("hook", HOOKS)
def test_a_study_runs_with_the_private_hook_gone(
    hook: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_optuna, hook, "_no_such_attribute_in_this_optuna")
    study = at.tune(
        at.Space(x=at.Float(0.0, 1.0)),
        objective=_objective,
        trials=6,
        budget="60s",  # the time-aware pruner (trial and study ids) is the default with a budget
        results_dir=tmp_path,
        study="gone",
    )
    trials = study.optuna.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    pruned = study.optuna.get_trials(states=(optuna.trial.TrialState.PRUNED,))
    assert len(trials) + len(pruned) == 6
    assert all(t.user_attrs.get("config") for t in trials)  # attrs written (one at a time)
    assert study.leaderboard() is not None


def test_the_fallbacks_give_what_the_private_hooks_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    trial = study.ask()
    private = (_optuna.trial_id(study, trial), _optuna.study_id(study))
    monkeypatch.setattr(_optuna, "TRIAL_ID", "_gone")
    monkeypatch.setattr(_optuna, "STUDY_ID", "_gone")
    assert (_optuna.trial_id(study, trial), _optuna.study_id(study)) == private


def test_wrapping_methods_an_optuna_release_dropped_leaves_them_out() -> None:
    class Source:
        def kept(self) -> str:
            return "source"

    class Target(Source):
        pass

    missing = _optuna.wrap_methods(Target, Source, ["kept", "renamed"], lambda m: m)
    assert missing == ["renamed"] and Target().kept() == "source"


def test_stale_trials_fall_back_to_optunas_public_function_without_the_private_method() -> None:
    assert _optuna.stale_trial_ids(object(), 1) is None


@pytest.mark.parametrize(
    ("module", "name", "gone"),
    [
        ("_keras", "MODULES", ("keras.src.no_such_module", "keras.src.no_such_module")),
        ("_tensorflow", "REGISTRY", "_no_such_registry"),
    ],
)
def test_a_built_in_run_trains_with_the_keras_or_tensorflow_hook_gone(
    module: str, name: str, gone: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    monkeypatch.setattr(importlib.import_module(f"autotune._private.{module}"), name, gone)
    study = at.tune(
        at.Space(width=at.Choice([8, 16]), learning_rate=0.01),
        data={"dataset": "digits", "train_size": 200, "validation_size": 100, "test": False},
        model="mlp",
        epochs=1,
        trials=2,
        sampler="random",
        results_dir=tmp_path,
        study="hook",
    )
    assert len(study.leaderboard()) == 2


def test_keras_seeding_gives_the_same_numbers_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from autotune._private import _keras

    _keras.seed(3)
    private = np.random.rand()
    monkeypatch.setattr(_keras, "MODULES", ("keras.src.no_such_module",) * 2)
    _keras.seed(3)
    assert np.random.rand() == private


def test_stepped_log_values_are_the_same_without_keras_tuners_private_method(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kt = pytest.importorskip("keras_tuner")
    from autotune._private import _keras_tuner

    hp = kt.HyperParameters()
    hp.Int("units", 16, 256, step=2, sampling="log")
    hp.Float("rate", 1e-3, 1e-1, step=10, sampling="log")
    params = list(hp.space)  # units, rate
    private = [_keras_tuner.stepped_values(p) for p in params]
    monkeypatch.setattr(_keras_tuner, "VALUE_BY_INDEX", "_gone")
    public = [_keras_tuner.stepped_values(p) for p in params]
    assert public[0] == private[0] and public[1] == pytest.approx(private[1])

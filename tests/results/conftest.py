"""Real in-memory Optuna studies holding trials shaped like the engine stores them."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import optuna
import pytest
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)

AddTrial = Callable[..., optuna.trial.FrozenTrial]


def _distribution(value: Any) -> BaseDistribution:
    if isinstance(value, str):
        return CategoricalDistribution([value, "other"])
    return FloatDistribution(0.0, 1000.0)


def add_trial(
    study: optuna.Study,
    accuracy: float | None,
    wall_seconds: float = 10.0,
    *,
    state: TrialState = TrialState.COMPLETE,
    params: dict[str, Any] | None = None,
    curve: Sequence[Sequence[float]] | None = None,
    end: str | None = None,
    reason: str | None = None,
) -> optuna.trial.FrozenTrial:
    """Add one trial with the engine's user attributes; return it as stored (with its number)."""
    params = {"learning_rate": 0.01, "optimizer": "adam"} if params is None else params
    end = end or {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned"}.get(state, "error")
    attrs: dict[str, Any] = {
        "accuracy": accuracy,
        "wall_seconds": wall_seconds,
        "train_seconds": wall_seconds * 0.8,
        "first_epoch_seconds": wall_seconds * 0.3,
        "examples_per_second": 1000.0,
        "epochs": len(curve) if curve else 2,
        "curve": [list(point) for point in curve or ()],
        "devices": ["/CPU:0"],
        "end": end,
        "reason": reason,
        "accuracy_per_second": None if accuracy is None else accuracy / wall_seconds,
        "config": {**params, "epochs": 2, "batch_size": 64},
    }
    value = None
    if state == TrialState.COMPLETE:
        value = accuracy if accuracy is not None and math.isfinite(accuracy) else 0.0
    study.add_trial(
        optuna.trial.create_trial(
            state=state,
            value=value,
            params=params,
            distributions={name: _distribution(v) for name, v in params.items()},
            user_attrs=attrs,
        )
    )
    return study.get_trials(deepcopy=False)[-1]


@pytest.fixture
def study() -> optuna.Study:
    return optuna.create_study(direction="maximize")


@pytest.fixture
def add(study: optuna.Study) -> AddTrial:
    """``add(accuracy, wall_seconds, **options)`` adds a trial to ``study``."""

    def _add(*args: Any, **kwargs: Any) -> optuna.trial.FrozenTrial:
        return add_trial(study, *args, **kwargs)

    return _add

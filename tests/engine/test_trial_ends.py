"""Every way a trial ends is recorded on that trial, and the study goes on."""

from __future__ import annotations

import dataclasses

import numpy as np
import optuna
import pytest

from autotune.data import Dataset
from autotune.engine.study._study import counted
from autotune.engine.trial._base import TrialSetup
from autotune.engine.trial._builtin import run_trial
from autotune.engine.trial._record import record
from autotune.space import Choice, Fixed, Float, Int, Space, defaults
from autotune.train import TrialResult

SEARCHED = {"width": Choice([4, 8]), "learning_rate": Float(1e-3, 1e-2, log=True)}


def _dataset() -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    return Dataset(
        name="toy",
        x_train=x[:150],
        y_train=y[:150],
        x_val=x[150:],
        y_val=y[150:],
        x_test=None,
        y_test=None,
        num_classes=2,
        class_names=("no", "yes"),
        image=False,
        value_range=(float(x.min()), float(x.max())),
    )


def _setup(dataset: Dataset, **space: object) -> TrialSetup:
    dims = {**defaults(), "depth": Int(1, 1), "batch_size": Fixed(50), **SEARCHED, **space}
    return TrialSetup(
        space=Space(dims),
        dataset=dataset,
        family="mlp",
        epochs=2,
        devices=("/cpu:0",),
        seed=0,
        objective="accuracy",
    )


def _one(study: optuna.Study, setup: TrialSetup) -> optuna.trial.FrozenTrial:
    trial = study.ask()
    _, outcome = run_trial(trial, setup, deadline=None)
    return record(study, trial, outcome.result, setup.objective)


def test_complete_trial_stores_every_measurement() -> None:
    study = optuna.create_study(direction="maximize")
    frozen = _one(study, _setup(_dataset()))
    assert frozen.state == optuna.trial.TrialState.COMPLETE
    attrs = frozen.user_attrs
    assert frozen.value == attrs["accuracy"]
    for key in ("wall_seconds", "train_seconds", "first_epoch_seconds", "examples_per_second"):
        assert attrs[key] > 0, key
    assert attrs["epochs"] == 2 and len(attrs["curve"]) == 2
    assert attrs["config"]["width"] in (4, 8) and attrs["config"]["depth"] == 1
    assert attrs["end"] == "complete"
    assert frozen.intermediate_values == {1: attrs["curve"][0][1], 2: attrs["curve"][1][1]}


def test_pruned_trial_is_pruned_with_its_curve() -> None:
    study = optuna.create_study(
        direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=1.1)
    )
    frozen = _one(study, _setup(_dataset()))
    assert frozen.state == optuna.trial.TrialState.PRUNED
    assert frozen.user_attrs["end"] == "pruned" and frozen.user_attrs["epochs"] == 1


def test_nan_loss_is_pruned_with_reason_nan() -> None:
    # Diverging training: huge inputs left unscaled and SGD at learning rate 10.
    data = dataclasses.replace(
        _dataset(),
        x_train=_dataset().x_train * 1e6,
        x_val=_dataset().x_val * 1e6,
        value_range=(0.0, 1.0),
    )
    setup = _setup(
        data,
        normalization=Fixed("unit"),
        optimizer=Fixed("sgd"),
        learning_rate=Fixed(10.0),
        momentum=Fixed(0.9),
    )
    study = optuna.create_study(direction="maximize")
    frozen = _one(study, setup)
    assert frozen.state == optuna.trial.TrialState.PRUNED
    assert frozen.user_attrs["end"] == "nan"


def test_exception_in_a_trial_is_a_failure_and_the_study_goes_on() -> None:
    study = optuna.create_study(direction="maximize")
    broken = _one(study, _setup(_dataset(), initializer=Fixed("no_such_initializer")))
    assert broken.state == optuna.trial.TrialState.FAIL
    assert "no_such_initializer" in broken.user_attrs["reason"]
    fine = _one(study, _setup(_dataset()))
    assert fine.state == optuna.trial.TrialState.COMPLETE
    assert counted(study.get_trials()) == 2


def test_out_of_memory_is_pruned_and_marked_infeasible() -> None:
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    result = TrialResult(
        accuracy=None,
        wall_seconds=1.0,
        train_seconds=0.5,
        first_epoch_seconds=0.0,
        examples_per_second=0.0,
        epochs=0,
        end="oom",
        reason="out of memory: OOM when allocating tensor",
    )
    frozen = record(study, trial, result, "accuracy")
    assert frozen.state == optuna.trial.TrialState.PRUNED
    assert frozen.constraints == {"oom": 1.0}
    assert frozen.user_attrs["end"] == "oom"


@pytest.mark.parametrize(("objective", "n_values"), [("accuracy_per_second", 1), ("pareto", 2)])
def test_objective_values(objective: str, n_values: int) -> None:
    directions = ["maximize", "minimize"] if objective == "pareto" else ["maximize"]
    study = optuna.create_study(directions=directions)
    setup = _setup(_dataset())
    setup = TrialSetup(**{**setup.__dict__, "objective": objective})
    frozen = _one(study, setup)
    assert len(frozen.values) == n_values
    attrs = frozen.user_attrs
    if objective == "pareto":
        assert frozen.values == [attrs["accuracy"], attrs["wall_seconds"]]
        assert frozen.intermediate_values == {}  # multi-objective studies cannot be pruned
    else:
        assert frozen.values[0] == pytest.approx(attrs["accuracy"] / attrs["wall_seconds"])

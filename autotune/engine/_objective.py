"""One trial: suggest -> data pipeline -> model -> trainer, then record how it ended."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import keras
import optuna

from autotune.data import make_datasets
from autotune.engine._probes import probe_trial
from autotune.engine._storage import set_user_attrs
from autotune.engine._study import metric_names_of
from autotune.models import build_model
from autotune.pruners import TimeASHAPruner
from autotune.train import CompiledModels, Reporter, TrainOutcome, TrialResult, fit, seed_trial

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from autotune.data import Dataset
    from autotune.space import Space, TrialConfig
    from autotune.spec import ProbeSpec

logger = logging.getLogger(__name__)

PRUNED_ENDS = frozenset({"pruned", "nan", "oom", "deadline", "interrupted", "slow"})
"""Ends recorded as PRUNED: the sampler learns from them, and only COMPLETE trials rank."""


class TrialBody(Protocol):
    """What runs one trial: the built-in trainer, a custom objective or a KerasTuner HyperModel.

    It suggests the trial's values, trains, and returns the config and the outcome; a problem
    inside the trial is in the outcome's result, never raised.
    """

    def __call__(
        self, trial: optuna.Trial, setup: TrialSetup, *, deadline: float | None
    ) -> tuple[TrialConfig | None, TrainOutcome]: ...


@dataclass(frozen=True)
class TrialSetup:
    """What every trial of one run shares (plain values, no study).

    ``body`` runs the trial instead of the built-in trainer (the Python API's custom
    objectives, model builders and HyperModels); ``dataset`` is None only for a custom
    objective given no data.
    """

    space: Space
    dataset: Dataset | None
    family: str
    epochs: int
    devices: Sequence[str]
    seed: int
    """Trial N trains with seed ``seed + N`` (``train.trial_seed``, else the run's seed)."""
    objective: str
    steps_per_execution: int | None = None
    """Overrides the trial's ``steps_per_execution`` dimension when set."""
    probe: ProbeSpec | None = None
    scale_lr_with_batch: str = "none"
    lr_reference_batch: int = 256
    body: TrialBody | None = None
    compiled: CompiledModels | None = None
    """Compiled models this process keeps between trials (None: every trial compiles anew)."""


def run_trial(
    trial: optuna.Trial, setup: TrialSetup, *, deadline: float | None
) -> tuple[TrialConfig | None, TrainOutcome]:
    """Run one trial with ``setup.body``, or the built-in trainer when it has none.

    Never raises for a problem inside the trial: it is in the result.
    """
    if setup.body is not None:
        return setup.body(trial, setup, deadline=deadline)
    return train_trial(trial, setup, deadline=deadline)


def train_trial(
    trial: optuna.Trial,
    setup: TrialSetup,
    *,
    deadline: float | None,
    build: Callable[[TrialConfig, Dataset, int], keras.Model] | None = None,
) -> tuple[TrialConfig | None, TrainOutcome]:
    """The built-in trainer: suggest, data pipeline, model (``build`` or the family), fit."""
    started = time.perf_counter()
    try:
        config = setup.space.suggest(trial)
    except Exception as error:
        return None, _failed(started, f"suggesting values failed: {error}", setup)
    seed = setup.seed + trial.number
    set_user_attrs(trial.study, trial, {"config": config.to_dict(), "seed": seed})
    dataset = setup.dataset
    if dataset is None:
        return config, _failed(started, "the built-in trainer needs data; none was given", setup)
    try:
        seed_trial(seed)
        data = make_datasets(dataset, config, seed=seed)
    except Exception as error:
        logger.debug("data pipeline failed", exc_info=True)
        return config, _failed(started, f"data pipeline: {type(error).__name__}: {error}", setup)

    def build_one() -> keras.Model:
        if build is not None:
            return build(config, dataset, seed)
        return build_model(
            config,
            family=setup.family,
            input_shape=dataset.input_shape,
            num_classes=dataset.num_classes,
            seed=seed,
            augment=None if data.model_augment is None else data.model_augment(),
        )

    skipped = probe_trial(trial, setup, config, data, build_one, started=started, deadline=deadline)
    if skipped is not None:
        return config, skipped

    outcome = fit(
        config,
        build_model=build_one,
        train=data.train,
        validation=data.validation,
        train_examples=data.train_examples,
        epochs=setup.epochs,
        devices=setup.devices,
        report=_reporter(trial, setup, started),
        deadline=deadline,
        started_at=started,
        steps_per_execution=setup.steps_per_execution,
        scale_lr_with_batch=setup.scale_lr_with_batch,
        lr_reference_batch=setup.lr_reference_batch,
        # a user's builder may read anything: only autotune's own models are reused
        compiled=setup.compiled if build is None else None,
        model_key=(setup.family, tuple(dataset.input_shape), dataset.num_classes),
    )
    return config, outcome


def _reporter(trial: optuna.Trial, setup: TrialSetup, started: float) -> Reporter | None:
    """Report each epoch's accuracy to the study's pruner; None when nothing can prune.

    ``TimeASHAPruner`` gets the seconds since the trial started; for ``pareto`` (where
    Optuna refuses ``trial.report``) also the seconds the trial is projected to take in all,
    its second objective.
    """
    pruner = trial.study.pruner
    pareto = setup.objective == "pareto"
    if isinstance(pruner, TimeASHAPruner):

        def report_seconds(epoch: int, accuracy: float) -> bool:
            seconds = time.perf_counter() - started
            if not pareto:
                trial.report(accuracy, epoch)  # Optuna Dashboard's intermediate values
            projected = seconds * setup.epochs / epoch if pareto else None
            return pruner.report(trial.study, trial, accuracy, seconds=seconds, cost=projected)

        return report_seconds
    if pareto:
        return None

    def report(epoch: int, accuracy: float) -> bool:
        trial.report(accuracy, epoch)
        return trial.should_prune()

    return report


def _failed(started: float, reason: str, setup: TrialSetup) -> TrainOutcome:
    result = TrialResult(
        accuracy=None,
        wall_seconds=time.perf_counter() - started,
        train_seconds=0.0,
        first_epoch_seconds=0.0,
        examples_per_second=0.0,
        epochs=0,
        devices=tuple(setup.devices),
        end="error",
        reason=reason,
    )
    return TrainOutcome(result=result, model=None)


def objective_values(result: TrialResult, objective: str) -> list[float]:
    """The values told to Optuna for a completed trial."""
    accuracy = float(result.accuracy or 0.0)
    if objective == "pareto":
        return [accuracy, result.wall_seconds]
    if objective == "accuracy_per_second":
        return [float(result.accuracy_per_second or 0.0)]
    return [accuracy]


def _told_complete(result: TrialResult, objective: str, *, study: optuna.Study) -> bool:
    """A result told COMPLETE with values derived from its accuracy (``objective_values``):
    a complete one, or a partial one of a study whose objective is derived from accuracy (not
    a custom objective's other metric)."""
    if result.accuracy is None:
        return False
    if result.end == "complete":
        return True
    return result.partial and study.metric_names in (None, metric_names_of(objective))


def record(
    study: optuna.Study, trial: optuna.Trial, result: TrialResult, objective: str
) -> optuna.trial.FrozenTrial:
    """Store the result as user attrs and tell the study how the trial ended.

    complete -> COMPLETE; deadline with an accuracy -> COMPLETE (``partial``: nothing the budget
    cut short is thrown away); pruned, nan, interrupted, slow and deadline without an accuracy
    -> PRUNED; oom -> PRUNED with the constraint ``oom`` violated (so constraint-aware samplers
    avoid the region); error -> FAIL.
    A trial that ends ``complete`` without an accuracy is a FAIL. ``result.values``, when a
    custom objective set them, are told as they are.
    """
    set_user_attrs(study, trial, result.user_attrs())
    state = optuna.trial.TrialState.FAIL
    values: list[float] | None = None
    if (result.end == "complete" or result.partial) and result.values:
        state, values = optuna.trial.TrialState.COMPLETE, list(result.values)
    elif _told_complete(result, objective, study=study):
        state, values = optuna.trial.TrialState.COMPLETE, objective_values(result, objective)
    elif result.end in PRUNED_ENDS:
        state = optuna.trial.TrialState.PRUNED
        if result.end == "oom":
            trial.set_constraint("oom", 1.0)
    elif result.end == "complete":
        trial.set_user_attr("end", "error")
        trial.set_user_attr("reason", "training finished without a validation accuracy")
    return study.tell(trial, values, state=state)

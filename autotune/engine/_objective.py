"""One trial: suggest -> data pipeline -> model -> trainer, then record how it ended."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import keras
import optuna

from autotune.data import make_datasets
from autotune.engine._probes import probe_trial
from autotune.models import build_model
from autotune.train import Reporter, TrainOutcome, TrialResult, fit

if TYPE_CHECKING:
    from collections.abc import Sequence

    from autotune.data import Dataset
    from autotune.space import Space, TrialConfig
    from autotune.spec import ProbeSpec

logger = logging.getLogger(__name__)

PRUNED_ENDS = frozenset({"pruned", "nan", "oom", "deadline", "interrupted", "slow"})
"""Ends recorded as PRUNED: the sampler learns from them, and only COMPLETE trials rank."""


@dataclass(frozen=True)
class TrialSetup:
    """What every trial of one run shares (plain values, no study)."""

    space: Space
    dataset: Dataset
    family: str
    epochs: int
    devices: Sequence[str]
    seed: int
    objective: str
    steps_per_execution: int | None = None
    """Overrides the trial's ``steps_per_execution`` dimension when set."""
    probe: ProbeSpec | None = None
    scale_lr_with_batch: str = "none"
    lr_reference_batch: int = 256


def run_trial(
    trial: optuna.Trial, setup: TrialSetup, *, deadline: float | None
) -> tuple[TrialConfig | None, TrainOutcome]:
    """Train one trial. Never raises for a problem inside the trial: it is in the result."""
    started = time.perf_counter()
    try:
        config = setup.space.suggest(trial)
    except Exception as error:
        return None, _failed(started, f"suggesting values failed: {error}", setup)
    trial.set_user_attr("config", config.to_dict())
    seed = setup.seed + trial.number
    try:
        keras.utils.set_random_seed(seed)
        data = make_datasets(setup.dataset, config, seed=seed)
    except Exception as error:
        logger.debug("data pipeline failed", exc_info=True)
        return config, _failed(started, f"data pipeline: {type(error).__name__}: {error}", setup)

    def build() -> keras.Model:
        return build_model(
            config,
            family=setup.family,
            input_shape=setup.dataset.input_shape,
            num_classes=setup.dataset.num_classes,
            seed=seed,
            augment=None if data.model_augment is None else data.model_augment(),
        )

    skipped = probe_trial(trial, setup, config, data, build, started=started, deadline=deadline)
    if skipped is not None:
        return config, skipped

    outcome = fit(
        config,
        build_model=build,
        train=data.train,
        validation=data.validation,
        train_examples=data.train_examples,
        epochs=setup.epochs,
        devices=setup.devices,
        report=None if setup.objective == "pareto" else _reporter(trial),
        deadline=deadline,
        started_at=started,
        steps_per_execution=setup.steps_per_execution,
        scale_lr_with_batch=setup.scale_lr_with_batch,
        lr_reference_batch=setup.lr_reference_batch,
    )
    return config, outcome


def _reporter(trial: optuna.Trial) -> Reporter:
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


def record(
    study: optuna.Study, trial: optuna.Trial, result: TrialResult, objective: str
) -> optuna.trial.FrozenTrial:
    """Store the result as user attrs and tell the study how the trial ended.

    complete -> COMPLETE; pruned, nan, deadline, interrupted, slow -> PRUNED; oom -> PRUNED with the
    constraint ``oom`` violated (so constraint-aware samplers avoid the region); error -> FAIL.
    A trial that ends ``complete`` without an accuracy is a FAIL.
    """
    attrs: dict[str, Any] = result.user_attrs()
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    state = optuna.trial.TrialState.FAIL
    values: list[float] | None = None
    if result.end == "complete" and result.accuracy is not None:
        state, values = optuna.trial.TrialState.COMPLETE, objective_values(result, objective)
    elif result.end in PRUNED_ENDS:
        state = optuna.trial.TrialState.PRUNED
        if result.end == "oom":
            trial.set_constraint("oom", 1.0)
    elif result.end == "complete":
        trial.set_user_attr("end", "error")
        trial.set_user_attr("reason", "training finished without a validation accuracy")
    return study.tell(trial, values, state=state)

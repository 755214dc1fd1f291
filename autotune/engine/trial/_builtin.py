"""The built-in trainer's body: suggest -> data pipeline -> model -> trainer (with the probe)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import keras
import optuna

from autotune.data import make_datasets
from autotune.engine.storages._local import set_user_attrs
from autotune.engine.trial._group import train_in_group
from autotune.engine.trial._probes import ended_early, probe_trial
from autotune.models import build_model
from autotune.pruners import TimeASHAPruner
from autotune.space import TrialConfig
from autotune.train import Reporter, TrainOutcome, fit, seed_trial

if TYPE_CHECKING:
    from collections.abc import Callable

    from autotune.data import Dataset, TrialData
    from autotune.engine.trial._base import TrialSetup

logger = logging.getLogger(__name__)


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

    build_one = _builder(setup, config, dataset, data, seed, build)
    if setup.group is not None:
        # the members train the same values with the same seed; only this process reports
        setup.group.orders.give({"trial": trial.number, "params": config.to_dict(), "seed": seed})
        report = _reporter(trial, setup, started)
        group = train_in_group(
            setup.group,
            setup,
            config,
            data,
            build_one,
            report=report,
            deadline=deadline,
            started=started,
        )
        return config, group

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


def member_trial(setup: TrialSetup, order: Mapping[str, Any]) -> TrainOutcome:
    """A group member's part of the trial its chief ordered (same values, seed and data).

    Raises:
        GroupBroken: the group broke; this process must end.
    """
    assert setup.group is not None and setup.dataset is not None
    started = time.perf_counter()
    config = TrialConfig(order["params"])
    seed = int(order["seed"])
    seed_trial(seed)
    data = make_datasets(setup.dataset, config, seed=seed)
    build_one = _builder(
        setup, config, setup.dataset, data, seed, getattr(setup.body, "make", None)
    )
    return train_in_group(
        setup.group, setup, config, data, build_one, report=None, deadline=None, started=started
    )


def _builder(
    setup: TrialSetup,
    config: TrialConfig,
    dataset: Dataset,
    data: TrialData,
    seed: int,
    build: Callable[[TrialConfig, Dataset, int], keras.Model] | None,
) -> Callable[[], keras.Model]:
    """A function that builds the trial's fresh model (``build`` or the family's)."""

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

    return build_one


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
    return ended_early(started, setup, "error", reason)

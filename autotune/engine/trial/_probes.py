"""The throughput probe in a study: run it once per (model shape, batch size, knobs), keep the
result in the study, and decide from it whether a trial trains.

Probe results are study user attributes (``probe/<key>``), so they survive a resume and every
worker of the study shares them. A trial is not trained when

- the probe ran out of memory: it ends ``oom`` (PRUNED, constraint ``oom`` violated), the
  sampled batch size is never changed;
- its configuration cannot pay for itself: the same model and batch size already probed at
  least ``skip_slower`` times faster with other speed knobs, or the probed speed cannot train
  the trial's epochs in the budget left. It ends ``slow`` (PRUNED).

Every probed trial records ``probe_examples_per_second``, ``probe_seconds`` (time spent
probing in this trial, 0 when the study already had the result) and ``probe_cached``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import optuna

from autotune.train import ProbeKey, ProbeResult, TrainOutcome, TrialResult, probe, probe_key

if TYPE_CHECKING:
    import keras

    from autotune.data import TrialData
    from autotune.engine.trial._base import TrialSetup
    from autotune.space import TrialConfig

logger = logging.getLogger(__name__)

PREFIX = "probe/"
"""Study user attributes holding probe results start with this."""


def stored_probes(study: optuna.Study) -> dict[str, dict[str, Any]]:
    """The probe results a study holds, by key text."""
    return {
        key.removeprefix(PREFIX): value
        for key, value in study.user_attrs.items()
        if key.startswith(PREFIX) and isinstance(value, dict)
    }


def probe_trial(
    trial: optuna.Trial,
    setup: TrialSetup,
    config: TrialConfig,
    data: TrialData,
    build: Callable[[], keras.Model],
    *,
    started: float,
    deadline: float | None,
) -> TrainOutcome | None:
    """Probe a trial (or reuse the study's result) and return an outcome if it must not train.

    Returns:
        None when the trial should train; otherwise the outcome to record (``oom``, ``slow``,
        or ``error`` when the probe itself failed).
    """
    settings = setup.probe
    dataset = setup.dataset
    if settings is None or dataset is None:
        return None
    key = probe_key(
        config,
        family=setup.family,
        input_shape=dataset.input_shape,
        num_classes=dataset.num_classes,
        devices=setup.devices,
    )
    study = trial.study
    known = stored_probes(study)
    probe_began = time.perf_counter()
    if key.text in known:
        result = ProbeResult.from_json(known[key.text])
        cached = True
    else:
        result = probe(
            config,
            build_model=build,
            train=data.train,
            batch_size=key.batch_size,
            steps=settings.steps,
            devices=setup.devices,
        )
        cached = False
        if result.end != "error":  # an error may be passing; oom and speeds are kept
            entry = {**result.to_json(), "model": key.model, "batch_size": key.batch_size}
            study.set_user_attr(PREFIX + key.text, {**entry, "knobs": key.knobs})
    trial.set_user_attr("probe_examples_per_second", result.examples_per_second)
    trial.set_user_attr("probe_seconds", 0.0 if cached else time.perf_counter() - probe_began)
    trial.set_user_attr("probe_cached", cached)
    if result.end == "oom":
        return ended_early(started, setup, "oom", result.reason or "out of memory in the probe")
    if result.end != "ok":
        return ended_early(started, setup, "error", f"throughput probe: {result.reason}")
    reason = _why_slow(key, result, known, settings.skip_slower)
    if reason is None and deadline is not None:
        need = setup.epochs * data.train_examples / result.examples_per_second
        left = deadline - time.perf_counter()
        if need > left:
            reason = (
                f"probed at {result.examples_per_second:.0f} examples/s, {setup.epochs} epochs "
                f"need ~{need:.0f}s but {max(left, 0.0):.0f}s of the budget are left"
            )
    if reason is not None:
        logger.info("trial %d skipped: %s", trial.number, reason)
        return ended_early(started, setup, "slow", reason)
    return None


def _why_slow(
    key: ProbeKey,
    result: ProbeResult,
    known: Mapping[str, Mapping[str, Any]],
    skip_slower: float | None,
) -> str | None:
    """Why the knobs are not worth training with, or None."""
    if skip_slower is None:
        return None
    rivals = [
        entry
        for text, entry in known.items()
        if text != key.text
        and entry.get("model") == key.model
        and entry.get("batch_size") == key.batch_size
        and entry.get("end") == "ok"
    ]
    if not rivals:
        return None
    best = max(rivals, key=lambda entry: float(entry.get("examples_per_second", 0.0)))
    speed = float(best.get("examples_per_second", 0.0))
    if speed < skip_slower * result.examples_per_second:
        return None
    return (
        f"probed at {result.examples_per_second:.0f} examples/s; the same model and batch size "
        f"ran at {speed:.0f} examples/s with {best.get('knobs')}"
    )


def ended_early(started: float, setup: TrialSetup, end: str, reason: str) -> TrainOutcome:
    """The outcome of a trial that ended before training: no accuracy, no model."""
    result = TrialResult(
        accuracy=None,
        wall_seconds=time.perf_counter() - started,
        train_seconds=0.0,
        first_epoch_seconds=0.0,
        examples_per_second=0.0,
        epochs=0,
        devices=tuple(setup.devices),
        end=end,
        reason=reason,
    )
    return TrainOutcome(result=result, model=None)

"""The trainer: compile and fit one trial's model under a strategy, and measure it."""

from __future__ import annotations

import ctypes
import gc
import logging
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import keras
import tensorflow as tf

from autotune.train._callbacks import Reporter, TrialMonitor
from autotune.train._compiled import Compiled, CompiledModels, compiled_key
from autotune.train._knobs import compile_model, resolve_knobs
from autotune.train._replicas import scaled_learning_rate
from autotune.train._result import STOP_REASONS, TrialResult
from autotune.train._schedule import DEFAULT_SCHEDULE, EpochSchedule
from autotune.train._strategy import strategy_for

if TYPE_CHECKING:
    from autotune.space import TrialConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainOutcome:
    """A trial's measurements and, when training ran, its trained model."""

    result: TrialResult
    model: keras.Model | None


def make_optimizer(
    config: TrialConfig, *, learning_rate: float | None = None
) -> keras.optimizers.Optimizer:
    """The optimizer named by ``config.optimizer`` with ``config.learning_rate``.

    ``momentum`` is read by sgd and rmsprop when present; ``learning_rate`` overrides the
    config's (a rate scaled with the batch size).

    Example:
        >>> from autotune.space import TrialConfig
        >>> make_optimizer(TrialConfig({"optimizer": "sgd", "learning_rate": 0.1,
        ...                             "momentum": 0.9})).__class__.__name__
        'SGD'
    """
    name = config.get("optimizer", "adam")
    lr = float(config.get("learning_rate", 1e-3)) if learning_rate is None else learning_rate
    momentum = float(config.get("momentum") or 0.0)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate=lr)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=lr, momentum=momentum)
    if name == "nadam":
        return keras.optimizers.Nadam(learning_rate=lr)
    if name == "adagrad":
        return keras.optimizers.Adagrad(learning_rate=lr)
    raise ValueError(
        f"optimizer: expected adam, adamw, sgd, rmsprop, nadam or adagrad, got {name!r}"
    )


def fit(
    config: TrialConfig,
    *,
    build_model: Callable[[], keras.Model],
    train: tf.data.Dataset,
    validation: tf.data.Dataset,
    train_examples: int,
    epochs: int,
    devices: Sequence[str] = ("/cpu:0",),
    report: Reporter | None = None,
    deadline: float | None = None,
    started_at: float | None = None,
    steps_per_execution: int | None = None,
    scale_lr_with_batch: str = "none",
    lr_reference_batch: int = 256,
    compiled: CompiledModels | None = None,
    model_key: Hashable | None = None,
) -> TrainOutcome:
    """Build, compile and train one trial's model, and measure it.

    The model is built and compiled under the strategy for ``devices``. Training stops early
    when ``report`` asks to prune, when ``deadline`` passes, or on a NaN/inf loss; an
    out-of-memory error, Ctrl-C or any other exception also ends training. In every case a
    ``TrialResult`` comes back with what was measured so far and ``end`` saying why it ended;
    nothing is raised. Each epoch trains at the rate ``config.lr_schedule`` gives it (cosine
    decay over ``epochs`` when the config names none; see ``epoch_learning_rate``).

    Args:
        config: the trial's values (optimizer, learning_rate, momentum, ...).
        build_model: returns a fresh uncompiled model; called inside the strategy's scope.
        train: batched training data.
        validation: batched validation data, evaluated after every epoch.
        train_examples: examples in one epoch of ``train`` (for examples/second).
        epochs: the most epochs to train.
        devices: TensorFlow device names; several train under MirroredStrategy.
        report: ``report(epoch, val_accuracy) -> prune?`` after every epoch.
        deadline: a ``time.perf_counter()`` value at which training stops.
        started_at: ``time.perf_counter()`` when the trial began (defaults to now); the
            result's wall seconds and curve are measured from it.
        steps_per_execution: overrides the config's ``steps_per_execution`` when given.
        scale_lr_with_batch: ``none``, or ``linear``: the learning rate scales with the global
            batch size relative to ``lr_reference_batch`` (see ``scaled_learning_rate``).
        lr_reference_batch: the batch size the searched learning rate is meant for.
        compiled: compiled models kept between trials. With ``model_key`` (what decides the
            model besides the config: family, input shape, classes), a kept model with the
            same key trains this trial, reset to a fresh model's weights (no tracing); the
            model goes back to ``compiled`` when the trial ends without an error. The result's
            extras say ``reused_compiled``.

    The speed knobs ``precision``, ``jit_compile`` and ``steps_per_execution`` come from
    ``config`` and are applied by ``compile_model``, the one place that reads them
    (``resolve_knobs`` pins what several devices cannot run, see ``pin_for_replicas``).

    Returns:
        The result and, unless building the model failed, the model.
    """
    started = time.perf_counter() if started_at is None else started_at
    monitor = TrialMonitor(started_at=started, report=report, deadline=deadline)
    model: keras.Model | None = None
    end, reason = "complete", None
    strategy_name = ""
    batch_size = int(config.get("batch_size", 32))
    learning_rate = scaled_learning_rate(
        float(config.get("learning_rate", 1e-3)),
        batch_size=batch_size,
        rule=scale_lr_with_batch,
        reference_batch=lr_reference_batch,
    )
    extras: dict[str, Any] = {
        "replicas": len(devices),
        "per_replica_batch": batch_size / len(devices),
        "learning_rate_used": learning_rate,
    }
    schedule = str(config.get("lr_schedule", DEFAULT_SCHEDULE))
    try:
        rates = EpochSchedule(base=learning_rate, epochs=epochs, schedule=schedule)
        knobs, pinned = resolve_knobs(
            config, replicas=len(devices), steps_per_execution=steps_per_execution
        )
        if pinned:
            extras["pinned"] = pinned
            logger.info("pinned for %d replicas: %s", len(devices), pinned)
        key = None
        if compiled is not None and model_key is not None:
            key = compiled_key(config, knobs, model=model_key, devices=devices)
        kept = _reused(compiled, key, build_model, learning_rate, knobs.precision)
        extras["reused_compiled"] = kept is not None
        if kept is None:
            strategy, strategy_name = strategy_for(devices)
            with strategy.scope():
                model = compile_model(
                    build_model,
                    lambda: make_optimizer(config, learning_rate=learning_rate),
                    knobs,
                    state_from=validation,
                )
            if key is not None:
                kept = Compiled.of(model, strategy, strategy_name)
        else:
            model, strategy_name = kept.model, kept.strategy_name
        model.fit(
            train,
            validation_data=validation,
            epochs=epochs,
            shuffle=False,  # the pipeline shuffles
            verbose=0,
            callbacks=[rates, monitor],
        )
        end = monitor.stopped or "complete"
        if compiled is not None and key is not None and kept is not None and end in REUSABLE:
            compiled.put(key, kept)
    except KeyboardInterrupt:
        end = "interrupted"
    except (tf.errors.ResourceExhaustedError, MemoryError) as error:
        end, reason = "oom", f"out of memory: {first_line(error)}"
    except Exception as error:
        logger.debug("trial failed", exc_info=True)
        end, reason = "error", f"{type(error).__name__}: {first_line(error)}"
    if end in STOP_REASONS:
        reason = STOP_REASONS[end]
    elif end == "pruned":
        reason = f"pruned after epoch {len(monitor.curve)}"
    extras["strategy"] = strategy_name
    result = measure_trial(monitor, started, train_examples, devices, end, reason, extras)
    return TrainOutcome(result=result, model=model)


REUSABLE = frozenset({"complete", "pruned", "deadline", "nan", "slow"})
"""Ends after which a compiled model may train another trial (its next reset rewrites every
variable); after an error, out-of-memory or Ctrl-C it is dropped."""


def _reused(
    compiled: CompiledModels | None,
    key: Hashable | None,
    build_model: Callable[[], keras.Model],
    learning_rate: float,
    precision: str,
) -> Compiled | None:
    """A kept compiled model for ``key``, reset for a new trial; None when there is none."""
    if compiled is None or key is None:
        return None
    kept = compiled.take(key)
    if kept is None:
        return None
    with kept.strategy.scope():
        if kept.reset(build_model, learning_rate=learning_rate, precision=precision):
            return kept
    return None


def measure_trial(
    monitor: TrialMonitor,
    started: float,
    train_examples: int,
    devices: Sequence[str],
    end: str,
    reason: str | None,
    extras: dict[str, Any],
) -> TrialResult:
    epochs = len(monitor.curve)
    phases = monitor.train_phase_seconds
    steady = phases[1:epochs] if epochs > 1 else phases[:1]
    steady_seconds = sum(steady)
    examples_per_second = train_examples * len(steady) / steady_seconds if steady_seconds else 0.0
    # the epochs' validation passes (and the per-epoch report): part of fit, not of training
    extras["validation_seconds"] = sum(monitor.epoch_seconds) - sum(phases)
    train_seconds = 0.0
    if monitor.fit_started is not None:
        train_seconds = (monitor.fit_ended or time.perf_counter()) - monitor.fit_started
    curve = [*monitor.curve]
    if end == "deadline" and monitor.partial is not None:
        curve.append(monitor.partial)  # what the model reached when the budget stopped it
    return TrialResult(
        accuracy=curve[-1][1] if curve else None,
        wall_seconds=time.perf_counter() - started,
        train_seconds=train_seconds,
        first_epoch_seconds=monitor.epoch_seconds[0] if monitor.epoch_seconds else 0.0,
        examples_per_second=examples_per_second,
        epochs=epochs,
        curve=tuple(curve),
        devices=tuple(devices),
        end=end,
        reason=reason,
        extras=extras,
    )


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__


def seed_trial(seed: int) -> None:
    """Seed one trial's Python, NumPy and Keras random generators, leaving TensorFlow's
    global seed alone.

    ``keras.utils.set_random_seed`` also calls ``tf.random.set_seed``, which clears
    TensorFlow's kernel and function caches: every trial then paid for them again (~80 ms more
    in the first epoch and ~30 ms in the first validation of a tiny MLP, a third of its
    training). autotune's models, pipelines and augmentation give every random op an explicit
    seed derived from the trial's, so TensorFlow's global seed changes none of their numbers;
    a user's own model builder or objective still gets ``keras.utils.set_random_seed``.

    Example:
        >>> import numpy as np
        >>> seed_trial(3); a = np.random.rand()
        >>> seed_trial(3); a == np.random.rand()
        True
    """
    from autotune._private._keras import seed as seed_keras

    seed_keras(seed)


def gradient_names() -> frozenset[str]:
    """The custom-gradient functions TensorFlow has registered so far (see ``release_memory``)."""
    return frozenset(name for name in _gradient_registry() if name.startswith("CustomGradient-"))


def release_memory(since: frozenset[str] | None = None, *, collect: bool = True) -> None:
    """Free what finished trials left behind, so a long study in one process does not creep.

    Collects garbage and returns cached memory to the system. With ``since`` (from
    ``gradient_names()`` taken before the trials), it also forgets the custom-gradient
    functions registered after it: tracing a train step registers one in TensorFlow's global
    gradient registry, which is never emptied and keeps the whole traced graph alive (~1.3 MB
    per trial for a small model). Nothing of a released trial uses them; a kept compiled model
    (``CompiledModels``) was traced already and does not need them either.

    It does not call ``keras.backend.clear_session()``: Keras' global state is a few name
    counters, and clearing it also clears TensorFlow's kernel cache, which the next trial then
    rebuilt (~0.1 s on a tiny MLP, more than its training). ``benchmarks/memory.py`` measures
    the RSS of a long study without it.

    ``collect=False`` skips the full collection (~25 ms, a tenth of a tiny trial) after a
    trial that reused a compiled model: it traced nothing, and the little it left (the fresh
    model its weights came from) goes with Python's own collections.
    """
    if since is not None:
        registry = _gradient_registry()
        for name in gradient_names() - since:
            registry.pop(name, None)
    if collect:
        gc.collect()
        _malloc_trim()


def freeze_long_lived() -> None:
    """Move every object alive now out of the garbage collector's sight, for good.

    Call once before the trials, when what is alive (TensorFlow's modules, the data set, the
    study) lives as long as the process. The full collection after each trial then scans only
    what trials created: on a 2-core CPU that took it from ~0.6 s to a few milliseconds.
    """
    gc.collect()
    gc.freeze()


def _gradient_registry() -> dict[str, Any]:
    from autotune._private._tensorflow import gradient_registry

    return gradient_registry()


def _malloc_trim() -> None:
    try:
        libc: Any = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass

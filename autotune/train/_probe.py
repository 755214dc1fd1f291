"""The throughput probe: a short training run that measures examples/second before a trial.

The probe builds and compiles the trial's model exactly as the trainer will (same knobs, same
strategy, same pipeline), runs a few hundred steps on a throwaway copy and times them with the
first call into the compiled step (tracing, compilation) left out. It returns values; storing
and reusing them is the engine's job, keyed by ``probe_key``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import keras
import tensorflow as tf

from autotune.space import AUGMENTATION_OPS, SPEED_KNOBS
from autotune.train._knobs import compile_model, resolve_knobs
from autotune.train._strategy import strategy_for
from autotune.train._trainer import make_optimizer

logger = logging.getLogger(__name__)

SHAPE_DIMENSIONS: tuple[str, ...] = ("depth", "width", "connection")
"""Dimensions that change the model's layers and so its speed (with family and data shape)."""


@dataclass(frozen=True)
class ProbeResult:
    """What one probe measured.

    Attributes:
        end: ``ok``, ``oom`` (the batch does not fit in memory) or ``error``.
        examples_per_second: steady-state training throughput (0.0 unless ``ok``).
        steps: train steps timed.
        seconds: seconds the timed steps took.
        compile_seconds: the first call into the train step (trace and compile), not timed.
        reason: why the probe did not end ``ok``.
    """

    end: str
    examples_per_second: float = 0.0
    steps: int = 0
    seconds: float = 0.0
    compile_seconds: float = 0.0
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (what a study's user attribute can hold)."""
        return asdict(self)

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> ProbeResult:
        """The inverse of ``to_json``."""
        return cls(**{k: value[k] for k in cls.__dataclass_fields__ if k in value})


@dataclass(frozen=True)
class ProbeKey:
    """What makes two probes the same measurement.

    Attributes:
        model: a digest of the model's shape (family, input shape, classes, shape dimensions,
            augmentation ops).
        batch_size: the global batch size.
        knobs: the speed knobs, as ``name=value`` text.
    """

    model: str
    batch_size: int
    knobs: str

    @property
    def text(self) -> str:
        """One string for the whole key (a storage key)."""
        return f"{self.model}/b{self.batch_size}/{self.knobs}"


def probe_key(
    config: Mapping[str, Any],
    *,
    family: str,
    input_shape: Sequence[int],
    num_classes: int,
    devices: Sequence[str],
) -> ProbeKey:
    """The cache key of a trial's probe: same model shape, batch size and knobs, same speed.

    Example:
        >>> key = probe_key({"depth": 2, "width": 32, "batch_size": 64}, family="mlp",
        ...                 input_shape=(64,), num_classes=10, devices=("/cpu:0",))
        >>> key.batch_size, key.knobs.split(",")[0]
        (64, 'augment_on=host')
    """
    shape = {
        "family": family,
        "input_shape": list(input_shape),
        "classes": num_classes,
        "devices": list(devices),
        "ops": [op for op in AUGMENTATION_OPS if config.get(op, False)],
        **{name: config.get(name) for name in SHAPE_DIMENSIONS},
    }
    digest = hashlib.sha1(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:12]
    knobs = ",".join(f"{name}={_plain(config.get(name))}" for name in sorted(SPEED_KNOBS))
    return ProbeKey(model=digest, batch_size=int(config.get("batch_size", 64)), knobs=knobs)


def _plain(value: Any) -> str:
    return "default" if value is None else json.dumps(value)


def probe(
    config: Mapping[str, Any],
    *,
    build_model: Callable[[], keras.Model],
    train: tf.data.Dataset,
    batch_size: int,
    steps: int = 200,
    devices: Sequence[str] = ("/cpu:0",),
    optimizer: Callable[[], keras.optimizers.Optimizer] | None = None,
) -> ProbeResult:
    """Measure a configuration's steady-state training speed on a throwaway model.

    Runs the first call into the train step untimed (trace, compile), then at least ``steps``
    steps, and reports examples/second over the calls after the first. Never raises for a
    problem of the configuration: an out-of-memory error ends ``oom``, anything else
    ``error``.

    Args:
        config: the trial's values (speed knobs, optimizer).
        build_model: returns a fresh uncompiled model; called inside the strategy's scope.
        train: batched training data (repeated as needed).
        batch_size: the global batch size of ``train``.
        steps: train steps to time.
        devices: TensorFlow device names, as for ``fit``.
        optimizer: returns the optimizer (default: the trial's, from ``make_optimizer``).

    Example:
        >>> from autotune.data import load_dataset, make_datasets
        >>> from autotune.models import build_model
        >>> from autotune.space import TrialConfig
        >>> from autotune.spec import DataSpec
        >>> ds = load_dataset(DataSpec(dataset="digits"), seed=0)
        >>> config = TrialConfig({"normalization": "unit", "batch_size": 64, "depth": 1,
        ...     "width": 16, "connection": "plain", "initializer": "glorot_uniform",
        ...     "l1": 0.0, "l2": 0.0, "dropout": 0.0})
        >>> data = make_datasets(ds, config, seed=0)
        >>> result = probe(config, train=data.train, batch_size=64, steps=20,
        ...     build_model=lambda: build_model(config, family="mlp", input_shape=(8, 8, 1),
        ...                                     num_classes=10))
        >>> result.end, result.examples_per_second > 0
        ('ok', True)
    """
    knobs, _ = resolve_knobs(config, replicas=len(devices))
    per_call = knobs.steps_per_execution
    calls = 1 + max(2, math.ceil(steps / per_call))
    timer = _CallTimer()
    model: keras.Model | None = None
    try:
        strategy, _ = strategy_for(devices)
        with strategy.scope():
            model = compile_model(
                build_model,
                optimizer or (lambda: make_optimizer(config)),  # type: ignore[arg-type]
                knobs,
                state_from=train,
            )
        model.fit(
            train.repeat(),
            epochs=1,
            steps_per_epoch=calls * per_call,
            shuffle=False,  # the pipeline shuffles
            verbose=0,
            callbacks=[timer],
        )
    except (tf.errors.ResourceExhaustedError, MemoryError) as error:
        return ProbeResult(end="oom", reason=f"out of memory in the probe: {_line(error)}")
    except Exception as error:
        logger.debug("probe failed", exc_info=True)
        return ProbeResult(end="error", reason=f"{type(error).__name__}: {_line(error)}")
    finally:
        del model
    timed_steps, seconds = timer.steady()
    if timed_steps <= 0 or seconds <= 0:
        return ProbeResult(end="error", reason="the probe timed no steps")
    return ProbeResult(
        end="ok",
        examples_per_second=timed_steps * batch_size / seconds,
        steps=timed_steps,
        seconds=seconds,
        compile_seconds=timer.first_call_seconds,
    )


class _CallTimer(keras.callbacks.Callback):
    """Records (step, time) after every call into the train step."""

    def __init__(self) -> None:
        super().__init__()
        self.began = 0.0
        self.marks: list[tuple[int, float]] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.began = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.marks.append((batch, time.perf_counter()))

    @property
    def first_call_seconds(self) -> float:
        return self.marks[0][1] - self.began if self.marks else 0.0

    def steady(self) -> tuple[int, float]:
        """Steps and seconds from the end of the first call to the end of the last."""
        if len(self.marks) < 2:
            return 0, 0.0
        (first_step, first_time), (last_step, last_time) = self.marks[0], self.marks[-1]
        return last_step - first_step, last_time - first_time


def _line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__

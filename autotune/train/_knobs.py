"""The speed knobs a trial compiles with, applied in one place for training and the probe.

``precision``, ``jit_compile`` and ``steps_per_execution`` are dimensions of the space like any
other. ``compile_model`` builds and compiles a trial's model with them; the trainer and the
throughput probe both call it, so whatever pins or refuses a knob (for example several devices)
is decided here once.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import keras
import tensorflow as tf

from autotune.space import AUTO, AUTO_STEPS_PER_EXECUTION, PRECISIONS
from autotune.train._replicas import pin_for_replicas


@dataclass(frozen=True)
class CompileKnobs:
    """The compile-time speed knobs of one trial.

    Attributes:
        precision: a Keras dtype policy: ``float32``, ``mixed_float16`` or ``mixed_bfloat16``.
        jit_compile: XLA-compile the train step.
        steps_per_execution: batches run per call into the compiled train step.
    """

    precision: str = "float32"
    jit_compile: bool = False
    steps_per_execution: int = 1


def knobs_of(
    config: Mapping[str, Any], *, steps_per_execution: int | None = None, replicas: int = 1
) -> CompileKnobs:
    """The compile knobs a trial config asks for (catalogue defaults for missing ones).

    ``steps_per_execution: auto`` (the default) is ``AUTO_STEPS_PER_EXECUTION`` on one device
    and 1 on several (``MirroredStrategy`` runs one step per call, see ``pin_for_replicas``).

    Args:
        config: the trial's values.
        steps_per_execution: overrides ``config["steps_per_execution"]`` when given.
        replicas: the devices the trial trains on.

    Raises:
        ValueError: an unknown precision or a steps_per_execution below 1.

    Example:
        >>> knobs_of({"precision": "mixed_bfloat16", "steps_per_execution": 8})
        CompileKnobs(precision='mixed_bfloat16', jit_compile=False, steps_per_execution=8)
        >>> knobs_of({}).steps_per_execution, knobs_of({}, replicas=2).steps_per_execution
        (16, 1)
    """
    precision = str(config.get("precision", "float32"))
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
    asked = steps_per_execution or config.get("steps_per_execution", AUTO)
    if asked == AUTO:
        asked = AUTO_STEPS_PER_EXECUTION if replicas == 1 else 1
    steps = int(asked)
    if steps < 1:
        raise ValueError(f"steps_per_execution: expected an integer >= 1, got {steps}")
    return CompileKnobs(
        precision=precision,
        jit_compile=bool(config.get("jit_compile", False)),
        steps_per_execution=steps,
    )


def resolve_knobs(
    config: Mapping[str, Any], *, replicas: int = 1, steps_per_execution: int | None = None
) -> tuple[CompileKnobs, dict[str, Any]]:
    """The knobs a trial on ``replicas`` devices compiles with, and what had to be pinned.

    Several devices (``MirroredStrategy``) run with ``steps_per_execution=1`` and without XLA
    (see ``pin_for_replicas``); the second value maps each pinned knob to ``[asked, used]``.

    Example:
        >>> resolve_knobs({"steps_per_execution": 8, "jit_compile": True}, replicas=2)[1]
        {'steps_per_execution': [8, 1], 'jit_compile': [True, False]}
    """
    knobs = knobs_of(config, steps_per_execution=steps_per_execution, replicas=replicas)
    steps, jit, pinned = pin_for_replicas(
        replicas, steps_per_execution=knobs.steps_per_execution, jit_compile=knobs.jit_compile
    )
    return dataclasses.replace(knobs, steps_per_execution=steps, jit_compile=jit), pinned


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Set Keras' global dtype policy for the duration, and put the previous one back.

    Layers read the global policy when they are constructed, so building a model inside this
    block gives it ``precision``; the next trial starts from the policy that was there before.
    """
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def compile_model(
    build_model: Callable[[], keras.Model],
    optimizer: Callable[[], keras.optimizers.Optimizer],
    knobs: CompileKnobs,
    *,
    state_from: tf.data.Dataset,
) -> keras.Model:
    """Build and compile a model with the trial's knobs; call inside the strategy's scope.

    Under a ``mixed_float16`` policy Keras wraps the optimizer in a ``LossScaleOptimizer``;
    the models' output layer is float32 in every policy. The optimizer's and metrics'
    variables are created here, outside any traced function (see ``_build_state``).

    Args:
        build_model: returns a fresh uncompiled model.
        optimizer: returns a fresh optimizer.
        knobs: from ``knobs_of``.
        state_from: a batched dataset; one batch builds the metric state.
    """
    with dtype_policy(knobs.precision):
        model = build_model()
        model.compile(
            optimizer=optimizer(),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            steps_per_execution=knobs.steps_per_execution,
            jit_compile=knobs.jit_compile,
        )
    _build_state(model, state_from)
    return model


def _build_state(model: keras.Model, data: tf.data.Dataset) -> None:
    """Create the optimizer's and metrics' variables now, outside any traced function.

    Keras builds them lazily inside the first traced train step when no distribution strategy
    was set, which wraps each in a ``tf.cond``; those branch graphs are never freed and made
    every trial leak ~4 MB. Under a non-default strategy Keras does this itself.
    """
    symbolic_build = getattr(model, "_symbolic_build", None)
    if symbolic_build is None or getattr(model, "_distribute_strategy", None) is not None:
        model.optimizer.build(model.trainable_variables)
        return
    for batch in data.take(1):
        symbolic_build(data_batch=batch)

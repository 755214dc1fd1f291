"""What changes when a trial trains on several replicas: compile options, the learning rate."""

from __future__ import annotations

from typing import Any


def pin_for_replicas(
    replicas: int, *, steps_per_execution: int, jit_compile: bool
) -> tuple[int, bool, dict[str, Any]]:
    """Compile options a trial on ``replicas`` devices can use, and what was pinned.

    TensorFlow 2.21 cannot run ``MirroredStrategy`` with ``steps_per_execution > 1`` or
    ``jit_compile=True`` (both fail with InvalidArgumentError, on GPUs and on logical CPU
    devices alike), so multi-device trials run with 1 and False. The third value maps each
    pinned option to ``[asked, used]`` and is stored on the trial (``pinned``).

    Example:
        >>> pin_for_replicas(2, steps_per_execution=8, jit_compile=True)
        (1, False, {'steps_per_execution': [8, 1], 'jit_compile': [True, False]})
        >>> pin_for_replicas(1, steps_per_execution=8, jit_compile=True)
        (8, True, {})
    """
    if replicas <= 1:
        return steps_per_execution, jit_compile, {}
    pinned: dict[str, Any] = {}
    if steps_per_execution > 1:
        pinned["steps_per_execution"] = [steps_per_execution, 1]
    if jit_compile:
        pinned["jit_compile"] = [True, False]
    return 1, False, pinned


def scaled_learning_rate(
    learning_rate: float, *, batch_size: int, rule: str = "none", reference_batch: int = 256
) -> float:
    """The learning rate a trial trains with, given its global batch size.

    With ``rule="linear"`` (Goyal et al., 2017) the searched ``learning_rate`` is the rate for
    ``reference_batch`` examples and scales in proportion to the global batch; with ``"none"``
    it is used as is.

    Example:
        >>> scaled_learning_rate(0.1, batch_size=512, rule="linear", reference_batch=256)
        0.2
        >>> scaled_learning_rate(0.1, batch_size=512)
        0.1
    """
    if rule == "linear":
        return learning_rate * batch_size / reference_batch
    if rule != "none":
        raise ValueError(f"scale_lr_with_batch: expected none or linear, got {rule!r}")
    return learning_rate

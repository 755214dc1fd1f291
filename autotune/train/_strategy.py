"""Choosing a ``tf.distribute`` strategy for the devices a trial is given."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import tensorflow as tf


def resolve_devices(devices: str | Sequence[int] | Sequence[str] | None) -> tuple[str, ...]:
    """The TensorFlow device names a trial trains on.

    Args:
        devices: ``"auto"`` (every visible GPU, else the CPU), ``"cpu"``, GPU indices
            (``[0, 1]``) or device names (``["/cpu:0", "/cpu:1"]``).

    Raises:
        ValueError: a GPU index that is not visible.

    Example:
        >>> resolve_devices("cpu")
        ('/cpu:0',)
    """
    if devices is None or devices == "auto":
        gpus = tf.config.list_logical_devices("GPU")
        return tuple(d.name for d in gpus) if gpus else ("/cpu:0",)
    if devices == "cpu":
        return ("/cpu:0",)
    if isinstance(devices, str):
        raise ValueError(f"expected auto, cpu or a list of devices, got {devices!r}")
    names: list[str] = []
    visible = [d.name for d in tf.config.list_logical_devices("GPU")]
    for device in devices:
        if isinstance(device, int):
            if device >= len(visible):
                raise ValueError(
                    f"GPU {device} is not visible (visible GPUs: {len(visible)}); "
                    "check train.devices and CUDA_VISIBLE_DEVICES"
                )
            names.append(visible[device])
        else:
            names.append(str(device))
    return tuple(names)


def strategy_for(devices: Sequence[str]) -> tuple[Any, str]:
    """A strategy and its short name for these devices.

    Several devices train under ``MirroredStrategy``. One GPU trains under
    ``OneDeviceStrategy``. The CPU alone trains under TensorFlow's default strategy, which
    places everything on that one device too but skips the distributed-iterator machinery
    that ``OneDeviceStrategy`` adds on every step.
    """
    if len(devices) > 1:
        return _mirrored(tuple(devices)), "mirrored"
    device = devices[0]
    if "cpu" in device.lower():
        return tf.distribute.get_strategy(), "default"
    return tf.distribute.OneDeviceStrategy(device), "one_device"


@functools.cache
def _mirrored(devices: tuple[str, ...]) -> Any:
    """One MirroredStrategy per device set for the life of the process.

    A new strategy per trial restarts its collective-op instance keys, and TensorFlow's
    collective executor still holds the previous trial's instances under those keys: the second
    trial then fails with "Shape mismatch in the collective instance". Reusing the strategy
    keeps the keys unique.
    """
    return tf.distribute.MirroredStrategy(devices=list(devices))

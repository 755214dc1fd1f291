"""The learning rate of each epoch: ``lr_schedule`` (constant, or cosine decay over the epochs).

A cosine decay anneals the rate from the searched ``learning_rate`` towards zero over the
trial's planned epochs, one value per epoch. The rate is an optimizer variable, so a compiled
model kept between trials (``CompiledModels``) follows it without being traced again.
"""

from __future__ import annotations

import math
from typing import Any

import keras

from autotune.space import CATALOGUE, LR_SCHEDULES

DEFAULT_SCHEDULE = str(CATALOGUE["lr_schedule"].default)
"""The schedule of a config that names none (the catalogue's default: cosine)."""


def epoch_learning_rate(base: float, epoch: int, epochs: int, schedule: str) -> float:
    """The learning rate of epoch ``epoch`` (0-based) of ``epochs`` under ``schedule``.

    ``cosine``: ``base * (1 + cos(pi * epoch / epochs)) / 2``, so the first epoch trains at
    ``base`` and the last at a few percent of it (3 % of it for 9 epochs).

    Example:
        >>> [round(epoch_learning_rate(1.0, e, 4, "cosine"), 3) for e in range(4)]
        [1.0, 0.854, 0.5, 0.146]
        >>> epoch_learning_rate(0.01, 3, 4, "constant")
        0.01
    """
    if schedule == "constant" or epochs <= 1:
        return base
    if schedule == "cosine":
        return base * (1.0 + math.cos(math.pi * min(epoch, epochs) / epochs)) / 2.0
    raise ValueError(f"lr_schedule: expected one of {', '.join(LR_SCHEDULES)}, got {schedule!r}")


class EpochSchedule(keras.callbacks.Callback):
    """Sets the optimizer's learning rate at the start of every epoch (``epoch_learning_rate``).

    Args:
        base: the trial's learning rate (after any batch-size scaling).
        epochs: the epochs the trial plans to train (the decay ends there).
        schedule: ``constant`` or ``cosine``.
    """

    def __init__(self, *, base: float, epochs: int, schedule: str) -> None:
        super().__init__()
        epoch_learning_rate(base, 0, epochs, schedule)  # an unknown schedule raises here
        self.base, self.epochs, self.schedule = base, epochs, schedule

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        set_epoch_rate(self.model.optimizer, self.base, epoch, self.epochs, self.schedule)


def set_epoch_rate(
    optimizer: keras.optimizers.Optimizer, base: float, epoch: int, epochs: int, schedule: str
) -> None:
    """Assign epoch ``epoch``'s rate to ``optimizer`` (a loop without ``fit`` calls this)."""
    optimizer.learning_rate = epoch_learning_rate(base, epoch, epochs, schedule)

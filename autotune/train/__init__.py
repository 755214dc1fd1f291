"""The trainer: a ``tf.distribute`` strategy for the trial's devices, compile, fit, measure."""

from autotune.train._callbacks import Reporter, TrialMonitor
from autotune.train._result import END_REASONS, TrialResult
from autotune.train._strategy import resolve_devices, strategy_for
from autotune.train._trainer import (
    TrainOutcome,
    fit,
    gradient_names,
    make_optimizer,
    release_memory,
)

__all__ = [
    "END_REASONS",
    "Reporter",
    "TrainOutcome",
    "TrialMonitor",
    "TrialResult",
    "fit",
    "gradient_names",
    "make_optimizer",
    "release_memory",
    "resolve_devices",
    "strategy_for",
]

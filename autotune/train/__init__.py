"""The trainer: a ``tf.distribute`` strategy for the trial's devices, compile, fit, measure."""

from autotune.train._callbacks import Reporter, TrialMonitor
from autotune.train._devices import (
    WorkerDevices,
    allow_memory_growth,
    configure_tensorflow,
    cores,
    describe_devices,
    gpu_count,
    placement_attrs,
    plan_workers,
    split_cpu,
)
from autotune.train._replicas import pin_for_replicas, scaled_learning_rate
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
    "WorkerDevices",
    "allow_memory_growth",
    "configure_tensorflow",
    "cores",
    "describe_devices",
    "fit",
    "gpu_count",
    "gradient_names",
    "make_optimizer",
    "pin_for_replicas",
    "placement_attrs",
    "plan_workers",
    "release_memory",
    "resolve_devices",
    "scaled_learning_rate",
    "split_cpu",
    "strategy_for",
]

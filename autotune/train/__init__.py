"""The trainer: a ``tf.distribute`` strategy for the trial's devices, compile, fit, measure."""

from autotune.train._callbacks import Reporter, TrialMonitor
from autotune.train._compiled import CompiledModels, compiled_key
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
from autotune.train._knobs import CompileKnobs, compile_model, dtype_policy, knobs_of
from autotune.train._probe import ProbeKey, ProbeResult, probe, probe_key
from autotune.train._replicas import pin_for_replicas, scaled_learning_rate
from autotune.train._result import END_REASONS, STOP_REASONS, TrialResult
from autotune.train._schedule import EpochSchedule, epoch_learning_rate
from autotune.train._strategy import resolve_devices, strategy_for
from autotune.train._trainer import (
    TrainOutcome,
    fit,
    freeze_long_lived,
    gradient_names,
    make_optimizer,
    release_memory,
    seed_trial,
)

__all__ = [
    "END_REASONS",
    "STOP_REASONS",
    "CompileKnobs",
    "CompiledModels",
    "EpochSchedule",
    "ProbeKey",
    "ProbeResult",
    "Reporter",
    "TrainOutcome",
    "TrialMonitor",
    "TrialResult",
    "WorkerDevices",
    "allow_memory_growth",
    "compile_model",
    "compiled_key",
    "configure_tensorflow",
    "cores",
    "describe_devices",
    "dtype_policy",
    "epoch_learning_rate",
    "fit",
    "freeze_long_lived",
    "gpu_count",
    "gradient_names",
    "knobs_of",
    "make_optimizer",
    "pin_for_replicas",
    "placement_attrs",
    "plan_workers",
    "probe",
    "probe_key",
    "release_memory",
    "resolve_devices",
    "scaled_learning_rate",
    "seed_trial",
    "split_cpu",
    "strategy_for",
]

"""Which devices each worker process gets, and pinning a process to them before TensorFlow starts.

Plain functions: ``plan_workers`` turns the machine (GPU indices, CPU cores) and the run file
(``devices``, ``devices_per_trial``, ``logical_cpus``, ``--workers``) into one ``WorkerDevices``
per worker; ``WorkerDevices.environment()`` is what a worker process sets before importing
TensorFlow, and ``configure_tensorflow`` what it does right after (threads, logical CPUs,
memory growth).
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WorkerDevices:
    """The devices one worker process trains on.

    Attributes:
        worker: the worker's id, from 1 (0 is a run inside the ``autotune`` process).
        gpus: physical GPU indices the process may see (``CUDA_VISIBLE_DEVICES``); empty for CPU.
        per_trial: devices each trial trains on (MirroredStrategy when more than one).
        logical_cpus: logical CPU devices the process splits its CPU into (1: no split).
        threads: TensorFlow intra-op threads (a share of the machine's cores).
    """

    worker: int
    gpus: tuple[int, ...]
    per_trial: int
    logical_cpus: int
    threads: int

    def environment(self) -> dict[str, str]:
        """Variables a worker sets before TensorFlow is imported."""
        env = {
            "CUDA_VISIBLE_DEVICES": ",".join(str(g) for g in self.gpus) if self.gpus else "-1",
            "TF_FORCE_GPU_ALLOW_GROWTH": "true",
            "OMP_NUM_THREADS": str(self.threads),
            "TF_NUM_INTRAOP_THREADS": str(self.threads),
            "TF_NUM_INTEROP_THREADS": str(min(2, self.threads)),
        }
        return env

    def trial_devices(self) -> tuple[str, ...]:
        """TensorFlow device names a trial uses inside the worker (GPUs renumbered from 0).

        Example:
            >>> plan = WorkerDevices(2, gpus=(2, 3), per_trial=2, logical_cpus=1, threads=4)
            >>> plan.trial_devices()
            ('/gpu:0', '/gpu:1')
        """
        kind = "gpu" if self.gpus else "cpu"
        return tuple(f"/{kind}:{i}" for i in range(self.per_trial))


def plan_workers(
    *,
    devices: str | Sequence[int],
    devices_per_trial: int | str,
    gpus: int,
    cores: int,
    workers: int | None = None,
    logical_cpus: int | None = None,
) -> list[WorkerDevices]:
    """One ``WorkerDevices`` per worker process.

    With G GPUs in use and k per trial, G // k workers each get k GPUs of their own. On the CPU
    (``devices: cpu``, or ``auto`` on a machine without GPUs), ``workers`` processes (default 1)
    share the cores: each gets ``cores // workers`` threads, and ``logical_cpus`` logical
    devices so that trials can use ``devices_per_trial`` of them.

    Args:
        devices: ``train.devices``: ``auto``, ``cpu`` or GPU indices.
        devices_per_trial: ``train.devices_per_trial``: a count or ``all``.
        gpus: GPUs the machine has.
        cores: CPU cores this run may use.
        workers: ``--workers``; default: every GPU group, or 1 on the CPU.
        logical_cpus: ``train.logical_cpus``.

    Raises:
        ValueError: the devices cannot be split that way (with what would fit).

    Example:
        >>> [w.gpus for w in plan_workers(devices="auto", devices_per_trial=2, gpus=4, cores=16)]
        [(0, 1), (2, 3)]
        >>> [w.threads for w in plan_workers(devices="cpu", devices_per_trial=1, gpus=0,
        ...                                  cores=8, workers=2)]
        [4, 4]
    """
    if devices == "cpu" or (devices == "auto" and gpus == 0):
        return _cpu_plan(devices_per_trial, cores, workers, logical_cpus)
    chosen = list(range(gpus)) if devices == "auto" else [int(d) for d in devices]
    missing = [g for g in chosen if g >= gpus]
    if missing:
        raise ValueError(
            f"GPU {missing[0]} is not visible (visible GPUs: {gpus}); "
            "check train.devices and CUDA_VISIBLE_DEVICES"
        )
    per_trial = len(chosen) if devices_per_trial == "all" else int(devices_per_trial)
    if per_trial > len(chosen):
        raise ValueError(f"devices_per_trial {per_trial} > the {len(chosen)} GPUs in use")
    groups = len(chosen) // per_trial
    if workers is not None and workers > groups:
        raise ValueError(
            f"--workers {workers} needs {workers * per_trial} GPUs at {per_trial} per trial; "
            f"{len(chosen)} are in use (at most {groups} workers)"
        )
    count = groups if workers is None else workers
    threads = max(1, cores // count)
    return [
        WorkerDevices(
            worker=i + 1,
            gpus=tuple(chosen[i * per_trial : (i + 1) * per_trial]),
            per_trial=per_trial,
            logical_cpus=1,
            threads=threads,
        )
        for i in range(count)
    ]


def _cpu_plan(
    devices_per_trial: int | str, cores: int, workers: int | None, logical_cpus: int | None
) -> list[WorkerDevices]:
    split = logical_cpus or 1
    per_trial = split if devices_per_trial == "all" else int(devices_per_trial)
    if per_trial > split:
        raise ValueError(
            f"devices_per_trial {per_trial} > {split} CPU device(s); set train.logical_cpus"
        )
    count = workers or 1
    threads = max(1, cores // count)
    return [
        WorkerDevices(
            worker=i + 1, gpus=(), per_trial=per_trial, logical_cpus=split, threads=threads
        )
        for i in range(count)
    ]


def configure_tensorflow(plan: WorkerDevices) -> None:
    """Threads, logical CPU devices and GPU memory growth; call before TensorFlow runs anything.

    Raises:
        RuntimeError: TensorFlow already initialised its devices in this process.
    """
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(plan.threads)
    tf.config.threading.set_inter_op_parallelism_threads(min(2, plan.threads))
    allow_memory_growth()
    if plan.logical_cpus > 1:
        split_cpu(plan.logical_cpus)


def allow_memory_growth() -> None:
    """Let TensorFlow take GPU memory as it needs it, not all of it at start (when it can still
    be set: before this process has used a GPU)."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        # RuntimeError: already initialised; too late, and nothing to do about it.
        with contextlib.suppress(RuntimeError):
            tf.config.experimental.set_memory_growth(gpu, True)


def split_cpu(count: int) -> None:
    """Split the first physical CPU into ``count`` logical devices (``/cpu:0`` .. ``/cpu:N-1``).

    Raises:
        RuntimeError: TensorFlow already initialised its devices with another split.
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    try:
        tf.config.set_logical_device_configuration(cpu, wanted)
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise


def gpu_count() -> int:
    """Physical GPUs TensorFlow sees (without creating a GPU context)."""
    import tensorflow as tf

    return len(tf.config.list_physical_devices("GPU"))


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def describe_devices(names: Sequence[str]) -> list[str]:
    """Human names of TensorFlow devices (``NVIDIA H100 80GB HBM3``; the CPU model for CPUs)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    described: list[str] = []
    for name in names:
        kind, _, index = name.strip("/").partition(":")
        if kind.lower() == "gpu" and index.isdigit() and int(index) < len(gpus):
            details: dict[str, Any] = tf.config.experimental.get_device_details(gpus[int(index)])
            described.append(str(details.get("device_name", name)))
        else:
            described.append(_cpu_name())
    return described


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "CPU"


def placement_attrs(worker: int, devices: Sequence[str]) -> dict[str, Any]:
    """The user attrs that say where a trial ran: worker id, TensorFlow version, device names."""
    import tensorflow as tf

    return {
        "worker": worker,
        "tensorflow": tf.__version__,
        "device_names": describe_devices(devices),
    }

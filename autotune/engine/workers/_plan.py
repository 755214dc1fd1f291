"""Which processes a run uses: worker processes, or groups of processes per trial.

Plain functions of the run file and the machine (GPUs, cores, ``--workers``, ``--join``); the
pool (``workers._pool``) starts what they plan. A plan that cannot be honoured is refused
with the run file's key.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from autotune.engine.trial._bodies import BuilderBody
from autotune.spec import SpecError
from autotune.spec._errors import Described
from autotune.train import WorkerDevices, allow_memory_growth, cores, gpu_count, plan_workers

if TYPE_CHECKING:
    from autotune.spec import RunSpec


def worker_plan(spec: RunSpec, workers: int | None, *, join: bool = False) -> list[WorkerDevices]:
    """The worker processes a run uses; empty when its trials run in the ``autotune`` process.

    Trials run in-process (as a plain Keras loop would) when ``--workers`` is not given, the
    machine offers one device group of one device, and no option needs a replaceable process
    (``logical_cpus``, ``trial_timeout``, ``worker_rss_limit``).

    Raises:
        SpecError: the devices cannot be split as asked.
    """
    train = spec.train
    size = train.processes_per_trial
    if join and size < 2:
        raise SpecError.at(
            spec,
            ("train", "processes_per_trial"),
            expected="2 or more processes per trial with --join (groups to join)",
            received=size,
        )
    if size > 1 and not join:
        return group_plan(spec, workers)
    try:
        plan = plan_workers(
            devices=train.devices,
            devices_per_trial=train.devices_per_trial,
            gpus=gpu_count(),
            cores=cores(),
            workers=workers,
            logical_cpus=train.logical_cpus,
        )
    except ValueError as error:
        key = "devices" if "not visible" in str(error) else "devices_per_trial"
        raise SpecError.at(
            spec,
            ("train", key),
            expected="devices this machine has, split evenly between workers",
            received=Described(str(error)),
        ) from None
    if any(worker.gpus for worker in plan):
        allow_memory_growth()  # this process evaluates the pick on a GPU the workers share
    replaceable = (train.logical_cpus, train.trial_timeout, train.worker_rss_limit)
    single = len(plan) == 1 and plan[0].per_trial == 1
    if workers is None and single and not join and all(o is None for o in replaceable):
        return []
    return plan


def group_plan(spec: RunSpec, groups: int | None) -> list[WorkerDevices]:
    """The processes of a run whose trials each train in ``processes_per_trial`` processes.

    ``--workers W`` counts groups: W groups of N processes (default: as many as the GPUs
    allow, one on the CPU). Entries ``[i*N, (i+1)*N)`` form group ``i + 1``, its chief first;
    each process gets ``devices_per_trial`` devices (GPUs) or a share of the cores.

    Raises:
        SpecError: this machine cannot hold that many processes.
    """
    train = spec.train
    size = train.processes_per_trial
    gpus = gpu_count()
    on_cpu = train.devices == "cpu" or (train.devices == "auto" and gpus == 0)
    processes = None if groups is None else groups * size
    if on_cpu:
        processes = processes or size
        if processes > cores():
            raise SpecError.at(
                spec,
                ("train", "processes_per_trial"),
                expected=f"at most the {cores()} processes this machine's {cores()} cores can "
                "run (one core each)" + ("" if groups is None else f", {groups} groups"),
                received=train.processes_per_trial,
                hint="a group spans processes of one machine here; each takes a core",
            )
    try:
        plan = plan_workers(
            devices=train.devices,
            devices_per_trial=train.devices_per_trial,
            gpus=gpus,
            cores=cores(),
            workers=processes,
            logical_cpus=train.logical_cpus,
        )
    except ValueError as error:
        raise SpecError.at(
            spec,
            ("train", "processes_per_trial"),
            expected="processes that fit this machine's devices, devices_per_trial each",
            received=Described(str(error)),
        ) from None
    if len(plan) < size or len(plan) % size:
        raise SpecError.at(
            spec,
            ("train", "processes_per_trial"),
            expected=f"a divisor of the {len(plan)} device groups this machine has "
            f"(devices_per_trial {train.devices_per_trial} each)",
            received=size,
        )
    return [dataclasses.replace(devices, worker=i // size + 1) for i, devices in enumerate(plan)]


def check_group_body(spec: RunSpec, body: object) -> None:
    """Refuse a run file's own code a group cannot train: a group's processes build the model
    (autotune's family or a model builder) and train it with autotune's distributed step.

    Raises:
        SpecError: ``model:`` names a KerasTuner HyperModel (its ``fit`` runs ``model.fit``).
    """
    if body is None or isinstance(body, BuilderBody):
        return
    raise SpecError.at(
        spec,
        ("model",),
        expected="auto, mlp, cnn or a model builder function with train.processes_per_trial > 1",
        received=Described(f"{spec.model}, a KerasTuner HyperModel"),
        hint="a HyperModel's fit runs Keras' model.fit, which fails under "
        "MultiWorkerMirroredStrategy; return the model from a builder instead",
    )

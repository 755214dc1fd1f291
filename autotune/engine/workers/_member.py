"""A process of a group that trains each trial together (``train.processes_per_trial``):
the link to its group, the member's loop, joining a group across machines, and the pool's
view of a group's members (``MemberProcess``: alive, dead, collected).

A group's chief runs the worker loop (``workers._process``) with ``in_group``'s setup; a
member runs ``serve_member``: it trains each trial its chief orders through the study's
storage until told the group is done. With ``autotune worker --join`` a process first waits in
the study's lobby (``join_group``) to learn its place.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    import optuna

    from autotune.engine.trial._base import TrialSetup
    from autotune.engine.workers._process import WorkerJob
    from autotune.train import WorkerDevices

ORPHANED_AFTER = 300.0
"""Seconds a group member waits for its chief's next order before it leaves (its chief's
machine died between trials)."""


def in_group(setup: TrialSetup, job: WorkerJob, study: optuna.Study, strategy: Any) -> TrialSetup:
    """The setup of a group's process: its link to the group, no probe, no kept models."""
    from autotune._private._optuna import storage_of, study_id
    from autotune.engine.trial._group import GroupLink, Orders

    assert job.group is not None
    orders = Orders(storage_of(study), study_id(study), job.group.key)
    link = GroupLink(job.group, strategy, orders, job.member_devices)
    return dataclasses.replace(setup, group=link, probe=None, compiled=None)


def serve_member(job: WorkerJob, connection: Connection, *, stopped: Callable[[], bool]) -> str:
    """A group member: train each trial the chief orders, until it says the group is done;
    ``stopped()``: whether Ctrl-C came. Returns the exit reason."""
    import optuna

    from autotune._process_env import quiet_native_stderr
    from autotune.data.sources import default_cache_dir
    from autotune.engine.setup._prepare import prepare, trial_setup
    from autotune.engine.storages._connect import open_for
    from autotune.engine.trial._builtin import member_trial
    from autotune.train import configure_tensorflow, gradient_names, release_memory
    from autotune.train._group import group_strategy

    assert job.group is not None

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with quiet_native_stderr():
        configure_tensorflow(job.devices)
        strategy = group_strategy(job.group.timeout)  # before TensorFlow's runtime starts
    devices = job.devices.trial_devices()
    spec = job.spec
    prepared = prepare(
        spec,
        seed=job.seed,
        sampler_seed=job.sampler_seed,
        devices=devices,
        parallel=True,
        data_cache=default_cache_dir(job.directory.parent),
    )
    study = optuna.load_study(study_name=job.study, storage=open_for(job.storage, spec))
    alone = trial_setup(spec, prepared, devices=devices, seed=job.seed)
    setup = in_group(alone, job, study, strategy)
    assert setup.group is not None
    connection.send(("ready", os.getpid()))
    baseline = gradient_names()
    parent = os.getppid()
    seq = 0
    while True:
        order = setup.group.orders.next(
            after=seq,
            timeout=ORPHANED_AFTER,
            alive=lambda: not stopped() and os.getppid() == parent,
        )
        if order is None:
            return "interrupted" if stopped() else "orphaned"
        seq = int(order["seq"])
        if order.get("stop"):
            why = str(order.get("why", "no_trials_left"))
            return why if why.startswith("recycle") else "no_trials_left"
        member_trial(setup, order)
        release_memory(since=baseline)
        if stopped():
            return "interrupted"


def join_group(job: WorkerJob, *, stopped: Callable[[], bool]) -> WorkerJob | str:
    """Wait in the study's lobby until this process is in a group (``autotune worker
    --join``); the job as that group's process, or the exit reason when none formed
    (``stopped()``: whether Ctrl-C came)."""
    import optuna

    from autotune.engine.reserved._tickets import to_start
    from autotune.engine.storages._connect import open_for
    from autotune.engine.study._study import exhausted
    from autotune.engine.workers._lobby import Lobby, free_port, group_host

    storage = optuna.storages.get_storage(open_for(job.storage, job.spec))
    study = optuna.load_study(study_name=job.study, storage=storage)
    study_id = storage.get_study_id_from_name(job.study)
    lobby = Lobby(
        storage,
        study_id,
        size=job.spec.train.processes_per_trial,
        stale_after=float(job.spec.search.grace_period),
    )
    lobby.enter(f"{group_host()}:{free_port()}", devices=shown_devices(job.devices))
    checked = [0.0]
    over = [""]

    def alive() -> bool:
        if stopped():
            over[0] = "interrupted"
        elif job.deadline is not None and time.time() >= job.deadline:
            over[0] = "budget"
        elif time.monotonic() - checked[0] > 5:
            checked[0] = time.monotonic()
            if exhausted(study) or to_start(study.get_trials(deepcopy=False), job.total) <= 0:
                over[0] = "no_trials_left"
        return not over[0]

    formed = lobby.form(alive=alive)
    if formed is None:
        return over[0] or "no_trials_left"
    os.environ.update(formed.role.environment())  # before TensorFlow's runtime starts
    return dataclasses.replace(job, group=formed.role, member_devices=formed.devices)


def shown_devices(devices: WorkerDevices) -> str:
    """A process's devices as a group's trials record them: ``cpu`` or ``gpu:0,1``."""
    if not devices.gpus:
        return "cpu"
    return "gpu:" + ",".join(str(g) for g in devices.gpus)


MEMBER_DONE = ("no_trials_left", "interrupted", "recycle")
"""How a member's exit reason starts when it left with its group (not a death)."""


@dataclasses.dataclass
class MemberProcess:
    """A running member of a group, as the pool that started it sees it."""

    index: int
    process: BaseProcess
    connection: Connection | None
    exit_reason: str | None = None


def hear(member: MemberProcess) -> None:
    """Read a member's message (``ready``, or ``exit`` with its reason)."""
    assert member.connection is not None
    try:
        message = member.connection.recv()
    except (EOFError, OSError):
        member.connection.close()
        member.connection = None
        member.process.join(timeout=5)
        return
    if message[0] == "exit":
        member.exit_reason = str(message[1])


def dead_member(members: list[MemberProcess]) -> str | None:
    """Why the group is broken: its first member that died (not left with its group)."""
    for member in members:
        if member.process.is_alive() or (member.exit_reason or "").startswith(MEMBER_DONE):
            continue
        why = member.exit_reason or how_ended(member.process.exitcode)
        return f"its group's member {member.index} (pid {member.process.pid}) died ({why})"
    return None


def stop_members(members: list[MemberProcess], *, wait_seconds: float) -> None:
    """Collect a group's members once its chief has ended (they leave on its last order);
    kill those that linger."""
    until = time.monotonic() + wait_seconds
    for member in members:
        member.process.join(timeout=max(0.0, until - time.monotonic()))
        if member.process.is_alive():
            member.process.kill()
            member.process.join(timeout=10)
        if member.connection is not None:
            member.connection.close()


def how_ended(code: int | None) -> str:
    """A process's end from its exit code: ``signal 9`` or ``exit status 1``."""
    return f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"

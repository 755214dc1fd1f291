"""Starting worker processes: the job each gets, its pipes, and a successor held at its gate.

A worker (``autotune.engine.workers._process``) is a ``spawn``-started process whose environment
(``CUDA_VISIBLE_DEVICES``, thread counts) is in place before TensorFlow is imported. It gets
its ``WorkerJob`` pickled and the sending end of a pipe for its messages. A worker started
ahead of time, to take over from one about to recycle, also gets a *gate*: the receiving end of
a second pipe, on which the pool later says ``"go"`` (its predecessor has exited) or
``"stop"``.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import pickle
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from autotune import _worker_process as worker_process
from autotune.engine.workers._process import WorkerJob

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from autotune.spec import RunSpec
    from autotune.train import WorkerDevices
    from autotune.train._group import GroupRole


def sampler_seed(seed: int, worker: int, generation: int, existing: int) -> int:
    """A worker's sampler seed: distinct per worker, per replacement and per resume.

    Example:
        >>> sampler_seed(0, 1, 0, 0) != sampler_seed(0, 2, 0, 0)
        True
    """
    state = np.random.SeedSequence([seed, worker, generation, existing]).generate_state(1)
    return int(state[0])


@dataclass
class Successor:
    """A worker started ahead of time, waiting at its gate to take over a slot."""

    process: BaseProcess
    connection: Connection
    gate: Connection
    generation: int

    def stop(self) -> None:
        """Tell it to leave (it exits with ``unused``) and collect it; kill it if it lingers."""
        with contextlib.suppress(OSError):  # it may have died at the gate
            self.gate.send("stop")
        self.gate.close()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=10)
        self.connection.close()


@dataclass(frozen=True)
class Spawner:
    """Starts the worker processes of one pool run: what every job shares, and its seeds."""

    spec: RunSpec
    study: str
    storage: str
    seed: int
    existing: int
    """Trials the study held when the run began (a resumed study's workers seed anew)."""
    sampler_offset: int
    """Differs between machines sharing a study."""
    deadline: float | None
    directory: Path
    total: int
    join: bool = False
    """Each process joins a group formed through the storage (``autotune worker --join``)."""

    def start(
        self,
        devices: WorkerDevices,
        generation: int,
        *,
        gated: bool,
        group: GroupRole | None = None,
        member_devices: tuple[str, ...] = (),
    ) -> tuple[BaseProcess, Connection, Connection | None]:
        """Start a worker on ``devices`` (``group``: as that process of a group, whose
        processes' devices are ``member_devices``).

        Returns:
            The process, the pipe end its messages arrive on, and (``gated``) the gate's
            sending end.
        """
        worker = devices.worker
        train = self.spec.train
        job = WorkerJob(
            spec=self.spec,
            study=self.study,
            storage=self.storage,
            seed=self.seed,
            sampler_seed=sampler_seed(self.seed, worker, generation, self.existing)
            + self.sampler_offset,
            devices=devices,
            deadline=self.deadline,
            directory=self.directory,
            total=self.total,
            max_trials=train.max_trials_per_worker,
            rss_limit_mib=train.worker_rss_limit,
            group=group,
            member_devices=member_devices,
            join=self.join,
        )
        environment = devices.environment()
        if group is not None:
            environment.update(group.environment())
        context = mp.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        gate_in, gate_out = context.Pipe(duplex=False) if gated else (None, None)
        process = context.Process(
            target=worker_process.main,
            args=(pickle.dumps(job), environment, sender, gate_in),
            name=f"autotune-worker-{worker}" + ("" if group is None else f".{group.index}"),
            daemon=True,
        )
        with worker_process.environment(environment):  # in place before it starts
            process.start()
        sender.close()
        if gate_in is not None:
            gate_in.close()
        return process, receiver, gate_out

"""The worker pool: one long-lived process per device group, replaced when it must be.

Each worker (``workers._process``) is pinned to its devices before TensorFlow starts and
pops reserved trials from the shared study until none is left. The pool, in the ``autotune``
process, only watches: it forwards the workers' progress to the display, rewrites the result
files after every trial, and replaces a worker that

- recycled itself (``train.max_trials_per_worker`` trials run, or RSS over
  ``train.worker_rss_limit``): memory never creeps across a long study;
- died (OOM killer, segfault): its running trial is marked FAIL, end ``worker_died`` (it does
  not count) and retried once with the same values;
- ran one trial longer than ``train.trial_timeout``: the pool kills it (SIGKILL) and marks the
  trial FAIL, end ``timeout`` (it counts; it is not retried).

A worker about to recycle on its trial count gets its successor started ahead of time
(``START_AHEAD``): the successor imports TensorFlow (~3 s of a ~4.4 s start here) while the
worker runs its last trials, then waits at a gate until the worker has exited, so a recycle
costs a device start instead of a process start. ``_worker.successor_due`` says when.

Workers exchange messages with the pool over one pipe each (a shared queue could be left
locked by a worker killed mid-write).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState

from autotune.engine.reserved._claim import fail_trial, retry_lost
from autotune.engine.reserved._tickets import to_start
from autotune.engine.step._interrupts import held_interrupts
from autotune.engine.study._study import counted, exhausted, mark_abandoned
from autotune.engine.workers._member import (
    MemberProcess,
    dead_member,
    hear,
    how_ended,
    shown_devices,
    stop_members,
)
from autotune.engine.workers._process import successor_due
from autotune.engine.workers._spawn import Spawner, Successor
from autotune.train import WorkerDevices
from autotune.train._group import GroupRole, free_addresses

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from autotune.results import RankedTrial
    from autotune.spec import RunSpec

logger = logging.getLogger(__name__)

REPLACED_AFTER = ("recycle", "died", "timeout", "group_broken", "orphaned")
"""Exit reasons after which a worker is replaced while reserved trials are left."""
START_AHEAD = True
"""Start a worker's successor while the worker runs its last trials (a benchmark turns it off)."""
FIRST_STARTUP_GUESS = 5.0
"""Seconds a worker is assumed to need to start, until one has been timed."""


def run_pool(study: optuna.Study, **options: Any) -> bool:
    """Run a study's reserved trials in worker processes (see ``Pool``); True after Ctrl-C."""
    return Pool(study, **options).run()


@dataclass
class _Slot:
    devices: WorkerDevices
    generation: int = -1
    process: BaseProcess | None = None
    connection: Connection | None = None
    running: tuple[int, float] | None = None
    """(trial number, unix time it started) while the worker trains a trial."""
    exit_reason: str | None = None
    spawned: float = 0.0
    """``time.monotonic()`` when the current process started (or took over, if ``ahead``)."""
    ahead: bool = False
    """Whether the current process was started ahead of time (``START_AHEAD``)."""
    started: int = 0
    """Trials the current process has started."""
    cycles: list[float] = field(default_factory=list)
    """Seconds between the current process's recent trial starts."""
    last_start: float = 0.0
    successor: Successor | None = None
    member_devices: list[WorkerDevices] = field(default_factory=list)
    """A group's other processes' devices (``processes_per_trial``); empty for a lone worker."""
    members: list[MemberProcess] = field(default_factory=list)
    broken: str | None = None
    """Why the group's running trial was lost, when a member died (its chief is then killed)."""


class Pool:
    """Runs a study's reserved trials in worker processes; see the module docstring."""

    def __init__(
        self,
        study: optuna.Study,
        *,
        spec: RunSpec,
        name: str,
        storage: str,
        total: int,
        reserved: int | None = None,
        seed: int,
        plan: list[WorkerDevices],
        deadline: float | None,
        directory: Path,
        on_event: Callable[[Any], None] | None,
        write: Callable[[Sequence[optuna.trial.FrozenTrial]], list[RankedTrial]],
        sampler_offset: int = 0,
        join: bool = False,
    ) -> None:
        self.study = study
        self.spec = spec
        self.total = total
        self.reserved = total if reserved is None else reserved  # fewer for a small grid
        self.deadline = deadline
        self.directory = directory
        self.on_event = on_event
        self.write = write
        size = 1 if join else spec.train.processes_per_trial
        self.slots = [
            _Slot(plan[i], member_devices=plan[i + 1 : i + size]) for i in range(0, len(plan), size)
        ]
        self.spawner = Spawner(
            spec=spec,
            study=name,
            storage=storage,
            seed=seed,
            existing=len(study.get_trials(deepcopy=False)),
            sampler_offset=sampler_offset,
            deadline=deadline,
            directory=directory,
            total=self.reserved,
            join=join,
        )
        self.deaths_in_a_row = 0
        self.errors: list[str] = []
        self.ended = 0
        self.startup_seconds: float | None = None  # the slowest worker start timed so far
        self.left: int | None = None  # trials not yet started, as last read
        self.stopping = False  # Ctrl-C: the workers are draining

    def run(self) -> bool:
        """Run until no reserved trial is left (or the budget, the grid or Ctrl-C ends the run).

        Returns:
            Whether Ctrl-C stopped the run.
        """
        interrupted = False
        for slot in self.slots:
            self._start(slot)
        try:
            while any(slot.process is not None for slot in self.slots):
                self._step()
        except KeyboardInterrupt:
            interrupted = True
            self._stop_all()
        finally:
            for slot in self.slots:
                self._discard_successor(slot)
        mark_abandoned(self.study)
        if self.errors and self.ended == 0:
            raise RuntimeError(f"every worker failed: {self.errors[0]}")
        return interrupted

    def _start(self, slot: _Slot) -> None:
        """Start the slot's next worker: its successor if one waits at the gate, else anew."""
        successor, slot.successor = slot.successor, None
        if successor is not None:
            try:
                successor.gate.send("go")
            except OSError:  # it died at the gate: start another
                successor.stop()
            else:
                successor.gate.close()
                self._took_over(slot, successor.process, successor.connection, ahead=True)
                slot.generation = successor.generation
                logger.info(
                    "worker %d (pid %s, started ahead) takes over",
                    slot.devices.worker,
                    successor.process.pid,
                )
                return
        slot.generation += 1
        if slot.member_devices:
            self._start_group(slot)
            return
        process, receiver, _gate = self.spawner.start(slot.devices, slot.generation, gated=False)
        self._took_over(slot, process, receiver, ahead=False)
        logger.info(
            "worker %d (pid %s) started on %s", slot.devices.worker, process.pid, slot.devices
        )

    def _start_group(self, slot: _Slot) -> None:
        """Start a group's processes on fresh ports: its chief in the slot, then its members."""
        everyone = [slot.devices, *slot.member_devices]
        addresses = free_addresses(len(everyone))
        key = f"{slot.devices.worker}-{slot.generation}-{secrets.token_hex(4)}"
        shown = tuple(shown_devices(devices) for devices in everyone)
        started = []
        for index, devices in enumerate(everyone):
            role = GroupRole(index, addresses, key)
            process, receiver, _gate = self.spawner.start(
                devices, slot.generation, gated=False, group=role, member_devices=shown
            )
            started.append((process, receiver))
        self._took_over(slot, *started[0], ahead=False)
        slot.members = [MemberProcess(i, p, c) for i, (p, c) in enumerate(started[1:], start=1)]
        slot.broken = None
        logger.info(
            "group %d (pids %s) started on %s",
            slot.devices.worker,
            ", ".join(str(p.pid) for p, _ in started),
            ", ".join(addresses),
        )

    def _took_over(
        self, slot: _Slot, process: BaseProcess, connection: Connection, *, ahead: bool
    ) -> None:
        slot.process, slot.connection = process, connection
        slot.running = slot.exit_reason = None
        slot.spawned, slot.ahead, slot.started, slot.cycles = time.monotonic(), ahead, 0, []

    def _start_ahead(self, slot: _Slot) -> None:
        """Start the slot's successor now if its worker will soon recycle on its trial count."""
        max_trials = self.spec.train.max_trials_per_worker
        if not START_AHEAD or self.stopping or slot.successor is not None or slot.member_devices:
            return
        # self.left was read before this trial started: the study should end before the worker
        # recycles when what is left after this trial is at most what the worker will run.
        if self.left is not None and self.left - 1 <= max_trials - slot.started:
            return
        cycles = sorted(slot.cycles[-5:])
        due = successor_due(
            slot.started,
            max_trials=max_trials,
            trial_seconds=cycles[len(cycles) // 2] if cycles else None,
            startup_seconds=self.startup_seconds or FIRST_STARTUP_GUESS,
        )
        if not due:
            return
        generation = slot.generation + 1
        process, receiver, gate = self.spawner.start(slot.devices, generation, gated=True)
        assert gate is not None
        slot.successor = Successor(process, receiver, gate, generation)
        logger.info(
            "worker %d (pid %s) started ahead for when worker pid %s recycles",
            slot.devices.worker,
            process.pid,
            slot.process.pid if slot.process is not None else None,
        )

    def _discard_successor(self, slot: _Slot) -> None:
        successor, slot.successor = slot.successor, None
        if successor is not None:
            successor.stop()

    def _step(self) -> None:
        live = [s.connection for s in self.slots if s.connection is not None]
        members = {m.connection: m for s in self.slots for m in s.members if m.connection}
        for connection in wait([*live, *members], timeout=0.5):
            if connection in members:
                hear(members[connection])
                continue
            slot = next(s for s in self.slots if s.connection is connection)
            self._receive(slot)
        for slot in self.slots:
            self._check_members(slot)
        now = time.time()
        timeout = self.spec.train.trial_timeout
        for slot in self.slots:
            if slot.process is None:
                continue
            if slot.connection is None and not slot.process.is_alive():
                self._exited(slot)
            elif timeout is not None and slot.running and now - slot.running[1] > timeout:
                self._kill_hung(slot, timeout)

    def _receive(self, slot: _Slot) -> None:
        assert slot.connection is not None
        try:
            message = slot.connection.recv()
        except (EOFError, OSError):
            slot.connection.close()
            slot.connection = None
            if slot.process is not None:
                slot.process.join(timeout=10)
            return
        kind = message[0]
        worker = slot.devices.worker
        if kind == "ready":
            took = time.monotonic() - slot.spawned
            if not slot.ahead:  # a start no gate held back: its whole length
                self.startup_seconds = max(self.startup_seconds or 0.0, took)
        elif kind == "started":
            _, number, devices, params, started = message
            slot.running = (number, started)
            now = time.monotonic()
            if slot.started:
                slot.cycles.append(now - slot.last_start)
            slot.last_start = now
            slot.started += 1
            self._emit_started(number, worker, tuple(devices), params)
            self._start_ahead(slot)
        elif kind == "ended":
            slot.running = None
            self.deaths_in_a_row = 0
            self.ended += 1
            with held_interrupts() as held:  # the result files are rewritten whole
                self._emit_ended(message[1], worker)
            if held:
                raise KeyboardInterrupt
        elif kind == "exit":
            slot.exit_reason = str(message[1])
            if slot.exit_reason.startswith("error"):
                self.errors.append(slot.exit_reason)
                logger.error("worker %d: %s", worker, slot.exit_reason)

    def _check_members(self, slot: _Slot) -> None:
        """A member that died while its chief runs breaks the group: kill the chief, whose
        running trial is then lost and retried (``_exited``) and the group formed anew."""
        if slot.process is None or slot.broken is not None:
            return
        slot.broken = dead_member(slot.members)
        if slot.broken is not None:
            logger.warning("group %d: %s", slot.devices.worker, slot.broken)
            with contextlib.suppress(ProcessLookupError):
                slot.process.kill()

    def _stop_members(self, slot: _Slot, *, wait_seconds: float = 10.0) -> None:
        stop_members(slot.members, wait_seconds=wait_seconds)
        slot.members = []

    def _exited(self, slot: _Slot) -> None:
        """A worker process has ended: record a lost trial, replace the worker if needed."""
        assert slot.process is not None
        code = slot.process.exitcode
        reason = slot.exit_reason or "died"
        broken = reason.startswith("group_broken")
        if slot.members:
            self._stop_members(slot, wait_seconds=0.0 if slot.broken or broken else 10.0)
        if broken and slot.running is None:
            reason = "group_broken"  # between trials, or a member: no trial was lost here
        elif reason == "died" or broken or slot.running is not None:
            why = slot.broken
            if why is None and broken:
                why = f"its group broke ({reason.partition(': ')[2]})"
            reason = "died"
            self._lost_trial(slot, code, why=why)
        slot.process = None
        if self._replace(reason):
            self._start(slot)
        else:
            self._discard_successor(slot)

    def _replace(self, reason: str) -> bool:
        if not reason.startswith(REPLACED_AFTER):
            return False
        if self.deadline is not None and time.time() >= self.deadline:
            return False
        if (
            exhausted(self.study)
            or to_start(self.study.get_trials(deepcopy=False), self.reserved) <= 0
        ):
            return False
        if self.deaths_in_a_row > 2 * len(self.slots) + 1:
            logger.error("workers died %d times in a row; stopping", self.deaths_in_a_row)
            self.errors.append("workers kept dying")
            return False
        return True

    def _lost_trial(self, slot: _Slot, code: int | None, *, why: str | None = None) -> None:
        self.deaths_in_a_row += 1
        pid = slot.process.pid if slot.process is not None else None
        how = how_ended(code)
        number = slot.running[0] if slot.running else self._running_of(pid)
        slot.running = None
        if number is None:
            logger.warning("worker %d (pid %s) died (%s)", slot.devices.worker, pid, why or how)
            return
        reason = why or f"its worker (pid {pid}) died ({how})"
        retry_lost(self.study, number, reason=reason, total=self.reserved)
        self._emit_ended(number, slot.devices.worker)

    def _kill_hung(self, slot: _Slot, timeout: float) -> None:
        assert slot.process is not None and slot.running is not None
        number = slot.running[0]
        logger.warning("trial %d ran over %.0fs: killing its worker", number, timeout)
        slot.process.kill()
        slot.process.join(timeout=30)
        self._drain(slot)
        self._stop_members(slot, wait_seconds=0.0)
        slot.running = None
        fail_trial(
            self.study,
            number,
            end="timeout",
            reason=f"ran longer than train.trial_timeout ({timeout:.0f}s); its worker was replaced",
        )
        self._emit_ended(number, slot.devices.worker)
        slot.process = None
        if self._replace("timeout"):
            self._start(slot)
        else:
            self._discard_successor(slot)

    def _drain(self, slot: _Slot) -> None:
        while slot.connection is not None:
            self._receive(slot)

    def _running_of(self, pid: int | None) -> int | None:
        for frozen in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            owner = frozen.user_attrs.get("owner")
            if isinstance(owner, dict) and owner.get("pid") == pid:
                return frozen.number
        return None

    def _stop_all(self) -> None:
        """Ctrl-C: let each worker record its trial as interrupted, then collect them."""
        self.stopping = True  # no successor is started while the workers drain
        for slot in self.slots:
            self._discard_successor(slot)
        for slot in self.slots:
            pids = [m.process.pid for m in slot.members]
            if slot.process is not None:
                pids.append(slot.process.pid)
            for pid in pids:
                if pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGINT)
        until = time.time() + 120
        while any(s.process is not None for s in self.slots) and time.time() < until:
            try:
                self._step_draining()
            except KeyboardInterrupt:
                continue
        for slot in self.slots:
            if slot.process is not None:
                slot.process.kill()
                slot.process.join(timeout=10)
                slot.process = None
            self._stop_members(slot, wait_seconds=5.0)

    def _step_draining(self) -> None:
        live = [s.connection for s in self.slots if s.connection is not None]
        for connection in wait(live, timeout=0.5):
            self._receive(next(s for s in self.slots if s.connection is connection))
        for slot in self.slots:
            if slot.process is not None and slot.connection is None:
                slot.process.join(timeout=10)
                slot.process = None
                self._stop_members(slot)

    def _emit_started(
        self, number: int, worker: int, devices: tuple[str, ...], params: Any
    ) -> None:
        if self.on_event is None:
            return
        from autotune.engine._events import TrialStarted

        self.on_event(TrialStarted(number, worker, devices, dict(params)))

    def _emit_ended(self, number: int, worker: int) -> None:
        from autotune.engine._events import TrialEvent
        from autotune.engine.output._kept_models import keep_models

        trials = self.study.get_trials(deepcopy=False)
        self.left = to_start(trials, self.reserved)
        frozen = trials[number]
        ranked = self.write(trials)
        saving = {slot.running[0] for slot in self.slots if slot.running is not None}
        keep_models(self.directory, ranked, number, None, saving=saving)
        if self.on_event is None:
            return
        attrs = frozen.user_attrs
        accuracy = attrs.get("accuracy")
        self.on_event(
            TrialEvent(
                number=number,
                state=frozen.state.name,
                end=str(attrs.get("end", frozen.state.name.lower())),
                accuracy=accuracy if isinstance(accuracy, float) else None,
                wall_seconds=float(attrs.get("wall_seconds") or 0.0),
                reason=attrs.get("reason"),
                done=counted(trials),
                total=self.total,
                best_accuracy=max((r.accuracy for r in ranked), default=None),
                seconds_left=None
                if self.deadline is None
                else max(0.0, self.deadline - time.time()),
                worker=worker,
            )
        )

"""One worker process: pinned to its devices, it pops reserved trials and runs them until told
to stop, then exits so that the pool can replace it with a fresh process.

The parent (``autotune.engine.workers._pool.Pool``) starts it with a ``WorkerJob`` and one end of a
pipe. A worker started ahead of time, to take over from one about to recycle, also gets a
*gate*: it imports TensorFlow, then waits there, before it starts any device, for ``"go"``
(its predecessor has exited) or ``"stop"`` (it is not needed; it exits with ``unused``).
Messages, child to parent, all tuples:

- ``("ready", pid)`` once TensorFlow and the data are loaded;
- ``("started", number, devices, params, unix_time)`` before each trial trains;
- ``("ended", number)`` once the trial is recorded in the study (and its model saved);
- ``("exit", reason)`` last: ``recycle`` (trial count or RSS limit reached), ``no_trials_left``,
  ``budget`` (the budget is spent, no trial could report in time, or the grid is
  exhausted), ``interrupted`` (Ctrl-C), ``unused`` (told to stop at the gate) or ``error``
  (with a message).
"""

from __future__ import annotations

import logging
import os
import signal
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from autotune._stop import request_stop
from autotune.engine.workers._member import in_group, join_group, serve_member

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    import keras
    import optuna

    from autotune.engine.step._step import Step
    from autotune.spec import RunSpec
    from autotune.train import WorkerDevices
    from autotune.train._group import GroupRole

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerJob:
    """What a worker process needs (plain, picklable values)."""

    spec: RunSpec
    study: str
    storage: str
    seed: int
    sampler_seed: int
    devices: WorkerDevices
    deadline: float | None
    """A ``time.time()`` value; the study's budget ends then."""
    directory: Path
    total: int
    """The study-wide total: the worker reserves more trials until all have started."""
    max_trials: int
    rss_limit_mib: float | None
    group: GroupRole | None = None
    """This process's place in a group that trains each trial together (None: alone)."""
    member_devices: tuple[str, ...] = ()
    """Each process of the group's devices, chief first (recorded on the group's trials)."""
    join: bool = False
    """Join a group formed through the storage with other machines' processes
    (``autotune worker --join``); ``group`` is then known once it has formed."""


def should_recycle(
    trials: int, rss_mib: float, *, max_trials: int, rss_limit_mib: float | None
) -> str | None:
    """Why a worker that has run ``trials`` trials and holds ``rss_mib`` MiB should be replaced.

    Example:
        >>> should_recycle(50, 900.0, max_trials=50, rss_limit_mib=None)
        'ran 50 trials (train.max_trials_per_worker)'
        >>> should_recycle(3, 2100.0, max_trials=50, rss_limit_mib=2000.0)
        'RSS 2100 MiB > 2000 MiB (train.worker_rss_limit)'
        >>> should_recycle(3, 900.0, max_trials=50, rss_limit_mib=2000.0) is None
        True
    """
    if trials >= max_trials:
        return f"ran {trials} trials (train.max_trials_per_worker)"
    if rss_limit_mib is not None and rss_mib > rss_limit_mib:
        return f"RSS {rss_mib:.0f} MiB > {rss_limit_mib:.0f} MiB (train.worker_rss_limit)"
    return None


def successor_due(
    started: int, *, max_trials: int, trial_seconds: float | None, startup_seconds: float
) -> bool:
    """Whether to start a worker's successor now, as the worker starts its ``started``-th trial:
    when the trials it has left (this one included) take at most twice as long as a new worker
    needed to start (it starts slower beside a busy worker), so that the successor is ready
    when the worker recycles. Always at its last trial; never before a trial's length is known.

    Example:
        >>> successor_due(10, max_trials=50, trial_seconds=0.1, startup_seconds=4.0)
        True
        >>> successor_due(10, max_trials=50, trial_seconds=1.0, startup_seconds=4.0)
        False
        >>> successor_due(50, max_trials=50, trial_seconds=None, startup_seconds=4.0)
        True
    """
    left = max_trials - started + 1
    if left <= 1:
        return True
    return trial_seconds is not None and left * trial_seconds <= 2 * startup_seconds


def rss_mib() -> float:
    """This process's resident memory in MiB."""
    return float(psutil.Process().memory_info().rss) / 2**20


def worker_main(job: WorkerJob, connection: Connection, gate: Connection | None = None) -> None:
    """The body of a worker process, started by ``autotune._worker_process.main``; ``gate``:
    for a worker started ahead of time, where the pool says when to start (see the module)."""
    if job.group is None and not job.join:
        _first_interrupt_only()
    else:
        _note_interrupts_only()
    try:
        if job.join:
            joined = join_group(job, stopped=lambda: _CTRL_C.hit)
            if isinstance(joined, str):
                connection.send(("exit", joined))
                return
            job = joined
        if job.group is not None and not job.group.chief:
            reason = serve_member(job, connection, stopped=lambda: _CTRL_C.hit)
        else:
            reason = _serve(job, connection, gate)
        connection.send(("exit", reason))
    except KeyboardInterrupt:
        connection.send(("exit", "interrupted"))
    except BaseException as error:
        if _group_broken(error):  # TensorFlow needs a new process
            connection.send(("exit", f"group_broken: {error}"))
            return
        text = f"{type(error).__name__}: {error}"
        logger.debug("worker failed: %s", traceback.format_exc())
        connection.send(("exit", f"error: {text}"))
    finally:
        connection.close()


def _serve(job: WorkerJob, connection: Connection, gate: Connection | None) -> str:
    import optuna

    from autotune._process_env import quiet_native_stderr
    from autotune.train import configure_tensorflow

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with quiet_native_stderr():
        configure_tensorflow(job.devices)

    from autotune.data.sources import default_cache_dir
    from autotune.engine.output._kept_models import may_win, save_model
    from autotune.engine.setup._prepare import prepare, trial_setup
    from autotune.engine.step._step import Step, started_params
    from autotune.engine.storages._connect import open_for
    from autotune.results import rank_trials
    from autotune.train import freeze_long_lived, gradient_names, placement_attrs

    spec = job.spec
    storage = open_for(job.storage, spec)  # no device is touched until the gate opens
    freeze_long_lived()  # TensorFlow's modules: the second call below finds little new
    if gate is not None and not _our_turn(gate):
        return "unused"
    with quiet_native_stderr():  # device start-up chatter
        strategy = _start_devices(job)
    devices = job.devices.trial_devices()
    prepared = prepare(
        spec,
        seed=job.seed,
        sampler_seed=job.sampler_seed,
        devices=devices,
        parallel=True,
        data_cache=default_cache_dir(job.directory.parent),
    )
    study = optuna.load_study(
        study_name=job.study, storage=storage, sampler=prepared.sampler, pruner=prepared.pruner
    )
    setup = trial_setup(spec, prepared, devices=devices, seed=job.seed)
    if job.group is not None:
        setup = in_group(setup, job, study, strategy)
    connection.send(("ready", os.getpid()))
    baseline = gradient_names()
    freeze_long_lived()

    def started(trial: optuna.Trial) -> None:
        params = started_params(trial, setup)
        connection.send(("started", trial.number, devices, params, time.time()))

    def recorded(
        trials: Sequence[optuna.trial.FrozenTrial], number: int, model: keras.Model | None
    ) -> None:
        # The pool's parent rewrites the results and prunes models; this saves a possible winner.
        if model is not None and may_win(rank_trials(list(trials), spec.rank), number):
            save_model(job.directory, number, model)

    step = Step(
        study,
        setup,
        total=job.total,
        placement=placement_attrs(job.devices.worker, devices),
        baseline=baseline,
        noting=_noted_by_handler,
        on_started=started,
        after_record=recorded,
        stopped=lambda: _CTRL_C.hit,
        extras=lambda: {"worker_rss_mib": round(rss_mib(), 1)},
    )
    why = "no_trials_left"
    try:
        why = _trials(job, study, step, connection)
        return why
    finally:
        if setup.group is not None:
            setup.group.orders.leave(why)  # the members exit


def _trials(
    job: WorkerJob,
    study: optuna.Study,
    step: Step,
    connection: Connection,
) -> str:
    """Run trials one step at a time until none is left, the budget ends or the worker
    recycles; the exit reason."""
    from autotune.engine.step._step import INTERRUPTED, NO_TRIALS_LEFT
    from autotune.engine.study._planner import may_start

    ran = 0
    trials: Sequence[optuna.trial.FrozenTrial] | None = None  # the study as read after a record
    while True:
        left = None if job.deadline is None else job.deadline - time.time()
        if not may_start(study, left, trials):
            return "budget"
        end = step.run(deadline=None if left is None else time.perf_counter() + left, trials=trials)
        if end.end == NO_TRIALS_LEFT:
            return "no_trials_left"
        if end.frozen is not None:
            connection.send(("ended", end.frozen.number))
            ran += 1
        trials = end.trials
        if end.end == INTERRUPTED or _CTRL_C.hit:
            return "interrupted"
        why = should_recycle(
            ran, rss_mib(), max_trials=job.max_trials, rss_limit_mib=job.rss_limit_mib
        )
        if why is not None:
            logger.info("worker %d recycles: %s", job.devices.worker, why)
            return f"recycle: {why}"


def _group_broken(error: BaseException) -> bool:
    """Whether a group's collective failed (TensorFlow is loaded whenever one can have)."""
    from autotune.train._group import GroupBroken

    return isinstance(error, GroupBroken)


def _our_turn(gate: Connection) -> bool:
    """Wait at the gate: True on ``"go"``; False on ``"stop"`` or when the pool has gone."""
    try:
        return bool(gate.recv() == "go")
    except (EOFError, OSError):
        return False
    finally:
        gate.close()


def _start_devices(job: WorkerJob) -> Any:
    """Start TensorFlow's devices now (with their log lines muted), not at the first trial.

    A group's process makes its ``MultiWorkerMirroredStrategy`` here, before anything else
    starts TensorFlow's runtime (it waits for the group's other processes), and returns it.
    """
    if job.group is not None:
        from autotune.train._group import group_strategy

        return group_strategy(job.group.timeout)
    import tensorflow as tf

    tf.config.list_logical_devices()
    return None


class _CtrlC:
    hit = False

    def __bool__(self) -> bool:
        return self.hit


_CTRL_C = _CtrlC()


@contextmanager
def _noted_by_handler() -> Iterator[_CtrlC]:
    """A worker's Ctrl-C is noted by its own handler (``_first_interrupt_only``) all along."""
    yield _CTRL_C


def _note_interrupts_only() -> None:
    """A group's process only notes Ctrl-C: the group's step all-reduces it as a stop flag,
    so that every process stops at the same step (an exception would leave the others waiting
    in a collective)."""

    def interrupt(signum: int, frame: object) -> None:
        _CTRL_C.hit = True
        request_stop()

    signal.signal(signal.SIGINT, interrupt)


def _first_interrupt_only() -> None:
    """Ctrl-C reaches a worker twice (from the terminal and forwarded by the pool): the first
    stops the running trial, later ones are ignored so that recording is never cut short."""

    def interrupt(signum: int, frame: object) -> None:
        _CTRL_C.hit = True
        request_stop()  # seen by the training loop even if the exception below is dropped
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)

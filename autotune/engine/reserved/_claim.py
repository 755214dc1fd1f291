"""One study shared by workers on many machines through a database server.

Workers coordinate only through the database, as Optuna intends: a lock on the study while
one of them creates it or reserves trials (PostgreSQL advisory lock, MySQL ``GET_LOCK``),
the reserved trials of ``_reserve`` popped one at a time, and heartbeats (``_server``) that
let any worker retry the trial of one that died. The processes of one machine sharing a SQLite
file coordinate the same way, with a lock file (``_storage.local_study_lock``) as the lock.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import optuna
from optuna.trial import FrozenTrial, TrialState

from autotune._private._optuna import backend_of, storage_of, trial_id
from autotune.engine.reserved._tickets import WINDOW, pop, reserved, retry, tickets
from autotune.engine.storages._local import local_sqlite, local_study_lock
from autotune.engine.storages._server import (
    fail_and_retry_stale,
    server_of,
    stale_trial_ids,
    with_reconnect,
)
from autotune.engine.trial._record import record

if TYPE_CHECKING:
    from autotune.train import TrialResult

logger = logging.getLogger(__name__)

TOTAL_ATTR = "autotune:total"
"""Study user attr: the study-wide total the workers last reserved (``--trials``)."""


_LOCKING_DIALECTS = ("postgresql", "mysql", "mariadb")
"""Database servers whose study lock (``study_lock``) really locks."""


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for a study name."""
    return zlib.crc32(f"autotune:{name}".encode()) - (1 << 31)


@contextmanager
def study_lock(storage: str | optuna.storages.BaseStorage, name: str) -> Iterator[None]:
    """Hold the study's lock while the block runs (create or join the study, reserve trials):
    on a database server an advisory lock, on a local SQLite file a lock file of this machine
    (``local_study_lock``). Other storages (in memory, a journal) lock nothing.

    The lock lives in its own connection (file descriptor); a worker that dies releases it.
    """
    server = server_of(storage)
    if server is None:
        with local_study_lock(storage):
            yield
        return
    import sqlalchemy

    dialect = server.engine.dialect.name
    if dialect not in _LOCKING_DIALECTS:
        logger.warning("no study lock on %s: start workers one at a time", dialect)
        yield
        return
    if dialect == "postgresql":
        take, give = "SELECT pg_advisory_lock(:key)", "SELECT pg_advisory_unlock(:key)"
        key: int | str = _lock_key(name)
    else:
        take, give = "SELECT GET_LOCK(:key, -1)", "SELECT RELEASE_LOCK(:key)"
        key = f"autotune:{name}"[:64]

    def connect() -> sqlalchemy.engine.Connection:
        connection = server.engine.connect()
        connection.execute(sqlalchemy.text(take), {"key": key})
        return connection

    connection = with_reconnect(
        connect, what="lock the study", timeout=server.settings.reconnect_timeout
    )
    try:
        yield
    finally:
        try:
            connection.execute(sqlalchemy.text(give), {"key": key})
            connection.commit()
        except Exception as error:  # the connection went away: the server released the lock
            logger.info("study lock released with its connection (%s)", type(error).__name__)
        finally:
            connection.close()


def reserve_shared(study: optuna.Study, total: int) -> list[int]:
    """``reserve`` the study's total under the study lock (where any worker may reserve),
    ``WINDOW`` tickets at a time where every process tops them up under a lock (``claim``); on
    a database server after failing the stale trials of dead workers, so that they are not
    counted as running. The total is kept in a shared study for workers that retry trials."""
    return _reserve_locked(study, total)[0]


def _window(study: optuna.Study) -> int | None:
    """The ticket window of a study's storage: where a lock keeps top-ups of several processes
    apart (database server, local SQLite) or one process holds the study (in memory)."""
    storage = backend_of(storage_of(study))
    server = server_of(study)
    if server is not None:  # without a lock, two processes topping up at once could overshoot
        return WINDOW if server.engine.dialect.name in _LOCKING_DIALECTS else None
    if local_sqlite(storage) is not None:
        return WINDOW
    return WINDOW if isinstance(storage, optuna.storages.InMemoryStorage) else None


def _reserve_locked(study: optuna.Study, total: int) -> tuple[list[int], int]:
    window = _window(study)
    if server_of(study) is None:
        with local_study_lock(storage_of(study)):
            return reserved(study, total, window=window)
    with study_lock(storage_of(study), study.study_name):
        fail_and_retry_stale(study)
        if study.user_attrs.get(TOTAL_ATTR) != total:
            study.set_user_attr(TOTAL_ATTR, total)
        return reserved(study, total, window=window)


def claim(
    study: optuna.Study,
    known: Sequence[optuna.trial.FrozenTrial] | None = None,
    *,
    total: int | None = None,
) -> optuna.Trial | None:
    """Take the next reserved trial (``pop``), or None when none is left. ``known``: the study
    as the caller last read it, tried first (``pop``); ignored on a database server, where
    other machines reserve and take back tickets at any time. ``total``: the study-wide total
    (``--trials``): when no ticket is left, more are reserved (``reserve_shared``) until every
    trial of the total has started; None takes only the tickets already given out.

    On a database server, the stale trials of dead workers are failed first (at most once per
    heartbeat interval per process: a trial goes stale only after the grace period) and their
    configurations queued again (a retry holds a reservation; a configuration out of retries
    gives its slot to a new trial), so the study ends with exactly its total counted trials.
    """
    _check_stale(study)
    trial = pop(study, known if server_of(study) is None else None)
    while trial is None and total is not None:
        _given, held = _reserve_locked(study, total)
        if held == 0:  # every trial of the total has started
            return None
        trial = pop(study)  # None when other processes took them all first: top up again
    return trial


_last_check: dict[str, float] = {}


def _check_stale(study: optuna.Study, *, always: bool = False) -> None:
    storage = server_of(study)
    if storage is None:
        return
    now = time.monotonic()
    if (
        not always
        and now - _last_check.get(study.study_name, -1e9) < storage.settings.heartbeat_interval
    ):
        return
    _last_check[study.study_name] = now
    if not stale_trial_ids(study):
        return
    # Failed, retried and topped up in one locked step, so that no other process's top-up
    # counts a freed slot before its retry is queued (which would overshoot the total).
    total = study.user_attrs.get(TOTAL_ATTR)
    if isinstance(total, int):
        reserve_shared(study, total)  # fails the stale trials under the lock first
    else:
        with study_lock(storage_of(study), study.study_name):
            fail_and_retry_stale(study)


def retry_lost(study: optuna.Study, number: int, *, reason: str, total: int) -> None:
    """Fail trial ``number`` as ``worker_died`` (its worker process died), queue its retry
    (``retry``) and top the tickets up to ``total``, in one step under the study lock, so that
    no worker's top-up counts the freed slot before the retry holds it."""
    with study_lock(storage_of(study), study.study_name):
        retry(study, fail_trial(study, number, end="worker_died", reason=reason))
        reserved(study, total, window=_window(study))


def fail_trial(study: optuna.Study, number: int, *, end: str, reason: str) -> FrozenTrial:
    """Mark trial ``number`` FAIL with its ``end`` and ``reason`` user attrs, unless it has
    already finished; returns the trial as it stands after."""
    frozen = study.get_trials(deepcopy=False)[number]
    if frozen.state.is_finished():
        return frozen
    storage_of(study).set_trial_user_attr(trial_id(study, frozen), "end", end)
    storage_of(study).set_trial_user_attr(trial_id(study, frozen), "reason", reason)
    study.tell(number, state=TrialState.FAIL)
    return study.get_trials(deepcopy=False)[number]


def wait_for_others(study: optuna.Study, *, deadline: float | None) -> bool:
    """With no reserved trial left, wait while other workers' trials run: one of them may die
    and need its configuration run again.

    Returns:
        True when a reserved trial appeared (run again), False when no trial runs anywhere
        or the deadline (a ``time.perf_counter()`` value) passed.
    """
    storage = server_of(study)
    if storage is None or tickets(study):  # not drained: the run stopped for another reason
        return False
    interval = min(5.0, float(storage.settings.heartbeat_interval))
    logged = False
    while deadline is None or time.perf_counter() < deadline:
        _check_stale(study, always=True)
        if tickets(study):
            return True
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if not running:
            return False
        if not logged:
            logger.warning(
                "no trial left to start; waiting for %d trials of other workers", len(running)
            )
            logged = True
        time.sleep(interval)
    return False


def sampler_offset() -> int:
    """A seed offset that differs between the workers of a shared study (host and process), so
    that workers seeded alike never propose the same sequence of configurations."""
    import os
    import socket

    return zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode()) % 1_000_003


def record_unless_failed(
    study: optuna.Study, trial: optuna.Trial, result: TrialResult, objective: str
) -> optuna.trial.FrozenTrial:
    """``record`` the trial, unless another worker has already failed it for want of
    heartbeats (this worker was cut off from the database past the grace period): then its
    configuration is queued again and this result is dropped, with a warning."""
    try:
        return record(study, trial, result, objective)
    except optuna.exceptions.UpdateFinishedTrialError:
        logger.warning(
            "trial %d was marked failed by another worker (no heartbeat within the grace "
            "period); its result is dropped and its configuration runs again",
            trial.number,
        )
        return study.get_trials(deepcopy=False)[trial.number]

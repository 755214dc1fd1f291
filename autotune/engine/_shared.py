"""One study shared by workers on many machines through a database server.

Workers coordinate only through the database, as Optuna intends: a lock on the study while
one of them creates it or reserves trials (PostgreSQL advisory lock, MySQL ``GET_LOCK``),
the reserved trials of ``_reserve`` popped one at a time, and heartbeats (``_server``) that
let any worker retry the trial of one that died.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import optuna
from optuna.trial import TrialState

from autotune.engine._reserve import pop, reserve
from autotune.engine._server import ResilientRDBStorage, fail_stale_trials, with_reconnect

logger = logging.getLogger(__name__)

Claim = optuna.Trial | Literal["wait", "done"]
"""What a worker gets when it asks for work: a running trial, ``wait`` (no reserved trial
left, but trials of other workers still run and may need a retry) or ``done``."""


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for a study name."""
    return zlib.crc32(f"autotune:{name}".encode()) - (1 << 31)


@contextmanager
def study_lock(storage: str | optuna.storages.BaseStorage, name: str) -> Iterator[None]:
    """Hold the study's lock on a database server while the block runs (create or join the
    study, reserve trials). Other storages are shared by one machine's processes, whose
    coordinator reserves alone: nothing is locked.

    The lock lives in its own connection; a worker that dies releases it with its connection.
    """
    if not isinstance(storage, ResilientRDBStorage):
        yield
        return
    import sqlalchemy

    dialect = storage.engine.dialect.name
    if dialect == "postgresql":
        take, give = "SELECT pg_advisory_lock(:key)", "SELECT pg_advisory_unlock(:key)"
        key: int | str = _lock_key(name)
    elif dialect in ("mysql", "mariadb"):
        take, give = "SELECT GET_LOCK(:key, -1)", "SELECT RELEASE_LOCK(:key)"
        key = f"autotune:{name}"[:64]
    else:
        logger.warning("no study lock on %s: start workers one at a time", dialect)
        yield
        return

    def connect() -> sqlalchemy.engine.Connection:
        connection = storage.engine.connect()
        connection.execute(sqlalchemy.text(take), {"key": key})
        return connection

    connection = with_reconnect(
        connect, what="lock the study", timeout=storage.settings.reconnect_timeout
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


def reserve_shared(
    study: optuna.Study, storage: str | optuna.storages.BaseStorage, total: int
) -> list[int]:
    """``reserve`` the study's total under the study lock; fail stale trials first, so that the
    running trials of dead workers are not counted as running."""
    with study_lock(storage, study.study_name):
        fail_stale_trials(study, storage)
        return reserve(study, total)


def claim(study: optuna.Study, storage: str | optuna.storages.BaseStorage, total: int) -> Claim:
    """Take the next reserved trial for this worker.

    Stale trials of dead workers are failed first and their configurations queued again (a
    retry holds a reservation; when a configuration is out of retries the slot goes to a new
    trial), so the study ends with exactly ``total`` counted trials.
    """
    if fail_stale_trials(study, storage):
        reserve_shared(study, storage, total)
    trial = pop(study)
    if trial is not None:
        return trial
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return "wait" if running else "done"


def sampler_offset() -> int:
    """A seed offset that differs between the workers of a shared study (host and process), so
    that workers seeded alike never propose the same sequence of configurations."""
    import os
    import socket

    return zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode()) % 1_000_003

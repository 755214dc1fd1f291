"""Opening a study's storage so that several local processes can share one SQLite file.

Optuna's SQLite storage, as it comes, is not safe for several processes at once: Python's
``sqlite3`` starts a transaction only at the first write, so the read in "pop a WAITING trial"
runs outside the transaction (two processes can both see the same trial WAITING and both run
it), and a writer that finds the file locked fails at once with "database is locked".

``storage_for`` fixes both for ``sqlite:///`` URLs (``LocalSQLiteStorage``):

- every transaction that may write starts with ``BEGIN IMMEDIATE``: it takes the write lock up
  front, so a read-then-write (popping a trial) is atomic and no transaction is refused
  half-way; Optuna's pure reads (``get_all_trials`` and the other getters) start a deferred
  ``BEGIN`` and take no write lock, so they never queue behind or ahead of a writer;
- writers of this machine queue on a lock file (``flock``) before ``BEGIN IMMEDIATE``: the
  kernel wakes the next writer the moment the last one commits. SQLite's own busy handler,
  which still guards the file against every other opener (Optuna Dashboard, a user's script),
  polls with growing sleeps (up to 100 ms); with two busy workers those sleeps were most of a
  small trial's waiting. The lock file only orders writers; SQLite's locks keep the file
  correct without it;
- a busy process waits up to ``busy_timeout`` seconds for SQLite's lock instead of failing.

The journal stays SQLite's default rollback journal, so the study is still the one
``study.db`` file Optuna Dashboard opens. ``benchmarks/sqlite_locking.py`` measured the
alternatives (see its docstring). Other URLs (PostgreSQL, MySQL) are returned unchanged: their
servers lock rows themselves.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import optuna

from autotune._private._optuna import (
    backend_of,
    storage_of,
    trial_id,
    upsert_user_attrs,
    wrap_methods,
)
from autotune._stored import sqlite_location

logger = logging.getLogger(__name__)

BUSY_TIMEOUT = 120.0
"""Seconds a process waits for another's write to finish before SQLite gives up."""

_READS = (
    "_get_trials",
    "get_all_studies",
    "get_all_trials",
    "get_best_trial",
    "get_n_trials",
    "get_study_directions",
    "get_study_id_from_name",
    "get_study_name_from_id",
    "get_study_system_attrs",
    "get_study_user_attrs",
    "get_trial",
    "get_trial_id_from_study_id_trial_number",
    "get_trial_number_from_id",
    "get_trial_param",
    "get_trial_params",
    "get_trial_system_attrs",
    "get_trial_user_attrs",
)
"""``RDBStorage`` methods that only read: their transactions start with a deferred ``BEGIN``."""


def storage_for(
    url: str,
    *,
    busy_timeout: float = BUSY_TIMEOUT,
    journal: str | None = None,
) -> str | optuna.storages.BaseStorage:
    """The storage to hand Optuna for ``url``.

    Args:
        url: an Optuna storage URL.
        busy_timeout: seconds to wait for SQLite's write lock.
        journal: a SQLite ``journal_mode`` to set (e.g. ``"wal"``); None keeps the file's.

    Returns:
        A ``LocalSQLiteStorage`` for ``sqlite:///`` URLs, else ``url``.

    Example:
        >>> storage = storage_for("sqlite:///:memory:")
        >>> type(storage).__name__
        'LocalSQLiteStorage'
    """
    if sqlite_location(url) is None:
        return url
    return LocalSQLiteStorage(url, busy_timeout=busy_timeout, journal=journal)


class LocalSQLiteStorage(optuna.storages.RDBStorage):
    """Optuna's ``RDBStorage`` on a SQLite file shared by this machine's processes: writes
    serialized (``BEGIN IMMEDIATE``, queued on a lock file), reads in deferred transactions.

    Example:
        >>> storage = LocalSQLiteStorage("sqlite:///:memory:")
        >>> study = optuna.create_study(storage=storage)
        >>> study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
        >>> len(study.trials)
        2
    """

    def __init__(
        self,
        url: str,
        *,
        busy_timeout: float = BUSY_TIMEOUT,
        journal: str | None = None,
    ) -> None:
        self._serial = _Serial(url, journal=journal)
        super().__init__(
            url,
            engine_kwargs={"connect_args": {"timeout": busy_timeout, "factory": _QueuedConnection}},
        )
        self._serial.attach(self.engine)

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)  # a new engine: attach to it
        self._serial.attach(self.engine)

    def set_trial_user_attrs(self, trial_id: int, attrs: Mapping[str, Any]) -> None:
        """Set several user attrs of a running trial in one statement and one commit (one
        attr at a time where Optuna's private tables cannot be reached, or SQLite < 3.24).

        Raises:
            optuna.exceptions.UpdateFinishedTrialError: the trial has finished.
        """
        if not attrs:
            return
        if sqlite3.sqlite_version_info < (3, 24, 0) or not upsert_user_attrs(self, trial_id, attrs):
            for key, value in attrs.items():
                self.set_trial_user_attr(trial_id, key, value)


def _reading(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: LocalSQLiteStorage, *args: Any, **kwargs: Any) -> Any:
        with self._serial.reading():
            return method(self, *args, **kwargs)

    return wrapper


wrap_methods(LocalSQLiteStorage, optuna.storages.RDBStorage, _READS, _reading)


class _QueuedConnection(sqlite3.Connection):
    """A ``sqlite3`` connection that gives the writers' lock file back when its transaction
    ends (commit, rollback or close)."""

    queue_fd: int | None = None
    holds_queue = False

    def take_queue(self) -> None:
        if self.queue_fd is not None and not self.holds_queue:
            fcntl.flock(self.queue_fd, fcntl.LOCK_EX)
            self.holds_queue = True

    def give_queue(self) -> None:
        if self.holds_queue and self.queue_fd is not None:
            self.holds_queue = False
            fcntl.flock(self.queue_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give_queue()
            if self.queue_fd is not None:
                os.close(self.queue_fd)
                self.queue_fd = None


class _Serial:
    """The SQLAlchemy hooks of a ``LocalSQLiteStorage``: per-connection settings, and the
    ``BEGIN`` each transaction starts with."""

    def __init__(self, url: str, *, journal: str | None) -> None:
        self.journal = journal
        self.queue_path = _queue_path(url)
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        return {"journal": self.journal, "queue_path": self.queue_path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        depth = getattr(self._local, "reads", 0)
        self._local.reads = depth + 1
        try:
            yield
        finally:
            self._local.reads = depth

    def attach(self, engine: Any) -> None:
        from sqlalchemy import event

        if engine.url.database in (None, "", ":memory:"):
            return  # its one connection holds the database: disposing of it would lose it
        event.listen(engine, "connect", self._on_connect)
        event.listen(engine, "begin", self._on_begin)
        engine.dispose()  # connections already pooled lack the settings

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself
        if self.journal is not None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA journal_mode={self.journal}")
            cursor.close()
        if self.queue_path is not None and isinstance(dbapi_connection, _QueuedConnection):
            try:
                dbapi_connection.queue_fd = os.open(self.queue_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as error:  # SQLite's busy handler alone still keeps the file right
                logger.debug("no writers' lock file %s: %s", self.queue_path, error)

    def _on_begin(self, connection: Any) -> None:
        reading = bool(getattr(self._local, "reads", 0))
        dbapi_connection = connection.connection.dbapi_connection
        queued = isinstance(dbapi_connection, _QueuedConnection)
        if queued and not reading:
            dbapi_connection.take_queue()
        try:
            connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")
        except BaseException:
            if queued:
                dbapi_connection.give_queue()
            raise


def _database(url: str) -> str:
    return sqlite_location(url) or ":memory:"


def _queue_path(url: str) -> str | None:
    """The writers' lock file of a SQLite URL's database, in the temporary directory (named
    after the database's real path; None for an in-memory database)."""
    database = _database(url)
    if database == ":memory:":
        return None
    real = os.path.realpath(database)
    digest = hashlib.sha1(real.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "autotune-sqlite-locks"
    try:
        folder.mkdir(mode=0o1777, exist_ok=True)
    except OSError:
        return None
    return str(folder / f"{Path(real).name}-{digest}.lock")


def local_sqlite(where: str | optuna.storages.BaseStorage) -> LocalSQLiteStorage | None:
    """The ``LocalSQLiteStorage`` behind a storage (Optuna wraps RDB storages in a cache)."""
    backend: Any = backend_of(where)
    return backend if isinstance(backend, LocalSQLiteStorage) else None


@contextlib.contextmanager
def local_study_lock(where: str | optuna.storages.BaseStorage) -> Iterator[bool]:
    """Hold this machine's lock on a SQLite study file while the block runs (``flock`` on a
    file beside the writers' lock file); yields whether a lock is held (not for other
    storages, an in-memory database, or where the lock file cannot be made).

    Processes of one machine that reserve trials (``reserved._claim.reserve_shared``)
    or create the study take it; a read-then-write spanning several transactions is then not
    interleaved with another process's.
    """
    if isinstance(where, str):
        url = where if sqlite_location(where) is not None else None
    else:
        storage = local_sqlite(where)
        url = None if storage is None else storage.url
    queue = None if url is None else _queue_path(url)
    if queue is None:
        yield False
        return
    try:
        fd = os.open(queue.removesuffix(".lock") + ".study.lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as error:
        logger.debug("no study lock file beside %s: %s", queue, error)
        yield False
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield True
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def set_user_attrs(study: optuna.Study, trial: optuna.Trial, attrs: Mapping[str, Any]) -> None:
    """Set several user attrs of a running trial, in one transaction where the storage allows.

    Optuna commits each ``set_user_attr`` on its own: a trial's ~20 result attrs were ~20
    sessions and commits, a large share of a tiny trial's bookkeeping. On autotune's local
    SQLite storage they are one statement and one commit
    (``LocalSQLiteStorage.set_trial_user_attrs``), which also makes them appear together; any
    other storage (a database server's reconnecting storage, a journal) gets one
    ``set_user_attr`` after another.
    """
    backend = local_sqlite(storage_of(study))
    if backend is not None:
        backend.set_trial_user_attrs(trial_id(study, trial), attrs)
        return
    for key, value in attrs.items():
        trial.set_user_attr(key, value)

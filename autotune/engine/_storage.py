"""Opening a study's storage so that several local processes can share one SQLite file.

Optuna's SQLite storage, as it comes, is not safe for several processes at once: Python's
``sqlite3`` starts a transaction only at the first write, so the read in "pop a WAITING trial"
runs outside the transaction (two processes can both see the same trial WAITING and both run
it), and a writer that finds the file locked fails at once with "database is locked".

``open_storage`` fixes both for ``sqlite:///`` URLs: every transaction starts with
``BEGIN IMMEDIATE`` (it takes the write lock up front, so a read-then-write is atomic and no
transaction can be refused half-way), and a busy process waits up to ``busy_timeout`` seconds
for the lock instead of failing. The journal stays SQLite's default rollback journal, so the
study is still the one ``study.db`` file Optuna Dashboard opens.
``benchmarks/sqlite_locking.py`` measured the alternatives (see its docstring).
Other URLs (PostgreSQL, MySQL) are returned unchanged: their servers lock rows themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import optuna

logger = logging.getLogger(__name__)

BUSY_TIMEOUT = 120.0
"""Seconds a process waits for another's write to finish before SQLite gives up."""


def open_storage(
    url: str, *, busy_timeout: float = BUSY_TIMEOUT, journal: str | None = None
) -> str | optuna.storages.BaseStorage:
    """The storage to hand Optuna for ``url``.

    Args:
        url: an Optuna storage URL.
        busy_timeout: seconds to wait for SQLite's write lock.
        journal: a SQLite ``journal_mode`` to set (e.g. ``"wal"``); None keeps the file's.

    Returns:
        An ``RDBStorage`` with serialized transactions for ``sqlite:///`` URLs, else ``url``.

    Example:
        >>> storage = open_storage("sqlite:///:memory:")
        >>> type(storage).__name__
        'RDBStorage'
    """
    if not url.startswith("sqlite:///"):
        return url
    storage = optuna.storages.RDBStorage(
        url, engine_kwargs={"connect_args": {"timeout": busy_timeout}}
    )
    serialize_sqlite(storage.engine, journal=journal)
    return storage


def serialize_sqlite(engine: Any, *, journal: str | None = None) -> None:
    """Make every transaction on a SQLAlchemy SQLite ``engine`` begin with ``BEGIN IMMEDIATE``.

    This is SQLAlchemy's documented recipe for pysqlite's deferred ``BEGIN``. Connections
    already pooled are dropped so that every later one gets the settings.
    """
    from sqlalchemy import event

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself
        if journal is not None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA journal_mode={journal}")
            cursor.close()

    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
    engine.dispose()


def set_user_attrs(study: optuna.Study, trial: optuna.Trial, attrs: Mapping[str, Any]) -> None:
    """Set several user attrs of a running trial, in one transaction where the storage allows.

    Optuna commits each ``set_user_attr`` on its own: a trial's ~20 result attrs were ~20
    sessions and commits, a large share of a tiny trial's bookkeeping. On a plain
    ``RDBStorage`` (autotune's local SQLite) they are written in one session and one commit,
    which also makes them appear together; any other storage (a database server's
    reconnecting storage, a journal) gets one ``set_user_attr`` after another.
    """
    backend: Any = getattr(study._storage, "_backend", study._storage)
    if type(backend) is optuna.storages.RDBStorage:
        try:
            from optuna.storages._rdb import models
            from optuna.storages._rdb.storage import _create_scoped_session
        except ImportError:  # an Optuna that moved its internals: one attr at a time
            pass
        else:
            with _create_scoped_session(backend.scoped_session, True) as session:
                for key, value in attrs.items():
                    backend._set_trial_attr_without_commit(
                        session, models.TrialUserAttributeModel, trial._trial_id, key, value
                    )
            return
    for key, value in attrs.items():
        trial.set_user_attr(key, value)

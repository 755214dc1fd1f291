"""Which storage a run uses: ``--storage``, ``storage:`` or the default, expanded and opened."""

from __future__ import annotations

from dataclasses import dataclass

import optuna

from autotune.engine.storages._local import storage_for
from autotune.engine.storages._server import (
    StorageSettings,
    first_line,
    open_server_storage,
)
from autotune.results import check_storage
from autotune.spec import (
    RunSpec,
    SpecError,
    StorageUrlError,
    expand_storage_url,
    is_server_url,
    redact,
)
from autotune.spec._errors import Described


@dataclass(frozen=True)
class RunStorage:
    """A run's storage.

    Attributes:
        url: the URL with its ``${VAR}`` references expanded (what worker processes open).
        storage: what this process hands Optuna: an open ``ResilientRDBStorage`` for a
            database server, else the URL.
        shown: the URL fit to print (password hidden).
        server: whether it is a database server, shared by workers on many machines.
    """

    url: str
    storage: str | optuna.storages.BaseStorage
    shown: str
    server: bool


def settings_of(spec: RunSpec) -> StorageSettings:
    """The storage settings a run file asks for (``search.heartbeat_interval`` and co.)."""
    search = spec.search
    return StorageSettings(
        heartbeat_interval=search.heartbeat_interval,
        grace_period=search.grace_period,
        max_retries=search.max_retries,
    )


def resolve_storage(spec: RunSpec, flag: str | None, default: str) -> RunStorage:
    """The storage of a run: ``--storage``, else ``storage:``, else ``default``.

    ``${VAR}`` references are expanded; the storage is checked before Optuna opens it
    (``check_storage``); a database server URL is opened (with heartbeats and reconnection)
    and must be reachable.

    Raises:
        SpecError: a variable is unset, the database driver is missing, or the server cannot
            be reached; the error names ``--storage`` or the run file's ``storage:`` line.
            A ``StoreError`` (a ``SpecError``): the SQLite file or database is not an Optuna
            study (not SQLite, damaged, another program's tables); it is left untouched.
    """
    raw = flag or spec.storage
    if raw is None:
        check_storage(default)
        return RunStorage(default, default, default, server=False)

    def error(expected: str, received: str) -> SpecError:
        if flag:
            return SpecError(expected=expected, received=received, key="--storage")
        return SpecError.at(spec, ("storage",), expected=expected, received=Described(received))

    try:
        url = expand_storage_url(raw)
    except StorageUrlError as problem:
        raise error(problem.expected, problem.received) from None
    check_storage(url)
    if not is_server_url(url):
        return RunStorage(url, url, redact(url), server=False)
    try:
        storage = open_server_storage(url, settings_of(spec))
    except ImportError as problem:
        raise error(
            "an installed database driver (pip install 'autotune[postgres]')", str(problem)
        ) from None
    except Exception as problem:
        raise error(
            f"a database server autotune can reach at {redact(url)}", first_line(problem)
        ) from None
    return RunStorage(url, storage, redact(url), server=True)


def open_for(url: str, spec: RunSpec) -> str | optuna.storages.BaseStorage:
    """The storage a worker process opens for an expanded URL: a ``ResilientRDBStorage`` for a
    database server, SQLite with serialized transactions (``storage_for``) otherwise."""
    if is_server_url(url):
        return open_server_storage(url, settings_of(spec))
    return storage_for(url)


def require_server(spec: RunSpec, flag: str | None, shown: str) -> None:
    """Refuse a storage that cannot coordinate workers on many machines (``autotune worker``).

    Raises:
        SpecError: the storage is not a database server.
    """
    expected = "a database server URL every worker reaches, like postgresql://user@host/db"
    hint = "SQLite files and journal storages keep no heartbeats, so dead workers go unseen"
    if flag:
        raise SpecError(expected=expected, received=repr(shown), key="--storage", hint=hint)
    if spec.storage:
        raise SpecError.at(spec, ("storage",), expected=expected, received=shown, hint=hint)
    raise SpecError(
        expected=expected,
        received=Described("no storage"),
        key="--storage",
        file=spec.file,
        hint="give --storage or storage: in the run file",
    )

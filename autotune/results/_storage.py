"""Reading a study back: storage URLs from results folders, and loading a study by name."""

from __future__ import annotations

import re
from pathlib import Path

import optuna

from autotune._stored import STUDY_FILE, sqlite_path, sqlite_url
from autotune.results._store_check import check_storage
from autotune.spec import StorageUrlError, expand_storage_url, redact

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def is_url(target: str | Path) -> bool:
    """Whether ``target`` is a storage URL (``scheme://...``) rather than a path."""
    return isinstance(target, str) and bool(_URL.match(target))


def storage_url(target: str | Path) -> str:
    """The Optuna storage URL for a results folder, a SQLite file, or a URL.

    Args:
        target: a folder holding ``study.db`` (e.g. ``results/digits``), a SQLite file, or a
            storage URL such as ``sqlite:///study.db`` or ``postgresql://${PGUSER}@host/db``,
            returned with its ``${VAR}`` references expanded (and psycopg as the PostgreSQL
            driver).

    Raises:
        ValueError: the folder or file does not exist, the folder holds no ``study.db``, or
            a variable the URL names is not set.

    Example:
        >>> storage_url("postgresql://tuner@db/autotune")
        'postgresql+psycopg://tuner@db/autotune'
        >>> storage_url("results/digits")  # doctest: +SKIP
        'sqlite:////home/me/project/results/digits/study.db'
    """
    if is_url(target):
        try:
            return expand_storage_url(str(target))
        except StorageUrlError as error:
            raise ValueError(f"storage {target}: {error}") from None
    path = Path(target).expanduser()
    if path.is_dir():
        database = path / STUDY_FILE
        if not database.is_file():
            raise ValueError(
                f"{path} holds no {STUDY_FILE}: expected a results folder written by "
                f"`autotune run`, a SQLite file, or a storage URL like sqlite:///study.db"
            )
        path = database
    elif not path.is_file():
        raise ValueError(
            f"no such results folder or study file: {path} (expected a results folder holding "
            f"{STUDY_FILE}, a SQLite file, or a storage URL like sqlite:///study.db)"
        )
    return sqlite_url(path)


def read_study(storage: str, study_name: str | None) -> optuna.Study:
    """Load a finished (or running) study for reading.

    Args:
        storage: a storage URL, or anything ``storage_url`` takes (a results folder, a SQLite
            file).
        study_name: the study to load; None when the storage holds exactly one study.

    Raises:
        ValueError: the storage does not exist, holds no study of that name (the message
            lists the studies it has), or holds several studies and no name was given.

    Example:
        >>> study = read_study(storage_url("results/digits"), None)  # doctest: +SKIP
        >>> len(study.get_trials(deepcopy=False))  # doctest: +SKIP
        40
    """
    store, shown = open_storage(storage)
    names = optuna.study.get_all_study_names(store)
    listing = ", ".join(sorted(names)) or "none"
    if study_name is None:
        if len(names) != 1:
            raise ValueError(
                f"{shown} holds {len(names)} studies ({listing}): choose one by name"
                if names
                else f"{shown} holds no studies"
            )
        study_name = names[0]
    elif study_name not in names:
        raise ValueError(f"{shown} has no study named {study_name!r}; it has: {listing}")
    return optuna.load_study(study_name=study_name, storage=store)


def open_storage(target: str | Path) -> tuple[optuna.storages.BaseStorage, str]:
    """Open the storage of a results folder, SQLite file or storage URL for reading.

    Returns:
        The storage and its URL fit to print (password hidden).

    Raises:
        ValueError: the storage does not exist, its database driver is missing, its server
            cannot be reached, or it is not an Optuna study (``StoreError``: see
            ``check_storage``; it is left as it was).

    Example:
        >>> storage, shown = open_storage("results/digits")  # doctest: +SKIP
    """
    url = storage_url(target)
    shown = redact(url)
    _check_sqlite_file(url, shown)
    check_storage(url)
    try:
        return optuna.storages.get_storage(url), shown
    except ImportError as error:
        raise ValueError(
            f"cannot open {shown}: {error} (for PostgreSQL: pip install 'autotune[postgres]')"
        ) from None
    except Exception as error:
        root: BaseException = error
        while root.__cause__ is not None:
            root = root.__cause__
        first = (str(root).strip().splitlines() or [""])[0]
        raise ValueError(f"cannot open {shown}: {type(root).__name__}: {first}") from None


def _check_sqlite_file(url: str, shown: str) -> None:
    """Refuse a SQLite URL whose file is missing (Optuna would create an empty database)."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise ValueError(f"no study database at {shown}: the file {path} does not exist")

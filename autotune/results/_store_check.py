"""Refusing a storage that is not an Optuna study before Optuna opens it.

Optuna opens any storage URL it is given: it creates its tables in a SQLite file or a
database that holds someone else's, migrates what it finds, and fails deep inside SQLAlchemy
on a damaged or non-SQLite file. ``check_storage`` looks first, read-only, and says in one
line what is wrong. It imports no Optuna (and SQLAlchemy only for a database server).

Usage::

    check_storage("sqlite:///results/digits/study.db")  # raises StoreError, or returns
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from autotune._stored import STUDY_FILE, sqlite_path
from autotune.spec import SpecError, is_server_url, redact

logger = logging.getLogger(__name__)

OPTUNA_TABLES = frozenset(
    {
        "alembic_version",
        "studies",
        "study_directions",
        "study_system_attributes",
        "study_user_attributes",
        "trial_heartbeats",
        "trial_intermediate_values",
        "trial_params",
        "trial_system_attributes",
        "trial_user_attributes",
        "trial_values",
        "trials",
        "version_info",
    }
)
"""The tables Optuna's RDB storage creates (``optuna.storages._rdb.models``, and Alembic's)."""

_SCHEMA = frozenset({"studies", "version_info"})
"""Tables every Optuna storage database holds: with them, the database is Optuna's."""

_SQLITE_HEADER = b"SQLite format 3\x00"

_FILE_HINT = "move it away, or keep the study elsewhere with --results-dir or --storage"
_SERVER_HINT = "point --storage at another database"


class StoreError(SpecError, ValueError):
    """A storage autotune will not hand Optuna: not SQLite, damaged, or another program's.

    A ``SpecError``, so ``autotune run``, ``autotune worker`` and ``tune()`` report it as they
    report a run that cannot go as asked (one line, exit status 2); a ``ValueError``, like the
    other problems ``read_study`` and ``list_studies`` raise.

    Attributes:
        where: the file, or the database's URL with its password hidden.
        problem: what is wrong with it.
    """

    def __init__(self, where: str, problem: str, hint: str = _FILE_HINT) -> None:
        self.where = where
        self.problem = problem
        super().__init__(
            expected="an Optuna study database, an empty file or none",
            received=f"{where}: {problem}",
            hint=hint,
        )

    def _message(self) -> str:
        return f"{self.where}: {self.problem}; {self.hint}"

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return _restore, ({"where": self.where, "problem": self.problem, "hint": self.hint},)


def _restore(state: dict[str, Any]) -> StoreError:
    return StoreError(**state)


def check_storage(url: str) -> None:
    """Refuse a storage that Optuna would damage or fail on, without changing it.

    A SQLite file is read (its header, then ``sqlite_master`` and ``PRAGMA quick_check`` on a
    read-only connection); a database server's tables are listed through SQLAlchemy. What is
    refused:

    - a SQLite file that is not SQLite (random bytes, text) or is damaged (cut short);
    - a ``study.db`` (the file autotune keeps in a results folder) holding any table that is
      not Optuna's;
    - any other SQLite file holding tables but no Optuna study (``studies`` and
      ``version_info``); Optuna's tables beside others are accepted there;
    - a database on a server holding tables with Optuna's names (``studies``,
      ``alembic_version``, ...) but no Optuna study: Optuna would write into them. Other
      programs' tables beside Optuna's, or instead of them, are accepted: a server's database
      is often shared.

    A missing or empty file, a database with no tables, and anything this check cannot look
    at (a file locked by a writer, a server out of reach, a missing driver, ``:memory:``) are
    left to Optuna's opener, which creates the study or says why it cannot.

    Args:
        url: an Optuna storage URL with its ``${VAR}`` references expanded.

    Raises:
        StoreError: the storage is not SQLite, is damaged, or holds another program's tables.

    Example:
        >>> check_storage("sqlite:///:memory:")
    """
    if is_server_url(url):
        tables = _server_tables(url)
        if tables is not None:
            problem = _foreign(tables, strict=False, shared=True)
            if problem is not None:
                raise StoreError(redact(url), problem, _SERVER_HINT)
        return
    path = sqlite_path(url)
    if path is not None:
        _check_sqlite(path)


def _check_sqlite(path: Path) -> None:
    shown = _shown(path)
    if not path.is_file():  # missing (Optuna creates it), or a folder: Optuna says why
        return
    try:
        with path.open("rb") as file:
            header = file.read(len(_SQLITE_HEADER))
    except OSError:  # unreadable: Optuna says why
        return
    if not header:
        return
    if header != _SQLITE_HEADER:
        raise StoreError(shown, "not an SQLite database (file is not a database)")
    try:
        tables = _sqlite_tables(path)
    except sqlite3.OperationalError as error:  # locked by a writer, or not readable
        logger.debug("could not look into %s: %s", path, error)
        return
    except sqlite3.DatabaseError as error:
        raise StoreError(shown, f"a damaged SQLite database ({_first_line(error)})") from None
    problem = _foreign(tables, strict=path.name == STUDY_FILE, shared=False)
    if problem is not None:
        raise StoreError(shown, problem)


def _sqlite_tables(path: Path) -> set[str]:
    """The tables of a SQLite file, read on a read-only connection after ``quick_check``.

    Raises:
        sqlite3.DatabaseError: the file is damaged (``quick_check`` found a problem).
    """
    uri = f"{path.absolute().as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10.0)) as connection:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' "
            "ESCAPE '!'"
        ).fetchall()
        verdict = connection.execute("PRAGMA quick_check(1)").fetchone()
    if verdict is None or verdict[0] != "ok":
        raise sqlite3.DatabaseError(verdict[0] if verdict else "quick_check gave no answer")
    return {name for (name,) in rows}


def _server_tables(url: str) -> set[str] | None:
    """The tables in a server database's default schema; None where they cannot be listed."""
    try:
        import sqlalchemy

        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        try:
            return set(sqlalchemy.inspect(engine).get_table_names())
        finally:
            engine.dispose()
    except Exception as error:  # no driver, no server: the storage's opener reports it
        logger.debug("could not list the tables of %s: %s", redact(url), _first_line(error))
        return None


def _foreign(tables: set[str], *, strict: bool, shared: bool) -> str | None:
    """What is wrong with a database holding ``tables``, or None when Optuna may open it.

    ``strict``: only Optuna's tables are allowed (a results folder's ``study.db``).
    ``shared``: other programs' tables without Optuna's are allowed (a server's database).
    """
    if not tables:
        return None
    optuna_like = {t for t in tables if t in OPTUNA_TABLES or t.startswith("_alembic_tmp_")}
    others = tables - optuna_like
    if _SCHEMA.issubset(tables):
        if strict and others:
            return (
                f"holds tables that are not Optuna's ({_names(others)}) beside the study: "
                f"not a {STUDY_FILE} autotune wrote"
            )
        return None
    if optuna_like:
        return (
            f"holds tables named like Optuna's ({_names(optuna_like)}) but no Optuna study "
            f"(no {' and '.join(sorted(_SCHEMA - tables))} table): another program's, which "
            "Optuna would write into"
        )
    if shared:
        return None
    return f"holds another program's tables ({_names(others)}), not an Optuna study"


def _names(tables: Iterable[str], limit: int = 5) -> str:
    ordered = sorted(tables)
    more = f", and {len(ordered) - limit} more" if len(ordered) > limit else ""
    return ", ".join(ordered[:limit]) + more


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    absolute = path.absolute()
    with contextlib.suppress(ValueError):
        return str(absolute.relative_to(Path.cwd()))
    return str(path)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]

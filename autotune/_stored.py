"""Names of what autotune stores, and SQLite URLs, in one leaf module (standard library only).

The engine writes these and ``autotune.results`` reads them back; both import them from here.

Example:
    >>> sqlite_path("sqlite:////tmp/results/digits/study.db?timeout=30")
    PosixPath('/tmp/results/digits/study.db')
    >>> sqlite_path("sqlite:///:memory:") is None, sqlite_path("postgresql://db/x") is None
    (True, True)
"""

from __future__ import annotations

from pathlib import Path

SPEC_ATTR = "autotune:spec"
"""The study user attribute holding the run file (a JSON document)."""

SPACE_ATTR = "autotune:space"
"""The study user attribute holding the search space a study was created with."""

DATA_ATTR = "autotune:data"
"""The study user attribute saying how the last run read its data (``stream``, the cache folder,
examples per split, files left out)."""

TEST_ATTR = "autotune:test"
"""The study user attribute holding the top trial's test accuracy (``{trial, accuracy}``)."""

STUDY_FILE = "study.db"
"""The SQLite file the engine keeps in each results folder."""

SQLITE = "sqlite:///"
"""The prefix of a SQLite storage URL (a relative path follows; a fourth ``/`` makes it
absolute)."""


def sqlite_url(path: str | Path) -> str:
    """The storage URL of a SQLite file, made absolute."""
    return f"{SQLITE}{Path(path).resolve()}"


def sqlite_location(url: str) -> str | None:
    """What follows ``sqlite:///`` in ``url`` without its query (``""`` or ``:memory:`` for an
    in-memory database); None for other URLs."""
    if not url.startswith(SQLITE):
        return None
    return url[len(SQLITE) :].split("?", 1)[0]


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL; None for other URLs, ``:memory:`` and ``file:`` URIs."""
    location = sqlite_location(url)
    if location is None or location in ("", ":memory:") or location.startswith("file:"):
        return None
    return Path(location)

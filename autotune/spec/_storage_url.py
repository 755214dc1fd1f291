"""Storage URLs as users write them: ``${VAR}`` references, the PostgreSQL driver, redaction."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://[^:/@]*):[^@/]*@")
_SERVER_SCHEMES = frozenset({"postgresql", "mysql", "mariadb", "oracle", "mssql"})


class StorageUrlError(ValueError):
    """A storage URL that cannot be used as written.

    Attributes:
        expected: what would have been accepted.
        received: the offending part, as written.
    """

    def __init__(self, *, expected: str, received: str) -> None:
        self.expected = expected
        self.received = received
        super().__init__(f"expected {expected}, got {received}")


def expand_storage_url(url: str, environ: Mapping[str, str] | None = None) -> str:
    """Replace each ``${NAME}`` in a storage URL by that environment variable's value.

    Only the braced form is expanded, so a ``$`` inside a literal password stays as written.
    A PostgreSQL URL without a driver (``postgresql://``) gets psycopg 3
    (``postgresql+psycopg://``), the driver autotune's ``postgres`` extra installs.

    Args:
        url: the URL from ``storage:`` or ``--storage``.
        environ: where variables are looked up. Defaults to ``os.environ``.

    Raises:
        StorageUrlError: a variable is not set, or a ``${...}`` is not a variable name.

    Example:
        >>> expand_storage_url("postgresql://${PGUSER}@db/tuning", {"PGUSER": "tuner"})
        'postgresql+psycopg://tuner@db/tuning'
    """
    env = os.environ if environ is None else environ
    for match in _REFERENCE.finditer(url):
        name = match.group(1)
        if not _NAME.match(name):
            raise StorageUrlError(
                expected="${NAME} references to environment variables (letters, digits, _)",
                received=repr(match.group(0)),
            )
        if name not in env:
            raise StorageUrlError(
                expected=f"the environment variable {name} to be set (the URL uses ${{{name}}})",
                received=f"{name} unset",
            )
    if "${" in _REFERENCE.sub("", url):
        raise StorageUrlError(
            expected="${NAME} references closed with '}'", received=repr(url[url.index("${") :])
        )
    expanded = _REFERENCE.sub(lambda m: env[m.group(1)], url)
    if expanded.startswith("postgresql://"):
        expanded = "postgresql+psycopg://" + expanded.removeprefix("postgresql://")
    return expanded


def is_server_url(url: str) -> bool:
    """Whether a storage URL names a database server (PostgreSQL, MySQL, ...): the storages
    that many machines can share and that keep heartbeats.

    Example:
        >>> is_server_url("postgresql+psycopg://db/tuning"), is_server_url("sqlite:///x.db")
        (True, False)
    """
    scheme = url.split("://", 1)[0] if "://" in url else ""
    return scheme.split("+", 1)[0].lower() in _SERVER_SCHEMES


def redact(url: str) -> str:
    """A storage URL fit to print: its password replaced by ``***``.

    Example:
        >>> redact("postgresql://tuner:s3cret@db/tuning")
        'postgresql://tuner:***@db/tuning'
    """
    return _PASSWORD.sub(r"\1:***@", url)

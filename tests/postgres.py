"""A fresh PostgreSQL database per test, on the server the CI machine runs.

The server is ``AUTOTUNE_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432``,
trust auth). Tests using it are marked ``postgres``; when they are asked for and the server
cannot be reached they fail (this module never skips).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

SERVER = os.environ.get("AUTOTUNE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")


def _admin() -> object:
    import psycopg

    return psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=10)


@contextmanager
def fresh_database() -> Iterator[str]:
    """Create an empty database, yield its URL, drop it afterwards."""
    name = f"autotune_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:  # type: ignore[attr-defined]
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        wait_until_up(timeout=60)
        with _admin() as admin:  # type: ignore[attr-defined]
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cluster() -> tuple[str, str]:
    """The local cluster's version and name (``15``, ``main``) for ``pg_ctlcluster``."""
    versions = sorted(os.listdir("/etc/postgresql"))
    return versions[-1], "main"


def pg_ctl(action: str) -> None:
    """``pg_ctlcluster --skip-systemctl-redirect VERSION main ACTION`` (stop, start)."""
    version, name = cluster()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action],
        check=action != "start",
        capture_output=True,
        timeout=120,
    )


def wait_until_up(*, timeout: float) -> None:
    """Start the cluster if it is down and wait until it accepts connections."""
    import psycopg

    deadline = time.monotonic() + timeout
    started = False
    while True:
        try:
            with psycopg.connect(f"{SERVER}/postgres", connect_timeout=3):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            if not started:
                pg_ctl("start")
                started = True
            time.sleep(0.5)

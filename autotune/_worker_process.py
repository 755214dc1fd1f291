"""The first code a worker process runs: its environment, then TensorFlow, quietly.

``autotune.engine._workers`` spawns worker processes with ``main`` as their target. This module
imports nothing that imports TensorFlow, and the job arrives pickled, so that the worker's
``CUDA_VISIBLE_DEVICES`` and thread settings are in place before TensorFlow is imported (by
unpickling the job). With ``TF_CPP_MIN_LOG_LEVEL=3`` (what ``autotune run`` sets unless the
user chose a level), TensorFlow's native start-up chatter is muted as in the ``autotune``
process; Python errors still reach the pool through the pipe.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null inside the block when TF_CPP_MIN_LOG_LEVEL is 3."""
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """Set environment variables inside the block (a child started in it inherits them)."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main(job: bytes, environment: dict[str, str], connection: Any, gate: Any = None) -> None:
    """Set the worker's environment, load the job (this imports TensorFlow) and serve;
    ``gate``: see ``autotune.engine._worker`` (a worker started ahead of time)."""
    os.environ.update(environment)
    try:
        with quiet_native_stderr():
            loaded = pickle.loads(job)
            from autotune.engine._worker import worker_main
    except KeyboardInterrupt:  # Ctrl-C while TensorFlow loads: no trial has started
        connection.send(("exit", "interrupted"))
        connection.close()
        return
    worker_main(loaded, connection, gate)

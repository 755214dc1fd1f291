"""The first code a worker process runs: its environment, then TensorFlow, quietly.

The bootstrap rule: **nothing may import TensorFlow in a worker process before its environment
is set** (``CUDA_VISIBLE_DEVICES``, thread counts, log level), because TensorFlow reads it once,
at import. So this module sits outside ``autotune.engine`` (whose ``__init__`` imports
TensorFlow), imports only the standard library and ``autotune._process_env``, and is the
spawn target; the engine is imported by unpickling the job, after ``os.environ`` is updated.

``autotune.engine.workers._pool`` spawns worker processes with ``main`` as their target. This module
imports nothing that imports TensorFlow, and the job arrives pickled, so that the worker's
``CUDA_VISIBLE_DEVICES`` and thread settings are in place before TensorFlow is imported (by
unpickling the job). With ``TF_CPP_MIN_LOG_LEVEL=3`` (what ``autotune run`` sets unless the
user chose a level), TensorFlow's native start-up chatter is muted as in the ``autotune``
process; Python errors still reach the pool through the pipe.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

from autotune._process_env import environment, quiet_native_stderr

__all__ = ["environment", "main"]


def main(job: bytes, environment: dict[str, str], connection: Any, gate: Any = None) -> None:
    """Set the worker's environment, load the job (this imports TensorFlow) and serve;
    ``gate``: see ``autotune.engine.workers._process`` (a worker started ahead of time)."""
    os.environ.update(environment)
    try:
        with quiet_native_stderr():
            loaded = pickle.loads(job)
            from autotune.engine.workers._process import worker_main
    except KeyboardInterrupt:  # Ctrl-C while TensorFlow loads: no trial has started
        connection.send(("exit", "interrupted"))
        connection.close()
        return
    worker_main(loaded, connection, gate)

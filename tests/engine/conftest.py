"""Small run files on digits for engine and CLI tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml

BASE_RUN: dict[str, Any] = {
    "study": "tiny",
    "seed": 0,
    "data": {"dataset": "digits", "train_size": 300, "validation_size": 150, "test": True},
    "model": "mlp",
    "space": {
        "depth": {"low": 1, "high": 2},
        "width": [8, 16],
        "optimizer": ["adam", "sgd"],
        "momentum": {"low": 0.0, "high": 0.9, "when": {"optimizer": "sgd"}},
        "learning_rate": {"low": 1.0e-3, "high": 3.0e-2, "log": True},
        "batch_size": [32, 64],
    },
    "train": {"epochs": 2},
    "search": {"sampler": "random", "pruner": "none", "trials": 3},
}


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


@pytest.fixture
def run_file(tmp_path: Path) -> Callable[..., Path]:
    """``run_file(**changes)`` writes the tiny run file with changes merged in."""

    def write(name: str = "tiny.yaml", **changes: Any) -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(merge(BASE_RUN, changes), sort_keys=False))
        return path

    return write


def autotune_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real ``autotune`` command in a subprocess."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-m", "autotune", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.Popen(
        [sys.executable, "-m", "autotune", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C must reach the run as in a terminal, whatever SIGINT handling pytest left.
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_running_trial(db: Path, *, timeout: float = 120) -> int:
    """Poll a study database until a trial is RUNNING with its config recorded.

    Reads the file read-only with the standard library (no Optuna storage is opened, so the
    poll never creates tables or takes a write lock the run under test waits for).
    """
    import sqlite3

    query = (
        "SELECT t.number FROM trials t JOIN trial_user_attributes a ON a.trial_id = t.trial_id"
        " WHERE t.state = 'RUNNING' AND a.key = 'config' ORDER BY t.number LIMIT 1"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as conn:
                    row = conn.execute(query).fetchone()
                if row is not None:
                    return int(row[0])
            except sqlite3.Error:
                pass  # tables not created yet, or the file is busy: look again
        time.sleep(0.3)
    raise AssertionError(f"no trial started running in {db} within {timeout}s")

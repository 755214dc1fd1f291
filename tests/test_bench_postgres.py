"""The PostgreSQL workers benchmark still runs (smoke mode: seconds, no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]


def test_postgres_workers_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "postgres_workers.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "postgres_workers.py"),
            "--smoke",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(out.read_text())
    rows = {(r["mode"], r["workers"]): r for r in document["rows"]}
    assert set(rows) == {("autotune", 1), ("autotune", 2), ("optuna", 1), ("optuna", 2)}
    for (mode, _workers), row in rows.items():
        assert row["trials_per_minute"] > 0
        if mode == "autotune":  # the exact total, whatever the number of workers
            assert row["trials"] == [document["trials"]]

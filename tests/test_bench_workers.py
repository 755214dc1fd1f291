"""The worker and SQLite-sharing benchmarks run (smoke mode) and write their JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def _bench(script: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--smoke", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_workers_benchmark_smoke(tmp_path: Path) -> None:
    done = _bench("workers.py", tmp_path / "workers.json")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 workers / 1 worker" in done.stdout
    result = json.loads((tmp_path / "workers.json").read_text())
    for row in result["configurations"].values():
        assert row["median_trials_per_minute"] > 0
        assert all(run["trials"] == 2 == run["complete"] for run in row["runs"])


def test_sqlite_sharing_benchmark_smoke(tmp_path: Path) -> None:
    done = _bench("sqlite_locking.py", tmp_path / "lock.json")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {r["mechanism"]: r for r in json.loads((tmp_path / "lock.json").read_text())["rows"]}
    # The mechanism autotune uses: no "database is locked", no trial run twice, none lost.
    assert rows["immediate"]["errors"] == 0 and rows["immediate"]["double_pops"] == 0
    assert rows["immediate"]["complete_of_reserved"] == "12/12"


def test_long_study_benchmark_smoke(tmp_path: Path) -> None:
    done = _bench("long_study.py", tmp_path / "long.json")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "recycling: started ahead / on exit" in done.stdout
    result = json.loads((tmp_path / "long.json").read_text())
    for row in result["configurations"].values():
        assert all(run["trials"] == 6 == run["complete"] for run in row["runs"])

"""The HyperModel benchmark (autotune.tune vs keras_tuner.RandomSearch) runs in smoke mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def test_hypermodel_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "hm.json"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "hypermodel_vs_keras_tuner.py"), "--smoke",
         "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "keras_tuner.RandomSearch" in done.stdout and "wall / kt" in done.stdout
    result = json.loads(out.read_text())
    for row in result["configurations"].values():
        (run,) = row["runs"]
        assert run["trials"] == 2 and 0.0 < run["best_val_accuracy"] <= 1.0

"""A run file that cannot run exits 2 with one clear message and creates nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.engine.conftest import autotune_cli

pytestmark = pytest.mark.slow


def test_bad_run_file_exits_2_naming_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("data:\n  dataset: digits\nspace:\n  depth: {low: 3, high: 1}\n")
    done = autotune_cli("run", str(path), cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert "bad.yaml:4" in done.stderr and "space.depth" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "results").exists()


def test_a_data_set_that_cannot_be_had_offline_says_where_it_looked(
    tmp_path: Path, run_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home" / ".keras"))
    path = run_file(data={"dataset": "cifar10", "train_size": 100, "validation_size": 50})
    done = autotune_cli("run", str(path), "--results-dir", "out", cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "cifar" in done.stderr.lower() and "Traceback" not in done.stderr
    assert str(tmp_path / "home") in done.stderr.replace("\n", "")
    assert not (tmp_path / "out").exists()


def test_image_augmentation_on_flat_data_is_refused(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "flat.npz", x=rng.normal(size=(300, 5)), y=rng.integers(0, 3, 300))
    path = run_file(
        data={
            "dataset": "npz",
            "path": str(tmp_path / "flat.npz"),
            "train_size": 100,
            "validation_size": 50,
            "test": False,
        },
        space={"augmentation": {"ops": ["flip"]}},
    )
    done = autotune_cli("run", str(path), "--results-dir", "out", cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "flip" in done.stderr and "augmentation" in done.stderr
    assert not (tmp_path / "out").exists()


def test_bad_flags_exit_2(tmp_path: Path, run_file: Callable[..., Path]) -> None:
    done = autotune_cli("run", str(run_file()), "--budget", "ten minutes", cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "duration" in done.stderr

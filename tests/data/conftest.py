"""Fixtures for the data tests: trial configs, small in-memory data sets, IDX writing."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autotune.data import Dataset
from autotune.space import Space, TrialConfig, defaults


@pytest.fixture
def make_config() -> Callable[..., TrialConfig]:
    """A TrialConfig as a default run file makes it, with some values changed."""
    base = Space(defaults()).fixed({})

    def make(**changes: Any) -> TrialConfig:
        return base.replace(**changes)

    return make


def _dataset(x: np.ndarray, y: np.ndarray, *, image: bool, value_range: tuple[float, float]):
    n_val = len(x) // 5
    return Dataset(
        name="fixture",
        x_train=x[n_val:],
        y_train=y[n_val:],
        x_val=x[:n_val],
        y_val=y[:n_val],
        x_test=None,
        y_test=None,
        num_classes=int(y.max()) + 1,
        class_names=tuple(str(i) for i in range(int(y.max()) + 1)),
        image=image,
        value_range=value_range,
    )


@pytest.fixture(scope="session")
def image_dataset() -> Dataset:
    """250 random 12x12x3 uint8 images (no symmetry, so every augmentation shows)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(250, 12, 12, 3), dtype=np.uint8)
    y = rng.integers(0, 4, size=250).astype(np.int32)
    return _dataset(x, y, image=True, value_range=(0.0, 255.0))


@pytest.fixture(scope="session")
def flat_dataset() -> Dataset:
    """250 rows of 6 float features on very different scales."""
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(250, 6)) * [1, 10, 100, 0.1, 5, 50] + [0, 3, -40, 1, 7, 900]).astype(
        np.float32
    )
    y = rng.integers(0, 3, size=250).astype(np.int32)
    low, high = float(x[50:].min()), float(x[50:].max())
    return _dataset(x, y, image=False, value_range=(low, high))


def _idx_bytes(array: np.ndarray) -> bytes:
    # Written from the format description (yann.lecun.com/exdb/mnist), not with autotune's reader.
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C}
    header = struct.pack(">BBBB", 0, 0, codes[array.dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.fixture
def write_idx() -> Callable[[Path, np.ndarray], Path]:
    """Write an array as an IDX file, gzip-compressed when the name ends in .gz."""

    def write(path: Path, array: np.ndarray) -> Path:
        data = _idx_bytes(array)
        path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
        return path

    return write


@pytest.fixture
def idx_folder(tmp_path: Path, write_idx: Callable[[Path, np.ndarray], Path]) -> Path:
    """A folder of MNIST-style IDX .gz files: 60 training and 20 test 28x28 images, 10 classes.

    Each image's first pixel holds its label, so tests can check that images and labels stay
    together.
    """
    folder = tmp_path / "idx"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for prefix, count in (("train", 60), ("t10k", 20)):
        labels = np.arange(count, dtype=np.uint8) % 10
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        images[:, 0, 0] = labels
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder

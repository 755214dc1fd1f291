"""Validation and training splits: sizes, disjointness, stratification, seed determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autotune.data import DataError, load_dataset
from autotune.spec import DataSpec


@pytest.fixture
def numbered_npz(tmp_path: Path) -> Path:
    """500 examples whose single feature is their row number; classes 0/1/2 at 70/20/10 %."""
    path = tmp_path / "numbered.npz"
    y = np.repeat([0, 1, 2], [350, 100, 50])
    np.savez(path, x=np.arange(500, dtype=np.float32)[:, None], y=y)
    return path


def _ids(x: np.ndarray) -> set[int]:
    return set(x[:, 0].astype(int).tolist())


def test_default_validation_is_a_fifth_of_training(numbered_npz: Path) -> None:
    ds = load_dataset(DataSpec(dataset="npz", path=str(numbered_npz)), seed=0)
    assert len(ds.x_val) == 100 and len(ds.x_train) == 400
    ds = load_dataset(DataSpec(dataset="npz", path=str(numbered_npz), validation_split=0.3), seed=0)
    assert len(ds.x_val) == 150 and len(ds.x_train) == 350


def test_train_and_validation_are_disjoint_and_sized(numbered_npz: Path) -> None:
    full = load_dataset(DataSpec(dataset="npz", path=str(numbered_npz)), seed=3)
    assert _ids(full.x_train).isdisjoint(_ids(full.x_val))
    assert _ids(full.x_train) | _ids(full.x_val) == set(range(500))
    spec = DataSpec(dataset="npz", path=str(numbered_npz), validation_size=60, train_size=200)
    sub = load_dataset(spec, seed=3)
    assert len(sub.x_val) == 60 and len(sub.x_train) == 200
    assert len(_ids(sub.x_train)) == 200 and _ids(sub.x_train).isdisjoint(_ids(sub.x_val))
    # Labels travel with their rows.
    y_of = np.repeat([0, 1, 2], [350, 100, 50])
    np.testing.assert_array_equal(sub.y_train, y_of[sub.x_train[:, 0].astype(int)])


def test_splits_are_stratified(numbered_npz: Path) -> None:
    spec = DataSpec(dataset="npz", path=str(numbered_npz), validation_size=100, train_size=200)
    ds = load_dataset(spec, seed=5)
    assert np.bincount(ds.y_val).tolist() == [70, 20, 10]
    assert np.bincount(ds.y_train).tolist() == [140, 40, 20]


def test_same_seed_same_split_other_seed_other_split(numbered_npz: Path) -> None:
    spec = DataSpec(dataset="npz", path=str(numbered_npz), train_size=100)
    a, b = load_dataset(spec, seed=11), load_dataset(spec, seed=11)
    c = load_dataset(spec, seed=12)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert _ids(a.x_val) != _ids(c.x_val) and _ids(a.x_train) != _ids(c.x_train)


def test_a_class_too_small_to_stratify_still_splits(tmp_path: Path) -> None:
    path = tmp_path / "rare.npz"
    y = np.array([0] * 30 + [1] * 29 + [2])
    np.savez(path, x=np.arange(60, dtype=np.float32)[:, None], y=y)
    ds = load_dataset(DataSpec(dataset="npz", path=str(path), validation_size=12), seed=0)
    assert len(ds.x_val) == 12 and _ids(ds.x_train).isdisjoint(_ids(ds.x_val))


def test_sizes_larger_than_available_say_how_many_exist(numbered_npz: Path) -> None:
    with pytest.raises(DataError) as info:
        load_dataset(DataSpec(dataset="npz", path=str(numbered_npz), validation_size=500), seed=0)
    assert "has only 500" in str(info.value) and info.value.key == ("data", "validation_size")
    spec = DataSpec(dataset="npz", path=str(numbered_npz), validation_size=100, train_size=401)
    with pytest.raises(DataError) as info:
        load_dataset(spec, seed=0)
    assert "only 400 remain" in str(info.value) and info.value.key == ("data", "train_size")
    assert load_dataset(spec.model_copy(update={"train_size": 400}), seed=0).x_train.shape[0] == 400


def test_test_split_only_when_asked(numbered_npz: Path) -> None:
    spec = DataSpec(dataset="npz", path=str(numbered_npz))
    assert load_dataset(spec, seed=0).x_test is None
    with_test = load_dataset(spec.model_copy(update={"test": True}), seed=0)
    assert len(with_test.x_test) == 100 and np.bincount(with_test.y_test).tolist() == [70, 20, 10]
    held_out = _ids(with_test.x_test)
    assert held_out.isdisjoint(_ids(with_test.x_train) | _ids(with_test.x_val))
    assert held_out == _ids(load_dataset(spec.model_copy(update={"test": True}), seed=9).x_test)

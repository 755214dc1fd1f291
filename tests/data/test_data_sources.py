"""Every source kind loads from a small fixture; the real Fashion-MNIST files load."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from autotune.data import load_dataset
from autotune.data.sources import _builtin as _places
from autotune.spec import DataSpec

FASHION = Path("/usr/share/datasets/fashion-mnist")


def _all_x(ds):
    return np.concatenate([ds.x_train, ds.x_val])


def _all_y(ds):
    return np.concatenate([ds.y_train, ds.y_val])


def test_digits_are_8x8_images_with_a_fixed_test_split() -> None:
    ds = load_dataset(DataSpec(dataset="digits", test=True), seed=0)
    other = load_dataset(DataSpec(dataset="digits", test=True), seed=7)
    assert ds.input_shape == (8, 8, 1) and ds.image and ds.value_range == (0, 16)
    assert ds.num_classes == 10 and ds.y_train.dtype == np.int32
    assert len(ds.x_test) == 359 and len(ds.x_train) + len(ds.x_val) == 1797 - 359
    # The test split does not move with the run seed, and every class is in it.
    np.testing.assert_array_equal(ds.x_test, other.x_test)
    assert set(np.unique(ds.y_test)) == set(range(10))
    assert _all_x(ds).max() == 16
    no_test = load_dataset(DataSpec(dataset="digits"), seed=0)
    assert no_test.x_test is None and no_test.y_test is None
    np.testing.assert_array_equal(no_test.x_train, ds.x_train)


def test_npz_keras_layout_with_test_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(50, 6, 5), dtype=np.uint8)
    y = np.arange(50) % 5
    path = tmp_path / "toy.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:10], y_test=y[:10])
    ds = load_dataset(DataSpec(dataset="npz", path=str(path), test=True), seed=0)
    assert ds.name == "toy" and ds.image and ds.input_shape == (6, 5, 1)
    assert ds.value_range == (0, 255) and ds.num_classes == 5
    np.testing.assert_array_equal(ds.x_test[..., 0], x[:10])
    assert len(ds.x_train) + len(ds.x_val) == 50


def test_npz_x_y_layout_flat_features_and_string_labels(tmp_path: Path) -> None:
    x = np.linspace(-2.0, 3.0, 40 * 3).reshape(40, 3)
    y = np.array(["cat", "dog"] * 20)
    path = tmp_path / "flat.npz"
    np.savez(path, x=x, y=y)
    ds = load_dataset(DataSpec(dataset="npz", path=str(path)), seed=0)
    assert not ds.image and ds.input_shape == (3,)
    assert ds.class_names == ("cat", "dog") and ds.num_classes == 2
    assert ds.value_range == (-2.0, 3.0)
    for row, label in zip(_all_x(ds), _all_y(ds), strict=True):
        index = int(np.argmin(np.abs(x[:, 0] - row[0])))
        assert y[index] == ds.class_names[label]


def test_npz_4d_images_and_holdout_when_test_is_asked(tmp_path: Path) -> None:
    x = np.random.default_rng(0).random((60, 4, 4, 3)).astype(np.float32)
    y = np.arange(60) % 3
    path = tmp_path / "rgb.npz"
    np.savez(path, x=x, y=y)
    ds = load_dataset(DataSpec(dataset="npz", path=str(path), test=True), seed=0)
    assert ds.image and ds.input_shape == (4, 4, 3)
    assert len(ds.x_test) == 12 and len(ds.x_train) + len(ds.x_val) == 48
    seen = {tuple(r.ravel()) for r in np.concatenate([_all_x(ds), ds.x_test])}
    assert len(seen) == 60


def test_csv_integer_and_string_targets(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=40),
            "flag": rng.integers(0, 2, size=40).astype(bool),
            "species": ["setosa", "versicolor", "virginica", "setosa"] * 10,
            "b": np.arange(40),
        }
    )
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    ds = load_dataset(DataSpec(dataset="csv", path=str(path), target="species"), seed=0)
    assert ds.name == "iris" and not ds.image and ds.input_shape == (3,)
    assert ds.class_names == ("setosa", "versicolor", "virginica")
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int32
    assert ds.value_range == (float(_all_x(ds).min()), float(_all_x(ds).max()))
    frame["species"] = [0, 1, 2, 0] * 10
    frame.to_csv(path, index=False)
    ds = load_dataset(DataSpec(dataset="csv", path=str(path), target="species"), seed=0)
    assert ds.class_names == ("0", "1", "2")
    # Labels stay with their rows: column b is the row number, species is a function of it.
    rows = _all_x(ds)[:, 2].astype(int)
    np.testing.assert_array_equal(_all_y(ds), np.array([0, 1, 2, 0])[rows % 4])


def test_image_dir_reads_pngs_with_sorted_class_names_and_resizes(tmp_path: Path) -> None:
    for name, shade in (("zebra", 200), ("ant", 10)):
        folder = tmp_path / "pics" / name
        folder.mkdir(parents=True)
        for i in range(6):
            size = (10, 12) if i == 0 else (20, 16)
            pixels = np.full((*size, 3), shade, dtype=np.uint8)
            pixels[0, 0] = i
            (folder / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    (tmp_path / "pics" / "notes.txt").write_text("not a class")
    ds = load_dataset(DataSpec(dataset="image_dir", path=str(tmp_path / "pics")), seed=0)
    assert ds.class_names == ("ant", "zebra") and ds.name == "pics"
    assert ds.input_shape == (10, 12, 3) and ds.x_train.dtype == np.uint8
    # Every image of class "ant" (id 0) is dark, every zebra bright.
    for image, label in zip(_all_x(ds), _all_y(ds), strict=True):
        assert (image[5, 5] < 100).all() == (label == 0)
    # A JPEG and an RGBA PNG join the first image's channel count (3).
    rgba = np.full((10, 12, 4), 200, dtype=np.uint8)
    (tmp_path / "pics" / "zebra" / "x.PNG").write_bytes(tf.io.encode_png(rgba).numpy())
    grey = np.full((10, 12, 1), 10, dtype=np.uint8)
    (tmp_path / "pics" / "ant" / "y.jpg").write_bytes(tf.io.encode_jpeg(grey).numpy())
    more = load_dataset(DataSpec(dataset="image_dir", path=str(tmp_path / "pics")), seed=0)
    assert len(more.x_train) + len(more.x_val) == 14 and more.input_shape == (10, 12, 3)
    sized = load_dataset(
        DataSpec(dataset="image_dir", path=str(tmp_path / "pics"), image_size=(8, 8)), seed=0
    )
    assert sized.input_shape == (8, 8, 3)


def test_fashion_mnist_from_a_path_with_idx_gz_files(idx_folder: Path) -> None:
    ds = load_dataset(
        DataSpec(dataset="fashion_mnist", path=str(idx_folder), test=True, validation_size=10),
        seed=0,
    )
    assert ds.input_shape == (28, 28, 1) and ds.x_train.dtype == np.uint8
    assert ds.class_names[0] == "T-shirt/top" and ds.value_range == (0, 255)
    assert len(ds.x_train) == 50 and len(ds.x_val) == 10 and len(ds.x_test) == 20
    for split_x, split_y in (
        (ds.x_train, ds.y_train),
        (ds.x_val, ds.y_val),
        (ds.x_test, ds.y_test),
    ):
        np.testing.assert_array_equal(split_x[:, 0, 0, 0], split_y)


def test_mnist_from_uncompressed_idx_files_in_the_system_folder(
    idx_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = tmp_path / "system"
    (system / "mnist").mkdir(parents=True)
    for gz in idx_folder.iterdir():
        (system / "mnist" / gz.stem).write_bytes(gzip.decompress(gz.read_bytes()))
    monkeypatch.setattr(_places, "SYSTEM_DATASETS", system)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    ds = load_dataset(DataSpec(dataset="mnist"), seed=0)
    assert ds.class_names == tuple("0123456789") and len(ds.x_train) + len(ds.x_val) == 60
    np.testing.assert_array_equal(_all_x(ds)[:, 0, 0, 0], _all_y(ds))


def test_mnist_from_keras_npz_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "kh" / "datasets"
    cache.mkdir(parents=True)
    x = np.random.default_rng(0).integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
    y = (np.arange(30) % 10).astype(np.uint8)
    np.savez(cache / "mnist.npz", x_train=x, y_train=y, x_test=x[:5], y_test=y[:5])
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    ds = load_dataset(DataSpec(dataset="mnist", test=True), seed=0)
    assert ds.input_shape == (28, 28, 1) and len(ds.x_test) == 5
    np.testing.assert_array_equal(ds.x_test[..., 0], x[:5])


def _write_cifar(folder: Path, per_batch: int = 6) -> np.ndarray:
    """A fake cifar-10-batches-py folder in keras' format; returns the first training image."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    first = None
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = [int(i % 10) for i in range(per_batch)]
        with open(folder / name, "wb") as f:
            pickle.dump({b"batch_label": name.encode(), b"labels": labels, b"data": data}, f)
        first = data[0] if first is None else first
    names = [n.encode() for n in ("plane", "car", "bird", "cat", "deer")] + [b"x"] * 5
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": names}, f)
    assert first is not None
    return first


def test_cifar10_from_keras_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _write_cifar(tmp_path / "kh" / "datasets" / "cifar-10-batches-py")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    ds = load_dataset(DataSpec(dataset="cifar10", test=True, validation_size=5), seed=0)
    assert ds.input_shape == (32, 32, 3) and ds.class_names[:2] == ("plane", "car")
    assert len(ds.x_train) == 25 and len(ds.x_test) == 6
    # Rows are channel planes (1024 red, 1024 green, 1024 blue) that become HWC pixels.
    expected = first.reshape(3, 32, 32).transpose(1, 2, 0)
    assert any(np.array_equal(image, expected) for image in _all_x(ds))


def test_cifar10_from_a_path(tmp_path: Path) -> None:
    _write_cifar(tmp_path / "somewhere" / "cifar-10-batches-py")
    ds = load_dataset(DataSpec(dataset="cifar10", path=str(tmp_path / "somewhere")), seed=0)
    assert ds.num_classes == 10 and ds.x_test is None


@pytest.mark.skipif(not FASHION.is_dir(), reason="dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_loads() -> None:
    ds = load_dataset(DataSpec(dataset="fashion_mnist", test=True), seed=0)
    assert ds.input_shape == (28, 28, 1) and ds.x_train.dtype == np.uint8
    assert len(ds.x_train) == 48_000 and len(ds.x_val) == 12_000 and len(ds.x_test) == 10_000
    assert ds.class_names[9] == "Ankle boot" and ds.num_classes == 10
    assert np.bincount(ds.y_val).tolist() == [1200] * 10  # stratified
    assert ds.x_train.max() == 255

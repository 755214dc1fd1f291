"""Missing and corrupt data fail with a DataError naming the file and what is wrong."""

from __future__ import annotations

import gzip
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from autotune.data import DataError, load_dataset
from autotune.data.sources import _builtin as _places
from autotune.spec import DataSpec


@pytest.fixture
def empty_places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """No standard place holds any data set: (system folder, keras datasets folder)."""
    monkeypatch.setattr(_places, "SYSTEM_DATASETS", tmp_path / "system")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    return tmp_path / "system", tmp_path / "home" / ".keras" / "datasets"


def _load(**fields: object) -> DataError:
    with pytest.raises(DataError) as info:
        load_dataset(DataSpec(**fields), seed=0)  # type: ignore[arg-type]
    return info.value


def test_missing_mnist_lists_every_place_and_how_to_provide_it(
    empty_places: tuple[Path, Path],
) -> None:
    system, keras_dir = empty_places
    err = _load(dataset="mnist")
    assert str(keras_dir / "mnist.npz") in str(err) and str(system / "mnist") in str(err)
    assert "keras.datasets.mnist.load_data()" in str(err) and "data.path" in str(err)
    assert err.key == ("data", "dataset")


def test_missing_fashion_mnist_lists_every_place_and_says_what_each_lacks(
    empty_places: tuple[Path, Path], idx_folder: Path
) -> None:
    system, keras_dir = empty_places
    partial = keras_dir / "fashion-mnist"
    partial.mkdir(parents=True)
    (partial / "train-images-idx3-ubyte.gz").write_bytes(
        (idx_folder / "train-images-idx3-ubyte.gz").read_bytes()
    )
    message = str(_load(dataset="fashion_mnist"))
    assert f"{system / 'fashion-mnist'}: does not exist" in message
    assert f"{partial}: has no train-labels-idx1-ubyte.gz" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "keras.datasets.fashion_mnist.load_data()" in message


def test_missing_fashion_mnist_at_a_given_path(tmp_path: Path) -> None:
    err = _load(dataset="fashion_mnist", path=str(tmp_path / "nowhere"))
    assert str(err) == (
        f"data.path: {tmp_path / 'nowhere'} does not exist; expected a folder holding the "
        "Fashion-MNIST IDX files"
    )
    assert err.key == ("data", "path")
    # a folder that is there but lacks the files still lists where autotune looked
    message = str(_load(dataset="fashion_mnist", path=str(tmp_path)))
    assert f"{tmp_path}: has no train-images-idx3-ubyte.gz" in message
    assert "/usr/share/datasets" not in message.split("Provide")[0]


def test_missing_cifar10_names_keras_cache(empty_places: tuple[Path, Path]) -> None:
    _, keras_dir = empty_places
    message = str(_load(dataset="cifar10"))
    assert str(keras_dir / "cifar-10-batches-py") in message
    assert "keras.datasets.cifar10.load_data()" in message


def test_truncated_gz_names_the_file(idx_folder: Path) -> None:
    labels = idx_folder / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-20])
    message = str(_load(dataset="fashion_mnist", path=str(idx_folder)))
    assert str(labels) in message and "truncated or corrupt" in message


def test_idx_with_wrong_magic_number_names_the_file(idx_folder: Path) -> None:
    images = idx_folder / "train-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(b"\x12\x34\x56\x78" + bytes(100)))
    message = str(_load(dataset="fashion_mnist", path=str(idx_folder)))
    assert str(images) in message and "not an IDX file" in message and "0x12345678" in message


def test_idx_whose_size_does_not_match_its_header(
    idx_folder: Path, write_idx: Callable[[Path, np.ndarray], Path]
) -> None:
    images = idx_folder / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(images.read_bytes())
    images.write_bytes(gzip.compress(raw[:-28]))
    message = str(_load(dataset="mnist", path=str(idx_folder)))
    assert str(images) in message and "(60, 28, 28)" in message and "truncated" in message


def test_idx_images_and_labels_of_different_lengths(
    idx_folder: Path, write_idx: Callable[[Path, np.ndarray], Path]
) -> None:
    write_idx(idx_folder / "train-labels-idx1-ubyte.gz", np.zeros(59, dtype=np.uint8))
    message = str(_load(dataset="fashion_mnist", path=str(idx_folder)))
    assert "60 images" in message and "59 labels" in message
    assert str(idx_folder / "train-labels-idx1-ubyte.gz") in message


def test_npz_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "data.npz"
    path.write_text("x,y\n1,2\n")
    err = _load(dataset="npz", path=str(path))
    assert str(path) in str(err) and "does not start with a zip header" in str(err)
    assert err.key == ("data", "path")


def test_npz_truncated(tmp_path: Path) -> None:
    path = tmp_path / "cut.npz"
    np.savez_compressed(path, x=np.zeros((100, 50)), y=np.zeros(100))
    path.write_bytes(path.read_bytes()[:300])
    message = str(_load(dataset="npz", path=str(path)))
    assert str(path) in message and "not a readable .npz archive" in message


def test_npz_holding_objects_or_a_single_array(tmp_path: Path) -> None:
    path = tmp_path / "objects.npz"
    np.savez(path, x=np.array([{"a": 1}, None], dtype=object), y=np.zeros(2))
    assert "pickled objects" in str(_load(dataset="npz", path=str(path)))
    single = tmp_path / "single.npz"
    with single.open("wb") as f:
        np.save(f, np.zeros((3, 3)))
    assert "holds a single .npy array" in str(_load(dataset="npz", path=str(single)))


def test_npz_with_mismatched_lengths_and_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, x_train=np.zeros((10, 3)), y_train=np.zeros(9))
    message = str(_load(dataset="npz", path=str(path)))
    assert str(path) in message and "10 examples" in message and "9 labels" in message
    np.savez(path, images=np.zeros((10, 3)), labels=np.zeros(10))
    message = str(_load(dataset="npz", path=str(path)))
    assert "x_train" in message and "['images', 'labels']" in message


def test_npz_missing_file(tmp_path: Path) -> None:
    err = _load(dataset="npz", path=str(tmp_path / "absent.npz"))
    assert "absent.npz does not exist" in str(err) and err.key == ("data", "path")


def test_csv_missing_target_column_names_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": [1, 2], "b": [3, 4], "label": [0, 1]}).to_csv(path, index=False)
    err = _load(dataset="csv", path=str(path), target="class")
    assert "no column 'class'" in str(err) and "a, b, label" in str(err)
    assert err.key == ("data", "target")


def test_csv_non_numeric_feature_is_named(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    frame = pd.DataFrame({"a": [1.0] * 10, "city": ["Oslo"] * 10, "z": ["q"] * 10})
    frame["label"] = [0, 1] * 5
    frame.to_csv(path, index=False)
    message = str(_load(dataset="csv", path=str(path), target="label"))
    assert "column 'city' is not numeric" in message and "'Oslo'" in message


def test_csv_regression_targets_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    pd.DataFrame({"a": range(10), "price": [1.5, 2.0] * 5}).to_csv(path, index=False)
    assert "regression" in str(_load(dataset="csv", path=str(path), target="price"))
    pd.DataFrame({"a": range(40), "price": range(40)}).to_csv(path, index=False)
    message = str(_load(dataset="csv", path=str(path), target="price"))
    assert "regression" in message and "40 distinct values in 40 rows" in message


def test_csv_empty_cells_and_unparsable_file(tmp_path: Path) -> None:
    path = tmp_path / "holes.csv"
    path.write_text("a,label\n1,0\n,1\n3,0\n")
    message = str(_load(dataset="csv", path=str(path), target="label"))
    assert "column 'a' has 1 empty cells (first on line 3)" in message
    path.write_bytes(b"")
    assert str(path) in str(_load(dataset="csv", path=str(path), target="label"))


def test_csv_non_numeric_cell_names_its_line_and_value(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    rows = [f"{i},{i + 1}.0,{i % 2}" for i in range(12)]
    rows.insert(12, "12,abc,0")  # data row 13: line 14 of the file
    path.write_text("f0,f3,label\n" + "\n".join(rows) + "\n")
    err = _load(dataset="csv", path=str(path), target="label")
    assert str(err).startswith(f"{path}:14: column 'f3' is not numeric: 'abc'; ")
    assert err.key == ("data", "path")
    # lines pandas skips (blank ones) and quoted cells that span lines still count
    path.write_text('f0,f3,label\n1,2,0\n\n3,"4\n5",1\n6,x,0\n')
    message = str(_load(dataset="csv", path=str(path), target="label"))
    assert message.startswith(f"{path}:4: column 'f3' is not numeric: '4\\n5'")


def test_csv_with_a_header_and_no_rows_says_it_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("f0,f1,label\n")
    message = str(_load(dataset="csv", path=str(path), target="label"))
    assert message.startswith(f"{path}: holds a header and no rows (the table is empty)")
    assert "not numeric" not in message


def test_image_dir_empty_or_with_empty_class(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    assert "has no class folders" in str(_load(dataset="image_dir", path=str(folder)))
    (folder / "cats").mkdir()
    message = str(_load(dataset="image_dir", path=str(folder)))
    assert str(folder / "cats") in message and "has no images" in message


def test_image_dir_corrupt_image_is_named(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        pixels = np.zeros((4, 4, 1), dtype=np.uint8)
        (tmp_path / name / "ok.png").write_bytes(tf.io.encode_png(pixels).numpy())
    broken = tmp_path / "b" / "zz.png"
    broken.write_bytes(b"\x89PNG not really")
    message = str(_load(dataset="image_dir", path=str(tmp_path)))
    assert str(broken) in message and "cannot be decoded" in message


def test_image_dir_single_class_is_refused(tmp_path: Path) -> None:
    (tmp_path / "only").mkdir()
    pixels = np.zeros((4, 4, 1), dtype=np.uint8)
    for i in range(3):
        (tmp_path / "only" / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    assert "single class" in str(_load(dataset="image_dir", path=str(tmp_path)))


def test_cifar_corrupt_batch_and_hostile_pickle_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(1, 6):
        with open(folder / f"data_batch_{i}", "wb") as f:
            data = np.zeros((2, 3072), dtype=np.uint8)
            pickle.dump({b"data": data, b"labels": [0, 1]}, f)
    (folder / "data_batch_3").write_bytes((folder / "data_batch_3").read_bytes()[:40])
    message = str(_load(dataset="cifar10", path=str(folder)))
    assert str(folder / "data_batch_3") in message and "not a readable CIFAR-10 batch" in message

    class Hostile:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("echo pwned",))

    (folder / "data_batch_3").write_bytes(pickle.dumps({b"data": Hostile(), b"labels": []}))
    message = str(_load(dataset="cifar10", path=str(folder)))
    assert str(folder / "data_batch_3") in message and "refusing to load" in message

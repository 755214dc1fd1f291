"""Built-in data sets: digits (scikit-learn), MNIST and Fashion-MNIST (IDX files or keras' npz),
and where the built-in data sets live on disk (``SYSTEM_DATASETS``, ``keras_datasets``) with the
message when none of those places has one (``not_found``).

Nothing is downloaded: each loader looks in ``data.path`` when given, else in the standard
places, and says where it looked when the data set is not there.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from autotune.data._dataset import Loaded
from autotune.data._errors import DataError
from autotune.data._split import hold_out_test
from autotune.data.sources._idx import read_idx_pair
from autotune.data.sources._npz import read_npz
from autotune.spec._paths import data_path_problem

_logger = logging.getLogger(__name__)

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DIGIT_CLASSES = tuple(str(i) for i in range(10))


def load_digits(*, test: bool) -> Loaded:
    """scikit-learn's 8x8 digits as ``(N, 8, 8, 1)`` uint8 images with values 0..16.

    A fixed stratified 20 % is always held out as the test split (whether or not ``test`` asks
    for it), so the training data does not depend on ``data.test``.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = bunch.images.astype(np.uint8)[..., np.newaxis]
    y = bunch.target.astype(np.int32)
    x, y, x_test, y_test = hold_out_test(x, y)
    return Loaded(
        name="digits",
        x=x,
        y=y,
        x_test=x_test if test else None,
        y_test=y_test if test else None,
        class_names=DIGIT_CLASSES,
        image=True,
        value_range=(0.0, 16.0),
    )


def load_fashion_mnist(path: str | None, *, test: bool) -> Loaded:
    """Fashion-MNIST from IDX files in ``path``, the system data sets, or keras' cache.

    Raises:
        DataError: no place holds the files, or a file is corrupt.
    """
    _check_given("fashion_mnist", path)
    places = (
        [Path(path).expanduser()]
        if path
        else [SYSTEM_DATASETS / "fashion-mnist", keras_datasets() / "fashion-mnist"]
    )
    looked: list[tuple[Path, str]] = []
    for folder in places:
        found = _idx_files(folder, test)
        if isinstance(found, dict):
            return _from_idx("fashion_mnist", found, FASHION_CLASSES, path_given=bool(path))
        looked.append((folder, found))
    raise not_found(
        "data.dataset fashion_mnist: Fashion-MNIST",
        looked,
        [
            "install the system package: apt-get install dataset-fashion-mnist",
            "on a machine with internet access run "
            "`python -c 'import keras; keras.datasets.fashion_mnist.load_data()'` and copy "
            f"its ~/.keras/datasets/fashion-mnist folder to {keras_datasets()}",
            "set data.path to a folder holding " + _idx_names(test),
        ],
        path_given=bool(path),
    )


def load_mnist(path: str | None, *, test: bool) -> Loaded:
    """MNIST from keras' ``mnist.npz``, or IDX files, in ``path`` or the standard places.

    ``path`` may be the npz file itself or a folder holding ``mnist.npz`` or the IDX files.

    Raises:
        DataError: no place holds the data, or a file is corrupt.
    """
    _check_given("mnist", path)
    places = (
        [Path(path).expanduser()]
        if path
        else [keras_datasets() / "mnist.npz", SYSTEM_DATASETS / "mnist"]
    )
    looked: list[tuple[Path, str]] = []
    for place in places:
        npz = place / "mnist.npz" if place.is_dir() else place
        if npz.suffix == ".npz" and npz.is_file():
            return _from_keras_npz(npz, test)
        if place.suffix == ".npz":
            looked.append((place, "does not exist"))
            continue
        found = _idx_files(place, test)
        if isinstance(found, dict):
            return _from_idx("mnist", found, DIGIT_CLASSES, path_given=bool(path))
        looked.append((place, found + " and no mnist.npz" if place.is_dir() else found))
    raise not_found(
        "data.dataset mnist: MNIST",
        looked,
        [
            "on a machine with internet access run "
            "`python -c 'import keras; keras.datasets.mnist.load_data()'` and copy its "
            f"~/.keras/datasets/mnist.npz to {keras_datasets()}",
            "set data.path to keras' mnist.npz, or to a folder holding " + _idx_names(test),
        ],
        path_given=bool(path),
    )


def _check_given(dataset: str, path: str | None) -> None:
    """Raise DataError when ``data.path`` names nothing there (before looking inside it)."""
    problem = data_path_problem(dataset, path) if path else None
    if problem is not None:
        raise DataError(problem, key=("data", "path"))


def _idx_names(test: bool) -> str:
    stems = [*IDX_FILES["train"], *(IDX_FILES["test"] if test else ())]
    return ", ".join(f"{stem}.gz" for stem in stems) + " (or the same without .gz)"


def _idx_files(folder: Path, test: bool) -> dict[str, Path] | str:
    """The IDX files a folder holds, by stem, or a description of what it lacks."""
    stems = [*IDX_FILES["train"], *(IDX_FILES["test"] if test else ())]
    found: dict[str, Path] = {}
    missing: list[str] = []
    for stem in stems:
        candidates = [folder / f"{stem}.gz", folder / stem]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            missing.append(f"{stem}.gz")
        else:
            found[stem] = hit
    return found if not missing else describe_missing(folder, missing)


def _from_idx(
    name: str, files: dict[str, Path], class_names: tuple[str, ...], *, path_given: bool
) -> Loaded:
    key = ("data", "path") if path_given else ("data", "dataset")
    images, labels = IDX_FILES["train"]
    x, y = read_idx_pair(files[images], files[labels], key=key)
    x_test = y_test = None
    if IDX_FILES["test"][0] in files:
        images, labels = IDX_FILES["test"]
        x_test, y_test = read_idx_pair(files[images], files[labels], key=key)
        _check_classes(files[labels], y_test, len(class_names), key)
    _check_classes(files[IDX_FILES["train"][1]], y, len(class_names), key)
    _logger.info("read %s from %s", name, files[IDX_FILES["train"][0]].parent)
    return Loaded(name, x, y, x_test, y_test, class_names, True, (0.0, 255.0))


def _from_keras_npz(path: Path, test: bool) -> Loaded:
    arrays = read_npz(path)
    wanted = ["x_train", "y_train", *(["x_test", "y_test"] if test else [])]
    missing = [k for k in wanted if k not in arrays]
    if missing:
        raise DataError(
            f"{path}: expected keras' MNIST arrays {', '.join(wanted)}, it lacks "
            f"{', '.join(missing)}",
            key=("data", "path"),
        )
    splits = [(arrays[f"x_{s}"], arrays[f"y_{s}"]) for s in ("train", "test") if f"x_{s}" in wanted]
    for x, y in splits:
        if x.ndim != 3 or x.dtype != np.uint8 or y.ndim != 1 or len(x) != len(y):
            raise DataError(
                f"{path}: expected uint8 images (N, 28, 28) and labels (N,), got "
                f"{x.dtype} {x.shape} and {y.shape}",
                key=("data", "path"),
            )
        _check_classes(path, y, 10, ("data", "path"))
    x_train, y_train = splits[0]
    x_test, y_test = splits[1] if test else (None, None)
    return Loaded(
        "mnist",
        x_train[..., np.newaxis],
        y_train.astype(np.int32),
        None if x_test is None else x_test[..., np.newaxis],
        None if y_test is None else y_test.astype(np.int32),
        DIGIT_CLASSES,
        True,
        (0.0, 255.0),
    )


def _check_classes(file: Path, y: np.ndarray, count: int, key: tuple[str, ...]) -> None:
    if len(y) and (y.min() < 0 or y.max() >= count):
        raise DataError(
            f"{file}: labels must be class ids 0..{count - 1}, "
            f"found {int(y.min())}..{int(y.max())}",
            key=key,
        )


SYSTEM_DATASETS = Path("/usr/share/datasets")
"""System-wide data sets, as Debian-style ``dataset-*`` packages install them."""


def keras_datasets() -> Path:
    """Keras' download cache: ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME")
    return (Path(home) if home else Path.home() / ".keras") / "datasets"


def not_found(
    title: str,
    looked: list[tuple[Path, str]],
    ways: list[str],
    *,
    path_given: bool,
) -> DataError:
    """A DataError listing every place looked, what each held, and how to provide the data.

    Args:
        title: what is missing, e.g. ``"data.dataset fashion_mnist: Fashion-MNIST"``.
        looked: ``(place, what was found there)`` pairs, in the order searched.
        ways: how the user can provide the data, one line each.
        path_given: whether ``data.path`` chose the place (the error then concerns that key).
    """
    lines = [f"{title} was not found. autotune looked in:"]
    lines += [f"  - {place}: {found}" for place, found in looked]
    lines.append("Provide it in one of these ways:")
    lines += [f"  - {way}" for way in ways]
    key = ("data", "path") if path_given else ("data", "dataset")
    return DataError("\n".join(lines), key=key)


def describe_missing(folder: Path, missing: list[str]) -> str:
    """What a candidate folder lacked, for ``not_found``."""
    if not folder.exists():
        return "does not exist"
    if not folder.is_dir():
        return "is not a folder"
    return "has no " + ", ".join(missing)

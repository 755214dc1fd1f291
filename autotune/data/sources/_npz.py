"""npz files: ``x_train, y_train[, x_test, y_test]`` (keras' layout) or ``x, y``."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from autotune.data._dataset import Loaded
from autotune.data._errors import DataError
from autotune.data._split import hold_out_test
from autotune.data.sources._labels import check_features, encode_labels, value_range_of
from autotune.spec._paths import data_path_problem

_PATH = ("data", "path")
_SAVE = "numpy.savez(path, x_train=..., y_train=...) or numpy.savez(path, x=..., y=...)"


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, read without unpickling anything.

    Raises:
        DataError: the file is missing, is not a zip archive of arrays, or is truncated.
    """
    read_npz_header(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as err:
        raise DataError(
            f"{path}: not a readable .npz archive ({err}); it may be truncated or hold "
            f"pickled objects; save plain arrays with {_SAVE}",
            key=_PATH,
        ) from None


def read_npz_header(path: Path) -> None:
    """Check that ``path`` is there and starts like an ``.npz`` archive (a zip file).

    Raises:
        DataError: it is missing, unreadable, a single ``.npy`` array, or not a zip file.
    """
    problem = data_path_problem("npz", path)
    if problem is not None:
        raise DataError(problem, key=_PATH)
    try:
        with path.open("rb") as file:
            head = file.read(8)
    except OSError as err:
        raise DataError(
            f"{path}: cannot read the file ({err.strerror or err})", key=_PATH
        ) from None
    if head.startswith(b"\x93NUMPY"):
        raise DataError(
            f"{path}: holds a single .npy array, expected an .npz archive of named arrays; "
            f"save it with {_SAVE}",
            key=_PATH,
        )
    if not head.startswith(b"PK"):
        raise DataError(
            f"{path}: not an .npz archive: it does not start with a zip header (its first "
            f"bytes are {head!r}); save the arrays with {_SAVE}",
            key=_PATH,
        )


def as_examples(x: np.ndarray, *, source: str) -> tuple[np.ndarray, bool]:
    """``(x, image)``: 3-D ``(N, H, W)`` gains a channel axis; 4-D is an image; 2-D is flat.

    Raises:
        DataError: ``x`` has another number of dimensions or is not numeric.
    """
    check_features(x, source=source)
    if x.ndim == 3:
        return x[..., np.newaxis], True
    if x.ndim in (2, 4):
        return x, x.ndim == 4
    raise DataError(
        f"{source}: expected examples of shape (N, features), (N, H, W) or (N, H, W, C), "
        f"got {x.shape}",
        key=_PATH,
    )


def load_npz(path: Path, *, test: bool) -> Loaded:
    """Load an npz data set.

    Args:
        path: the ``.npz`` file.
        test: whether a test split is needed; without ``x_test`` in the file a fixed 20 % of
            the examples is held out for it.

    Raises:
        DataError: the file is unreadable, lacks the arrays, or they do not fit together.
    """
    arrays = read_npz(path)
    if {"x_train", "y_train"} <= arrays.keys():
        names = ("x_train", "y_train")
    elif {"x", "y"} <= arrays.keys():
        names = ("x", "y")
    else:
        raise DataError(
            f"{path}: expected arrays x_train and y_train (optionally x_test, y_test) or x and "
            f"y, found {sorted(arrays) or 'no arrays'}",
            key=_PATH,
        )
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DataError(
            f"{path}: has only one of x_test and y_test; give both or neither", key=_PATH
        )
    x, image = as_examples(arrays[names[0]], source=f"{path} [{names[0]}]")
    _check_lengths(path, names, x, arrays[names[1]])
    x_test = y_test = None
    if test and "x_test" in arrays:
        x_test, _ = as_examples(arrays["x_test"], source=f"{path} [x_test]")
        _check_lengths(path, ("x_test", "y_test"), x_test, arrays["y_test"])
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(
                f"{path}: x_test examples have shape {x_test.shape[1:]}, but {names[0]} "
                f"examples have shape {x.shape[1:]}",
                key=_PATH,
            )
        y_test = arrays["y_test"]
    y, y_test_ids, class_names = encode_labels(
        arrays[names[1]], y_test, source=f"{path} [{names[1]}]"
    )
    if test and x_test is None:
        x, y, x_test, y_test_ids = hold_out_test(x, y)
    return Loaded(
        name=path.stem,
        x=x,
        y=y,
        x_test=x_test,
        y_test=y_test_ids,
        class_names=class_names,
        image=image,
        value_range=value_range_of(x),
    )


def _check_lengths(path: Path, names: tuple[str, str], x: np.ndarray, y: np.ndarray) -> None:
    if len(x) != len(y):
        raise DataError(
            f"{path}: {names[0]} holds {len(x)} examples but {names[1]} holds {len(y)} labels; "
            "they must have the same length",
            key=_PATH,
        )
    if len(x) == 0:
        raise DataError(f"{path}: {names[0]} is empty", key=_PATH)

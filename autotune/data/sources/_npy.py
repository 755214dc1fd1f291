"""``.npy`` arrays in a folder, memory-mapped: ``x_train.npy, y_train.npy[, x_test.npy,
y_test.npy]`` (keras' names) or ``x.npy, y.npy``.

The examples are opened with ``numpy.load(mmap_mode="r")``: nothing but the header is read
until the cache pass (or the in-memory path) copies the rows a run uses, in bounded chunks.
Labels are small and read whole.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from autotune.data._errors import DataError
from autotune.data.sources._labels import encode_labels
from autotune.data.sources._listing import Listing, Part
from autotune.spec._paths import data_path_problem

_PATH = ("data", "path")
_SAVE = "numpy.save(folder / 'x_train.npy', x) and numpy.save(folder / 'y_train.npy', y)"
CHUNK_BYTES = 64 << 20
"""Bytes copied at a time from a mapped array."""


def list_npy(path: Path) -> Listing:
    """List a folder of ``.npy`` arrays without reading the examples.

    Raises:
        DataError: the folder lacks the arrays, one is not a readable ``.npy`` (or holds
            objects), or examples and labels do not fit together.
    """
    problem = data_path_problem("npy", path)
    if problem is not None:
        raise DataError(problem, key=_PATH)
    names = next(
        (
            pair
            for pair in (("x_train", "y_train"), ("x", "y"))
            if (path / f"{pair[0]}.npy").is_file()
        ),
        None,
    )
    if names is None:
        found = sorted(p.name for p in path.glob("*.npy"))
        raise DataError(
            f"data.path: {path} has no x_train.npy (or x.npy); it holds "
            f"{', '.join(found) or 'no .npy files'}; save the arrays with {_SAVE}",
            key=_PATH,
        )
    x = _open(path / f"{names[0]}.npy", mapped=True)
    y_raw = _open(path / f"{names[1]}.npy", mapped=False)
    _check(path, names, x, y_raw)
    has_test = (path / "x_test.npy").is_file() and names[0] == "x_train"
    x_test = y_test_raw = None
    if has_test:
        x_test = _open(path / "x_test.npy", mapped=True)
        y_test_raw = _open(path / "y_test.npy", mapped=False)
        _check(path, ("x_test", "y_test"), x_test, y_test_raw)
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(
                f"{path}: x_test examples have shape {x_test.shape[1:]}, but {names[0]} examples "
                f"have shape {x.shape[1:]}",
                key=_PATH,
            )
    y, y_test, class_names = encode_labels(
        y_raw, y_test_raw, source=f"{path / names[1]}.npy", key=_PATH
    )
    image = x.ndim in (3, 4)
    shape = (*x.shape[1:], 1) if x.ndim == 3 else tuple(x.shape[1:])
    return Listing(
        kind="npy",
        name=path.name,
        class_names=class_names,
        shape=tuple(int(d) for d in shape),
        dtype=x.dtype,
        image=image,
        value_range=(0.0, 255.0)
        if x.dtype == np.uint8
        else (0.0, 1.0)
        if x.dtype == np.bool_
        else None,
        train=array_part(path / f"{names[0]}.npy", x, y, shape),
        test=None
        if x_test is None or y_test is None
        else array_part(path / "x_test.npy", x_test, y_test, shape),
    )


def _open(file: Path, *, mapped: bool) -> np.ndarray:
    try:
        array = np.load(file, mmap_mode="r" if mapped else None, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{file}: does not exist; save it with {_SAVE}", key=_PATH) from None
    except (ValueError, OSError, EOFError) as err:
        raise DataError(
            f"{file}: not a readable .npy array ({err}); it may be truncated or hold Python "
            f"objects; save plain arrays with {_SAVE}",
            key=_PATH,
        ) from None
    if not isinstance(array, np.ndarray):
        raise DataError(f"{file}: expected one array saved with numpy.save", key=_PATH)
    return array


def _check(path: Path, names: tuple[str, str], x: np.ndarray, y: np.ndarray) -> None:
    if x.dtype.kind not in "biuf":
        raise DataError(
            f"{path / names[0]}.npy: examples must be numbers, got dtype {x.dtype}; convert "
            "them to uint8 images or float features",
            key=_PATH,
        )
    if x.ndim not in (2, 3, 4):
        raise DataError(
            f"{path / names[0]}.npy: expected examples of shape (N, features), (N, H, W) or "
            f"(N, H, W, C), got {x.shape}",
            key=_PATH,
        )
    if len(x) != len(y):
        raise DataError(
            f"{path}: {names[0]}.npy holds {len(x)} examples but {names[1]}.npy holds "
            f"{len(y)} labels; they must have the same length",
            key=_PATH,
        )
    if len(x) == 0:
        raise DataError(f"{path / names[0]}.npy: is empty", key=_PATH)


def array_part(file: Path, x: np.ndarray, labels: np.ndarray, shape: tuple[int, ...]) -> Part:
    """A part whose examples are rows of ``x`` (an array mapped from ``file``), read in chunks
    in file order."""
    example = int(np.prod(x.shape[1:], dtype=np.int64)) * x.itemsize
    step = max(1, CHUNK_BYTES // max(1, example))

    def fill(rows: np.ndarray, out: np.ndarray, done: Callable[[int], None]) -> np.ndarray:
        order = np.argsort(rows, kind="stable")  # read the file forwards
        for start in range(0, len(rows), step):
            positions = order[start : start + step]
            out[positions] = x[rows[positions]].reshape(len(positions), *shape)
            done(len(positions))
        return np.zeros(0, dtype=np.int64)

    def identity(rows: np.ndarray) -> list[object]:
        stat = os.stat(file)
        return [str(file), stat.st_size, stat.st_mtime_ns]

    return Part(
        labels=labels,
        fill=fill,
        identity=identity,
        where=lambda i: f"{file} row {i}",
        why_bad=lambda i: f"{file} row {i}: could not be read",
    )

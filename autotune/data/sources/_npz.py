"""npz files: ``x_train, y_train[, x_test, y_test]`` (keras' layout) or ``x, y``.

One that fits is read whole (``load_npz``). One streamed (``data.stream: true``, or ``auto`` over
1 GiB) is listed (``list_npz``): labels read whole, the examples array streamed out of the zip
archive in chunks into the cache (``numpy.load(mmap_mode=)`` cannot map inside an ``.npz``).
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np

from autotune.data._dataset import Loaded
from autotune.data._errors import DataError
from autotune.data._split import hold_out_test
from autotune.data.sources._labels import check_features, encode_labels, value_range_of
from autotune.data.sources._listing import Listing, Part
from autotune.spec._paths import data_path_problem

_PATH = ("data", "path")
CHUNK_BYTES = 64 << 20
"""Bytes read at a time from a streamed archive member."""
_BROKEN = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError)
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
    except _BROKEN as err:
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


def list_npz(path: Path) -> Listing:
    """List an ``.npz`` archive: its arrays' shapes from their headers and its labels.

    Raises:
        DataError: the file is not a readable archive of plain arrays, lacks ``x_train`` and
            ``y_train`` (or ``x`` and ``y``), or examples and labels do not fit together.
    """
    problem = data_path_problem("npz", path)
    if problem is not None:
        raise DataError(problem, key=_PATH)
    read_npz_header(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name.removesuffix(".npy") for name in archive.namelist()}
    except _BROKEN as err:
        raise DataError(f"{path}: not a readable .npz archive ({err})", key=_PATH) from None
    names = next((p for p in (("x_train", "y_train"), ("x", "y")) if set(p) <= members), None)
    if names is None:
        raise DataError(
            f"{path}: expected arrays x_train and y_train (optionally x_test, y_test) or x and "
            f"y, found {sorted(members) or 'no arrays'}",
            key=_PATH,
        )
    shape, dtype = _header(path, names[0])
    y_raw = _labels(path, names[1], shape[0])
    has_test = names[0] == "x_train" and {"x_test", "y_test"} <= members
    y_test_raw = None
    if has_test:
        test_shape, test_dtype = _header(path, "x_test")
        if test_shape[1:] != shape[1:] or test_dtype != dtype:
            raise DataError(
                f"{path}: x_test examples are {test_dtype} {test_shape[1:]}, but {names[0]} "
                f"examples are {dtype} {shape[1:]}",
                key=_PATH,
            )
        y_test_raw = _labels(path, "y_test", test_shape[0])
    y, y_test, class_names = encode_labels(
        y_raw, y_test_raw, source=f"{path} [{names[1]}]", key=_PATH
    )
    example = (*shape[1:], 1) if len(shape) == 3 else tuple(shape[1:])
    return Listing(
        kind="npz",
        name=path.stem,
        class_names=class_names,
        shape=example,
        dtype=dtype,
        image=len(shape) in (3, 4),
        value_range=(0.0, 255.0) if dtype == np.uint8 else None,
        train=_part(path, names[0], y, example, dtype),
        test=None if y_test is None else _part(path, "x_test", y_test, example, dtype),
    )


def _header(path: Path, member: str) -> tuple[tuple[int, ...], np.dtype]:
    try:
        with zipfile.ZipFile(path) as archive, archive.open(f"{member}.npy") as file:
            shape, fortran, dtype = _read_header(file)
    except _BROKEN as err:
        raise DataError(
            f"{path} [{member}]: not a readable array ({err}); save plain arrays with numpy.savez",
            key=_PATH,
        ) from None
    if dtype.kind not in "biuf" or dtype.hasobject:
        raise DataError(
            f"{path} [{member}]: examples must be numbers, got dtype {dtype}; convert them to "
            "uint8 images or float features",
            key=_PATH,
        )
    if fortran and len(shape) > 1:
        raise DataError(
            f"{path} [{member}]: saved in Fortran order; save numpy.ascontiguousarray(x) to "
            "stream it",
            key=_PATH,
        )
    if len(shape) not in (2, 3, 4) or shape[0] == 0:
        raise DataError(
            f"{path} [{member}]: expected examples of shape (N, features), (N, H, W) or "
            f"(N, H, W, C), got {shape}",
            key=_PATH,
        )
    return shape, dtype


def _read_header(file: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(file)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(file)
    return np.lib.format.read_array_header_2_0(file)


def _labels(path: Path, member: str, count: int) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as archive:
            labels = np.asarray(archive[member])
    except _BROKEN as err:
        raise DataError(f"{path} [{member}]: not a readable array ({err})", key=_PATH) from None
    if len(labels) != count:
        raise DataError(
            f"{path}: the examples are {count} but {member} holds {len(labels)} labels; they "
            "must have the same length",
            key=_PATH,
        )
    return labels


def _part(
    path: Path, member: str, labels: np.ndarray, shape: tuple[int, ...], dtype: np.dtype
) -> Part:
    example = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    step = max(1, CHUNK_BYTES // max(1, example))

    def fill(rows: np.ndarray, out: np.ndarray, done: Callable[[int], None]) -> np.ndarray:
        order = np.argsort(rows, kind="stable")
        wanted = rows[order]
        taken = 0
        try:
            with zipfile.ZipFile(path) as archive, archive.open(f"{member}.npy") as file:
                _read_header(file)
                for start in range(0, len(labels), step):
                    count = min(step, len(labels) - start)
                    raw = file.read(count * example)
                    if len(raw) != count * example:
                        raise EOFError(f"the array ends after {start * example + len(raw)} bytes")
                    end = np.searchsorted(wanted, start + count)
                    if end > taken:
                        chunk = np.frombuffer(raw, dtype=dtype).reshape(count, *shape)
                        positions = order[taken:end]
                        out[positions] = chunk[wanted[taken:end] - start]
                        done(int(end - taken))
                        taken = int(end)
                    if taken == len(wanted):
                        break
        except _BROKEN as err:
            raise DataError(
                f"{path} [{member}]: cannot be read to the end ({err}); the archive may be "
                "truncated",
                key=_PATH,
            ) from None
        return np.zeros(0, dtype=np.int64)

    def identity(rows: np.ndarray) -> list[object]:
        stat = path.stat()
        return [str(path), member, stat.st_size, stat.st_mtime_ns]

    return Part(
        labels=labels,
        fill=fill,
        identity=identity,
        where=lambda i: f"{path} [{member}] row {i}",
        why_bad=lambda i: f"{path} [{member}] row {i}: could not be read",
    )

"""npz files read member by member: the examples array is streamed out of the zip archive in
chunks (``numpy.load(mmap_mode=)`` cannot map inside an ``.npz``), labels are read whole.

Used when an ``.npz`` is streamed (``data.stream: true``, or ``auto`` over 1 GiB); a smaller
one is read whole by ``autotune.data.sources._npz``.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np

from autotune.data._errors import DataError
from autotune.data.sources._labels import encode_labels
from autotune.data.sources._listing import Listing, Part
from autotune.data.sources._npz import read_npz_header
from autotune.spec._paths import data_path_problem

_PATH = ("data", "path")
CHUNK_BYTES = 64 << 20
_BROKEN = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError)


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

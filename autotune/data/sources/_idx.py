"""IDX files (the MNIST family's format), gzip-compressed or not."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from autotune.data._errors import DataError

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
"""IDX type byte -> big-endian numpy dtype."""


def read_bytes(path: Path, *, key: tuple[str, ...] = ("data", "path")) -> bytes:
    """A file's bytes, gunzipped when it starts with the gzip magic number.

    Raises:
        DataError: the file cannot be read or its compressed stream is truncated or corrupt.
    """
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read the file ({err.strerror or err})", key=key) from None
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise DataError(
            f"{path}: the gzip data is truncated or corrupt ({err}); download or copy the file "
            "again",
            key=key,
        ) from None


def read_idx(path: Path, *, key: tuple[str, ...] = ("data", "path")) -> np.ndarray:
    """Read one IDX file into a native-endian numpy array.

    Args:
        path: an IDX file, optionally gzip-compressed.
        key: the run-file key a problem concerns.

    Raises:
        DataError: the file is not IDX (wrong magic number), or its size does not match its
            header.
    """
    raw = read_bytes(path, key=key)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES or raw[3] == 0:
        raise DataError(
            f"{path}: not an IDX file: its magic number is 0x{raw[:4].hex() or 'empty'}, "
            "expected 0x0000 then a type byte (08 for uint8) and a dimension count "
            "(e.g. 0x00000803 for images, 0x00000801 for labels)",
            key=key,
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: IDX header is truncated ({len(raw)} bytes)", key=key)
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_TYPES[raw[2]])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: the IDX header promises shape {tuple(dims)} of {dtype.name} "
            f"({expected} bytes of data) but the file holds {len(raw) - header} bytes; "
            "it is truncated or corrupt",
            key=key,
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def read_idx_pair(
    images: Path, labels: Path, *, key: tuple[str, ...] = ("data", "path")
) -> tuple[np.ndarray, np.ndarray]:
    """Read an images file ``(N, H, W)`` and its labels file ``(N,)`` as ``(N, H, W, 1)`` uint8.

    Raises:
        DataError: either file is unreadable or corrupt, or their shapes do not match.
    """
    x = read_idx(images, key=key)
    y = read_idx(labels, key=key)
    if x.ndim != 3:
        raise DataError(f"{images}: expected images of shape (N, H, W), got {x.shape}", key=key)
    if y.ndim != 1:
        raise DataError(f"{labels}: expected labels of shape (N,), got {y.shape}", key=key)
    if x.dtype != np.uint8:
        raise DataError(f"{images}: expected uint8 pixels, got {x.dtype}", key=key)
    if len(x) != len(y):
        raise DataError(
            f"{images} holds {len(x)} images but {labels} holds {len(y)} labels; the files do "
            "not belong together",
            key=key,
        )
    return x[..., np.newaxis], y.astype(np.int32)

"""Where the pipeline reads a batch of examples from: arrays in memory or memory-mapped files.

A split is read by index: the pipeline shuffles and batches example indices, and a map reads
each batch's examples in their stored dtype (uint8 for images) and normalizes them there. An
array in memory is handed to TensorFlow without a copy (DLPack, which needs 64-byte aligned
memory: ``aligned_empty`` makes such arrays, and an unaligned one is copied once); a
memory-mapped array is read batch by batch through NumPy, so its pages stay in the page cache
(file-backed memory the kernel can drop) rather than in the process's own.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

ALIGNMENT = 64
"""Bytes TensorFlow's CPU kernels need an input's start aligned to."""

Read = Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]]


def aligned_empty(shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts on a 64-byte boundary.

    Example:
        >>> aligned_empty((3, 5), np.uint8).ctypes.data % 64
        0
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buffer = np.empty(size + ALIGNMENT, dtype=np.uint8)
    offset = (-buffer.ctypes.data) % ALIGNMENT
    return buffer[offset : offset + size].view(dtype).reshape(shape)


def take_rows(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``x[rows]`` into an aligned array (what a split keeps in memory), in bounded chunks."""
    out = aligned_empty((len(rows), *x.shape[1:]), x.dtype)
    step = max(1, (64 << 20) // max(1, int(np.prod(x.shape[1:], dtype=np.int64)) * x.itemsize))
    for start in range(0, len(rows), step):
        out[start : start + step] = x[rows[start : start + step]]
    return out


def on_disk(x: np.ndarray) -> bool:
    """Whether ``x``'s memory is a mapped file (``np.memmap`` or a view of one)."""
    base: object = x
    while base is not None:
        if isinstance(base, np.memmap | mmap.mmap):
            return True
        base = getattr(base, "base", None)
    return False


@dataclass(frozen=True, eq=False)
class Examples:
    """One split the pipeline reads batches of: examples ``x`` and int32 class ids ``y``.

    Attributes:
        x: the examples, in memory or memory-mapped, in their stored dtype.
        y: int32 class ids, always in memory.
        read: maps a batch of int64 indices to ``(x, y)`` tensors (``x`` in its stored dtype).
    """

    x: np.ndarray
    y: np.ndarray
    read: Read

    def __len__(self) -> int:
        return len(self.y)


def examples(x: np.ndarray, y: np.ndarray) -> Examples:
    """A reader of ``x[i], y[i]`` by batches of indices.

    Raises:
        ValueError: ``x`` and ``y`` differ in length.
    """
    if len(x) != len(y):
        raise ValueError(f"x holds {len(x)} examples but y holds {len(y)} labels")
    labels = np.ascontiguousarray(y, dtype=np.int32)
    with tf.device("/CPU:0"):  # host memory: tf.data reads it there, GPUs stay free
        y_host = tf.constant(labels)
    if on_disk(x):
        return Examples(x, labels, _mapped_reader(x, y_host))
    held = x if _aligned(x) else take_rows(x, np.arange(len(x)))
    with tf.device("/CPU:0"):
        x_host = tf.experimental.dlpack.from_dlpack(held.__dlpack__())

    def read(indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return tf.gather(x_host, indices), tf.gather(y_host, indices)

    return Examples(held, labels, read)


def _aligned(x: np.ndarray) -> bool:
    return bool(
        x.flags.c_contiguous
        and x.ctypes.data % ALIGNMENT == 0
        and x.dtype.kind in "biuf"
        and x.dtype.isnative
        and x.size > 0
    )


def _mapped_reader(x: np.ndarray, y_host: tf.Tensor) -> Read:
    """Batches read from a mapped file by NumPy, indices sorted so reads go forward."""
    dtype = tf.as_dtype(x.dtype)
    shape = x.shape[1:]

    def gather(indices: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x[indices])

    def read(indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        indices = tf.sort(indices)
        batch = tf.numpy_function(gather, [indices], dtype, stateful=False)
        batch.set_shape((None, *shape))
        return batch, tf.gather(y_host, indices)

    return read

"""Listing: a source known by its labels and example shape, whose examples are read on demand.

A listed source is split by row index (``autotune.data._split``) before any example is read,
and only the rows a run uses are read: by the cache pass into a memory-mapped file, or into
memory when the data fits (``autotune.data.sources._cache``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Fill = Callable[[np.ndarray, np.ndarray, Callable[[int], None]], np.ndarray]
"""``fill(rows, out, done)``: read examples ``rows`` into ``out[0..len(rows))``, calling
``done(n)`` as ``n`` more are read; returns the positions (into ``rows``) that could not be read,
whose ``out`` entries are left as they were."""


@dataclass(frozen=True, eq=False)
class Part:
    """One part of a listed source: its training part, or a validation or test part given apart.

    Attributes:
        labels: int32 class ids, one per example, in listing order.
        fill: reads examples by row (see ``Fill``).
        identity: ``identity(rows)`` is plain JSON saying what those examples are (each file
            with its size and modification time): a cache of them is valid while it is the same.
        where: the file (and row) example ``i`` comes from, for messages.
        why_bad: why example ``i`` could not be read, for messages.
    """

    labels: np.ndarray
    fill: Fill
    identity: Callable[[np.ndarray], Any]
    where: Callable[[int], str]
    why_bad: Callable[[int], str]

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True, eq=False)
class Listing:
    """A source listed without reading its examples.

    Attributes:
        kind: the run file's ``data.dataset`` (``image_dir``, ``npy``, ...).
        name: the folder or file name.
        class_names: one name per class id.
        shape: the shape of one example as stored (``(H, W, C)`` or ``(F,)``).
        dtype: the stored dtype (uint8 for images).
        image: whether examples are images.
        value_range: the raw encoding's range, or None to take it from the examples read.
        train: the part validation (and, without ``test``, the test split) is drawn from.
        validation: a validation part the source gives apart (``val/`` folder), or None.
        test: a test part the source gives apart (``test/`` folder, ``x_test.npy``), or None.
    """

    kind: str
    name: str
    class_names: tuple[str, ...]
    shape: tuple[int, ...]
    dtype: np.dtype
    image: bool
    value_range: tuple[float, float] | None
    train: Part
    validation: Part | None = None
    test: Part | None = None

    @property
    def example_bytes(self) -> int:
        """Bytes one example takes as stored."""
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

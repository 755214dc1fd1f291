"""Listing: a source known by its labels and example shape, whose examples are read on demand.

A listed source is split by row index (``split_listing``, with ``autotune.data._split``'s
draws) before any example is read, and only the rows a run uses are read (``read_part``): by
the cache pass into a memory-mapped file, or into memory when the data fits
(``autotune.data.sources._cache.read_listing`` decides, ``streamed``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from autotune.data._errors import DataError
from autotune.data._split import TEST_FRACTION, TEST_SEED, draw, split_rows, subsample

if TYPE_CHECKING:
    from autotune.spec import DataSpec

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


STREAM_ABOVE_BYTES = 1 << 30
"""``stream: auto`` reads through the disk cache when the rows a run uses take more (1 GiB)."""
PARTS = ("train", "validation", "test")
"""The splits a listed source is read into, in order."""
Rows = dict[str, tuple[Part, np.ndarray]]
"""Each split's part and the rows of it a run reads."""


def streamed(listing: Listing, spec: DataSpec, needed: int | None = None) -> bool:
    """Whether ``listing`` is read through the disk cache: ``data.stream``, or with ``auto``
    when the examples used (``needed`` bytes; default: all it lists) take over
    ``STREAM_ABOVE_BYTES``."""
    if isinstance(spec.stream, bool):
        return spec.stream
    if needed is None:
        parts = (listing.train, listing.validation, listing.test)
        needed = sum(len(p) for p in parts if p is not None) * listing.example_bytes
    return needed > STREAM_ABOVE_BYTES


def split_listing(listing: Listing, spec: DataSpec, seed: int) -> Rows:
    """Each part's rows: test held out (fixed) or given, validation drawn with the seed or
    given, ``train_size`` drawn from the rest."""
    part = listing.train
    labels = part.labels
    rest = np.arange(len(part))
    rows: Rows = {}
    if spec.test:
        if listing.test is not None:
            rows["test"] = (listing.test, np.arange(len(listing.test)))
        else:
            test, rest = draw(labels, max(1, round(TEST_FRACTION * len(labels))), TEST_SEED)
            rows["test"] = (part, test)
    if listing.validation is None:
        train, val = split_rows(labels[rest], spec, seed=seed, name=listing.name)
        rows["train"], rows["validation"] = (part, rest[train]), (part, rest[val])
    else:
        given = listing.validation
        state = np.random.RandomState(seed % 2**32)
        val = np.arange(len(given))
        if spec.validation_size is not None and spec.validation_size < len(given):
            val, _ = draw(given.labels, spec.validation_size, state)
        rows["validation"] = (given, val)
        rows["train"] = (
            part,
            subsample(labels, rest, spec.train_size, state, name=listing.name, after=0),
        )
    return {name: rows[name] for name in PARTS if name in rows}


def read_part(
    listing: Listing,
    name: str,
    part: Part,
    rows: np.ndarray,
    out: np.ndarray,
    spec: DataSpec,
    progress: Callable[[int], None],
) -> tuple[np.ndarray, list[str]]:
    """Read ``rows`` into ``out``; returns the kept labels and the files left out.

    Rows that cannot be read stop the run (``on_bad_file: error``) or are left out, the rows
    after them moved up so that ``out[:len(kept)]`` holds the kept ones in order.
    """
    bad = part.fill(rows, out, progress)
    labels = part.labels[rows]
    if len(bad) == 0:
        return labels, []
    if spec.on_bad_file == "error":
        raise DataError(
            f"{part.why_bad(int(rows[bad[0]]))}; {len(bad)} of the {len(rows)} {name} files "
            "cannot be read: remove them, or set data.on_bad_file: skip to leave them out",
            key=("data", "path"),
        )
    keep = np.delete(np.arange(len(rows)), bad)
    if len(keep) == 0:
        raise DataError(
            f"data.path: none of the {len(rows)} {name} files of {listing.name} can be read; "
            f"the first: {part.why_bad(int(rows[0]))}",
            key=("data", "path"),
        )
    step = max(1, (64 << 20) // max(1, listing.example_bytes))
    for start in range(0, len(keep), step):  # forwards: a kept row never moves down
        chunk = keep[start : start + step]
        out[start : start + len(chunk)] = out[chunk]
    return labels[keep], [part.where(int(rows[i])) for i in bad]


def value_range(parts: dict[str, np.ndarray]) -> tuple[float, float]:
    """The lowest and highest value of the training and validation examples, read in chunks;
    every part's float values are checked finite (the test split's too).

    Raises:
        DataError: a float value is NaN or infinite.
    """
    low, high = np.inf, -np.inf
    for name, x in parts.items():
        step = max(1, (64 << 20) // max(1, x[0].nbytes))
        for start in range(0, len(x), step):
            chunk = np.asarray(x[start : start + step])
            if chunk.dtype.kind == "f" and not np.isfinite(chunk).all():
                raise DataError(
                    f"data.path: some feature values of the {name} split are NaN or infinite; "
                    "fill or drop them first",
                    key=("data", "path"),
                )
            if name != "test":
                low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    return (low, high) if high > low else (low, low + 1.0)

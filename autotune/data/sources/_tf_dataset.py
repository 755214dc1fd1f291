"""A ``tf.data.Dataset`` given to the Python API, read once without holding it in memory.

Its ``(x, y)`` elements are written batch by batch to a file under the cache folder, then split
and read like ``.npy`` arrays (into memory when they fit, else into the disk cache); the file
is removed afterwards. Only the labels are held while it is written.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autotune.data._arrays import unbatched_pairs
from autotune.data._dataset import Dataset
from autotune.data._errors import DataError
from autotune.data.sources._cache import read_listing
from autotune.data.sources._labels import encode_labels
from autotune.data.sources._listing import Listing, Part
from autotune.data.sources._npy import array_part

WRITE_BATCH = 1024


@dataclass(frozen=True)
class _Written:
    x: np.ndarray
    labels: np.ndarray
    shape: tuple[int, ...]
    digest: str


def load_tf_dataset(
    data: Any,
    validation: Any | None,
    *,
    seed: int,
    cache_root: Path,
    validation_split: float | None = None,
) -> Dataset:
    """The Dataset of a ``tf.data.Dataset`` of ``(x, y)`` examples (batched or not).

    Validation is ``validation`` (another such dataset) or a seeded, stratified
    ``validation_split`` (default 0.2) of ``data``, as a run file draws it.

    Raises:
        DataError: elements are not ``(x, y)`` pairs of numbers with one shape, or there are
            none.
    """
    from autotune.spec import DataSpec

    cache_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="tf-data-", dir=cache_root))
    try:
        train = _write(data, scratch / "data.x", what="data")
        given = (
            None if validation is None else _write(validation, scratch / "val.x", what="validation")
        )
        if given is not None and given.shape != train.shape:
            raise DataError(
                f"validation: examples of shape {given.shape} do not match the training "
                f"examples' {train.shape}",
                key=("validation",),
            )
        y, y_val, names = encode_labels(
            train.labels, None if given is None else given.labels, source="labels", key=("data",)
        )
        if len(names) < 2:
            raise DataError("data: a classifier needs at least two classes", key=("data",))
        image = len(train.shape) == 3
        listing = Listing(
            kind="tf.data",
            name="tf.data",
            class_names=names,
            shape=train.shape,
            dtype=train.x.dtype,
            image=image,
            value_range=(0.0, 255.0) if train.x.dtype == np.uint8 else None,
            train=_part(train, y),
            validation=None if given is None or y_val is None else _part(given, y_val),
        )
        spec = DataSpec(dataset="npy", path=str(scratch), validation_split=validation_split)
        dataset = read_listing(listing, spec, seed=seed, cache_root=cache_root)
        dataset.source["sha1"] = train.digest if given is None else train.digest + given.digest
        return dataset
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _part(written: _Written, labels: np.ndarray) -> Part:
    part = array_part(Path("tf.data"), written.x, labels, written.shape)
    return Part(
        labels=labels,
        fill=part.fill,
        identity=lambda rows: ["tf.data", written.digest],
        where=part.where,
        why_bad=part.why_bad,
    )


def _write(data: Any, file: Path, *, what: str) -> _Written:
    data = unbatched_pairs(data, what)
    digest = hashlib.sha1(usedforsecurity=False)
    labels: list[np.ndarray] = []
    shape: tuple[int, ...] | None = None
    dtype: np.dtype | None = None
    count = 0
    with file.open("wb") as out:
        for x, y, *_ in data.batch(WRITE_BATCH).as_numpy_iterator():
            x = np.ascontiguousarray(x)
            if shape is None:
                shape, dtype = tuple(x.shape[1:]), x.dtype
                if dtype.kind not in "biuf":
                    raise DataError(
                        f"{what}: examples must be numbers, got dtype {dtype}", key=(what,)
                    )
            if tuple(x.shape[1:]) != shape or x.dtype != dtype:
                raise DataError(
                    f"{what}: example {count} is {x.dtype} {tuple(x.shape[1:])}, the first were "
                    f"{dtype} {shape}; every example needs one shape",
                    key=(what,),
                )
            if x.dtype.kind == "f" and not np.isfinite(x).all():
                raise DataError(f"{what}: some values are NaN or infinite", key=(what,))
            out.write(x.tobytes())
            digest.update(x.tobytes())
            digest.update(np.ascontiguousarray(y).tobytes())
            labels.append(np.asarray(y))
            count += len(x)
    if shape is None or dtype is None or count == 0:
        raise DataError(f"{what}: the dataset is empty", key=(what,))
    mapped = np.memmap(file, dtype=dtype, mode="r", shape=(count, *shape))
    example = (*shape, 1) if len(shape) == 2 else shape  # (H, W) images gain a channel
    if len(shape) not in (1, 2, 3):
        raise DataError(
            f"{what}: expected examples of shape (features,), (H, W) or (H, W, C), got {shape}",
            key=(what,),
        )
    return _Written(mapped, np.concatenate(labels), tuple(example), digest.hexdigest())

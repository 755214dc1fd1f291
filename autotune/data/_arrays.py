"""Data given in Python: NumPy arrays or a ``tf.data.Dataset`` as a split, in-memory Dataset.

The Python API (``autotune.tune``) takes ``data=(x, y)`` or a dataset of ``(x, y)`` examples,
and optionally ``validation=`` the same way. Without validation data, a seeded, stratified
``DEFAULT_VALIDATION_SPLIT`` of the examples is held out, as a run file's data section does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autotune.data._dataset import Dataset
from autotune.data._errors import DataError
from autotune.data._split import DEFAULT_VALIDATION_SPLIT, draw
from autotune.data.sources._labels import check_features, encode_labels, value_range_of
from autotune.data.sources._npz import as_examples


@dataclass(frozen=True, eq=False)
class Arrays:
    """Training and validation examples exactly as the user gave them (labels untouched).

    Attributes:
        x_train: training examples.
        y_train: training labels.
        x_val: validation examples.
        y_val: validation labels.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    def fingerprint(self) -> dict[str, Any]:
        """Shapes and a SHA-1 of the bytes: what a resumed study checks it trains on."""
        digest = hashlib.sha1(usedforsecurity=False)
        for array in (self.x_train, self.y_train, self.x_val, self.y_val):
            digest.update(np.ascontiguousarray(array).tobytes())
        return {
            "arrays": {
                "train": [int(n) for n in self.x_train.shape],
                "validation": [int(n) for n in self.x_val.shape],
                "sha1": digest.hexdigest(),
            }
        }


def arrays_of(data: Any, *, what: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` NumPy arrays from a pair of arrays or a ``tf.data.Dataset`` of ``(x, y)``.

    A dataset whose elements have an unknown first dimension (``.batch(n)``) is unbatched.

    Raises:
        DataError: ``data`` is neither, or ``x`` and ``y`` differ in length.

    Example:
        >>> x, y = arrays_of(([[0.0, 1.0], [1.0, 0.0]], [0, 1]))
        >>> x.shape, y.tolist()
        ((2, 2), [0, 1])
    """
    if isinstance(data, Sequence) and not isinstance(data, str) and len(data) == 2:
        x, y = np.asarray(data[0]), np.asarray(data[1])
    elif _is_tf_dataset(data):
        x, y = _materialize(data, what)
    else:
        raise DataError(
            f"{what}: expected (x, y) arrays or a tf.data.Dataset of (x, y) pairs, "
            f"got {type(data).__name__}",
            key=(what,),
        )
    if len(x) != len(y):
        raise DataError(f"{what}: x has {len(x)} examples but y has {len(y)} labels", key=(what,))
    if len(x) == 0:
        raise DataError(f"{what}: there are no examples", key=(what,))
    return x, y


def _is_tf_dataset(data: Any) -> bool:
    return type(data).__module__.startswith("tensorflow") and hasattr(data, "element_spec")


def unbatched_pairs(data: Any, what: str) -> Any:
    """``data``, a ``tf.data.Dataset`` of ``(x, y)`` pairs, one example an element (a dataset
    whose elements have an unknown first dimension, ``.batch(n)``'s, is unbatched).

    Raises:
        DataError: its elements are not ``(x, y)`` pairs.
    """
    spec = getattr(data, "element_spec", None)
    if not isinstance(spec, tuple) or len(spec) < 2:
        raise DataError(
            f"{what}: expected a tf.data.Dataset of (x, y) pairs, got elements {spec}",
            key=(what,),
        )
    if spec[0].shape.rank and spec[0].shape[0] is None:
        return data.unbatch()
    return data


def _materialize(data: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    data = unbatched_pairs(data, what)
    xs, ys = [], []
    for x, y, *_ in data.as_numpy_iterator():
        xs.append(x)
        ys.append(y)
    if not xs:
        raise DataError(f"{what}: the dataset is empty", key=(what,))
    return np.stack(xs), np.stack(ys)


def split_arrays(
    data: Any, validation: Any | None, *, seed: int, validation_split: float | None = None
) -> Arrays:
    """Training and validation examples from what ``tune`` was given.

    Args:
        data: ``(x, y)`` arrays or a ``tf.data.Dataset`` of ``(x, y)``.
        validation: the same for validation, or None to hold out part of ``data``.
        seed: draws the held-out part (stratified by label when each class has two examples).
        validation_split: the share held out. Defaults to 0.2.

    Raises:
        DataError: unusable arrays, or nothing left to train on.

    Example:
        >>> import numpy as np
        >>> arrays = split_arrays((np.zeros((10, 3)), np.arange(10) % 2), None, seed=0)
        >>> len(arrays.x_train), len(arrays.x_val)
        (8, 2)
    """
    x, y = arrays_of(data, what="data")
    if validation is not None:
        x_val, y_val = arrays_of(validation, what="validation")
        return Arrays(x, y, x_val, y_val)
    fraction = DEFAULT_VALIDATION_SPLIT if validation_split is None else validation_split
    count = max(1, round(fraction * len(x)))
    if count >= len(x):
        raise DataError(
            f"data: {len(x)} examples leave none for training after holding out "
            f"{count} for validation; pass validation=(x_val, y_val)",
            key=("data",),
        )
    labels = _stratum(y)
    val, rest = draw(labels, count, np.random.RandomState(seed % 2**32))
    return Arrays(x[rest], y[rest], x[val], y[val])


def _stratum(y: np.ndarray) -> np.ndarray:
    """Labels as small non-negative ints to stratify by (one-hot rows by their class)."""
    if y.ndim == 2 and y.shape[1] > 1:
        y = np.argmax(y, axis=1)
    flat = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    _, inverse = np.unique(flat, return_inverse=True)
    return inverse.astype(np.int64)


def dataset_of(arrays: Arrays, *, name: str = "arrays") -> Dataset:
    """The in-memory Dataset the built-in trainer reads, from user arrays.

    Labels become class ids (as a run file's npz source does); ``(N, H, W)`` images gain a
    channel; ``(N, H, W, C)`` are images and ``(N, F)`` flat features.

    Raises:
        DataError: non-numeric or non-finite examples, bad labels, or mismatched shapes.

    Example:
        >>> import numpy as np
        >>> arrays = split_arrays((np.zeros((20, 8, 8), np.uint8), np.arange(20) % 2), None,
        ...                       seed=0)
        >>> ds = dataset_of(arrays)
        >>> ds.image, ds.input_shape, ds.num_classes
        (True, (8, 8, 1), 2)
    """
    x_train, image = as_examples(arrays.x_train, source="data")
    x_val, _ = as_examples(arrays.x_val, source="validation")
    check_features(x_train, source="data", key=("data",))
    check_features(x_val, source="validation", key=("validation",))
    if x_train.shape[1:] != x_val.shape[1:]:
        raise DataError(
            f"validation: examples of shape {x_val.shape[1:]} do not match the training "
            f"examples' {x_train.shape[1:]}",
            key=("validation",),
        )
    y_train, y_val, names = encode_labels(
        arrays.y_train, arrays.y_val, source="labels", key=("data",)
    )
    if y_val is None or len(names) < 2:
        raise DataError("data: a classifier needs at least two classes", key=("data",))
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=None,
        y_test=None,
        num_classes=len(names),
        class_names=names,
        image=image,
        value_range=value_range_of(np.concatenate([x_train.ravel(), x_val.ravel()])),
    )

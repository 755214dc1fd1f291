"""Checks shared by the file sources: labels to class ids, numeric features, value ranges."""

from __future__ import annotations

import numpy as np

from autotune.data._errors import DataError

MAX_CLASSES = 1000
"""More distinct target values than this looks like regression, which autotune does not tune."""


def encode_labels(
    y: np.ndarray,
    y_test: np.ndarray | None,
    *,
    source: str,
    key: tuple[str, ...] = ("data", "path"),
) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    """Turn raw labels into int32 class ids ``0..K-1`` and class names.

    Labels are numbered in sorted order, so integer labels ``0..K-1`` keep their values and
    others (gaps, negative, integral floats, strings) are renumbered; class names are the
    original values as text. One-hot rows become ids.

    Args:
        y: the training split's labels.
        y_test: the test split's labels, numbered together with ``y``; or None.
        source: what the labels came from (a file and column), for messages.
        key: the run-file key a problem concerns.

    Raises:
        DataError: labels are missing, not 1-D, or look like a regression target.
    """
    y = _one_dimensional(y, source, key)
    parts = [y] if y_test is None else [y, _one_dimensional(y_test, source, key)]
    every = np.concatenate(parts)
    if every.size == 0:
        raise DataError(f"{source}: there are no labels", key=key)
    if every.dtype.kind == "f":
        if np.isnan(every).any():
            raise DataError(
                f"{source}: {int(np.isnan(every).sum())} labels are empty (NaN); "
                "every example needs a class",
                key=key,
            )
        if not np.all(np.equal(np.mod(every, 1), 0)):
            example = every[np.flatnonzero(np.mod(every, 1))[0]]
            raise DataError(
                f"{source}: the target holds non-integer values such as {example!r}, so it "
                "looks like a regression target; autotune tunes classifiers only "
                "(give integer or string class labels)",
                key=key,
            )
        every = every.astype(np.int64)
    elif every.dtype.kind in "OUS":
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in every.tolist()):
            raise DataError(
                f"{source}: some labels are empty; every example needs a class", key=key
            )
        every = every.astype(str)
    elif every.dtype.kind not in "biu":
        raise DataError(
            f"{source}: labels of dtype {every.dtype} are not class labels; "
            "give integer or string class labels",
            key=key,
        )
    values, ids = np.unique(every, return_inverse=True)
    distinct = len(values)
    if distinct > MAX_CLASSES or (distinct > 2 and distinct > len(every) / 2):
        raise DataError(
            f"{source}: the target has {distinct} distinct values in {len(every)} rows, so it "
            f"looks like a regression target; autotune tunes classifiers only (at most "
            f"{MAX_CLASSES} classes, and fewer classes than half the rows)",
            key=key,
        )
    # Sorted numbering keeps labels that already are 0..K-1 as they are.
    class_ids = np.asarray(ids, dtype=np.int32).reshape(-1)
    names = tuple(str(v) for v in values.tolist())
    if y_test is None:
        return class_ids, None, names
    return class_ids[: len(y)], class_ids[len(y) :], names


def _one_dimensional(y: np.ndarray, source: str, key: tuple[str, ...]) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        return y.reshape(-1)
    if y.ndim == 2 and y.dtype.kind in "biuf":
        is_binary = np.isin(y, (0, 1)).all()
        if is_binary and np.all(y.sum(axis=1) == 1):
            return np.argmax(y, axis=1)
    if y.ndim != 1:
        raise DataError(
            f"{source}: labels must be one class per example (shape (N,) or one-hot (N, K)), "
            f"got shape {y.shape}",
            key=key,
        )
    return y


def check_features(x: np.ndarray, *, source: str, key: tuple[str, ...] = ("data", "path")) -> None:
    """Raise DataError unless ``x`` is a finite numeric array.

    Raises:
        DataError: ``x`` is not numeric or holds NaN or infinite values.
    """
    if x.dtype.kind not in "biuf":
        raise DataError(
            f"{source}: examples must be numbers, got dtype {x.dtype}; convert them to "
            "uint8 images or float features",
            key=key,
        )
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise DataError(
            f"{source}: {bad} values are NaN or infinite; fill or drop them first", key=key
        )


def value_range_of(x: np.ndarray) -> tuple[float, float]:
    """The raw encoding's range: ``(0, 255)`` for uint8, otherwise the data's min and max."""
    if x.dtype == np.uint8:
        return (0.0, 255.0)
    if x.dtype == np.bool_:
        return (0.0, 1.0)
    if x.size == 0:
        return (0.0, 1.0)
    low, high = float(np.min(x)), float(np.max(x))
    return (low, high) if high > low else (low, low + 1.0)

"""Splits: a fixed test hold-out, then validation and an optional subsample of training.

Validation always comes from the source's training split, drawn with the run's seed and
stratified by class when every class has at least two examples; ``train_size`` subsamples what
remains. The two never share an example.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
from sklearn.model_selection import train_test_split

from autotune.data._dataset import Dataset, Loaded
from autotune.data._errors import DataError
from autotune.data._examples import take_rows

if TYPE_CHECKING:
    from autotune.spec import DataSpec

_logger = logging.getLogger(__name__)

TEST_FRACTION = 0.2
"""Share of a source without a test split that is held out when a test split is needed."""
TEST_SEED = 20_240_917
"""The fixed seed of that hold-out: independent of the run seed, so the test set never moves."""
DEFAULT_VALIDATION_SPLIT = 0.2


def draw(
    y: np.ndarray, count: int, random_state: np.random.RandomState | int
) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``count`` of ``len(y)`` indices at random, stratified by ``y`` when possible.

    Returns:
        ``(taken, rest)``: sorted, disjoint index arrays that together cover ``range(len(y))``.
    """
    every = np.arange(len(y))
    if count >= len(y):
        return every, every[:0]
    counts = np.bincount(y)
    present = int(np.count_nonzero(counts))
    stratify = (
        y
        if counts[counts > 0].min() >= 2 and count >= present and len(y) - count >= present
        else None
    )
    rest, taken = train_test_split(
        every, test_size=count, stratify=stratify, random_state=random_state
    )
    return np.sort(taken), np.sort(rest)


def hold_out_test(
    x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split off a fixed, stratified ``TEST_FRACTION`` as a test split.

    Returns:
        ``(x_rest, y_rest, x_test, y_test)``.
    """
    test, rest = draw(y, max(1, round(TEST_FRACTION * len(y))), TEST_SEED)
    return x[rest], y[rest], x[test], y[test]


def split(loaded: Loaded, spec: DataSpec, *, seed: int) -> Dataset:
    """Draw validation (and ``train_size``) from ``loaded``'s training split.

    Args:
        loaded: what a source read.
        spec: the run file's ``data:`` section (``validation_size``, ``validation_split``,
            ``train_size``, ``test``).
        seed: the run seed; the same seed gives the same split.

    Raises:
        DataError: a requested size is larger than the examples available.
    """
    rest, val = split_rows(loaded.y, spec, seed=seed, name=loaded.name)
    dataset = Dataset(
        name=loaded.name,
        x_train=take_rows(loaded.x, rest),
        y_train=loaded.y[rest],
        x_val=take_rows(loaded.x, val),
        y_val=loaded.y[val],
        x_test=loaded.x_test if spec.test else None,
        y_test=loaded.y_test if spec.test else None,
        num_classes=len(loaded.class_names),
        class_names=loaded.class_names,
        image=loaded.image,
        value_range=loaded.value_range,
    )
    _logger.info("%r (seed %d, in memory)", dataset, seed)
    return dataset


def split_rows(
    y: np.ndarray, spec: DataSpec, *, seed: int, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(train, validation)`` row indices into a training split with labels ``y``.

    Validation is drawn with the run's seed, stratified by class where it can be, and
    ``train_size`` subsamples the rest; only the labels are read, so a source split this way
    need not be loaded.

    Raises:
        DataError: a requested size is larger than the examples available.
    """
    total = len(y)
    if spec.validation_size is not None:
        n_val = spec.validation_size
        if n_val >= total:
            raise DataError(
                f"data.validation_size: asked for {n_val} validation examples, but the training "
                f"split of {name} has only {total} (validation is drawn from it and at "
                "least one example must stay for training)",
                key=("data", "validation_size"),
            )
    else:
        fraction = spec.validation_split or DEFAULT_VALIDATION_SPLIT
        n_val = max(1, round(fraction * total))
        if n_val >= total:
            raise DataError(
                f"data.validation_split: {fraction} of the {total} training examples of "
                f"{name} leaves none for training",
                key=("data", "validation_split"),
            )
    state = np.random.RandomState(seed % 2**32)
    val, rest = draw(y, n_val, state)
    rest = subsample(y, rest, spec.train_size, state, name=name, after=n_val)
    return rest, val


def subsample(
    y: np.ndarray,
    rows: np.ndarray,
    train_size: int | None,
    state: np.random.RandomState,
    *,
    name: str,
    after: int,
) -> np.ndarray:
    """``train_size`` of ``rows`` (stratified by ``y``), or ``rows`` when it is None.

    Raises:
        DataError: fewer than ``train_size`` rows remain.
    """
    if train_size is None:
        return rows
    if train_size > len(rows):
        raise DataError(
            f"data.train_size: asked for {train_size} training examples, but only "
            f"{len(rows)} remain after drawing {after} for validation from the "
            f"{len(y)} in the training split of {name}; lower train_size or the validation size",
            key=("data", "train_size"),
        )
    taken, _ = draw(y[rows], train_size, state)
    return rows[taken]

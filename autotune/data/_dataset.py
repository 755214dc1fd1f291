"""Dataset (what ``load_dataset`` returns) and Loaded (what one source read, before splitting)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded, split data set held in memory as numpy arrays.

    Two Datasets compare equal only when they are the same object, which is what the per-trial
    pipeline's cache of normalized arrays relies on.

    Attributes:
        name: ``digits``, ``mnist``, ``fashion_mnist``, ``cifar10``, or the file or folder name
            of an npz, csv or image_dir source.
        x_train: training examples; ``(N, H, W, C)`` for images, ``(N, F)`` for features.
        y_train: int32 class ids in ``0..num_classes-1``.
        x_val: validation examples, drawn from the source's training split.
        y_val: validation class ids.
        x_test: test examples, or None when the run file does not ask for ``data.test``.
        y_test: test class ids, or None.
        num_classes: the number of classes.
        class_names: one name per class id.
        image: whether ``x`` holds images ``(N, H, W, C)``.
        value_range: the raw encoding's range, e.g. ``(0, 255)`` for 8-bit images.
        moments: ``(mean, std)`` of the training examples (per channel for images, per
            feature otherwise), when the source computed them while reading; None computes
            them from ``x_train`` when ``standardize`` first needs them.
        source: how the examples were read (``stream``, the cache folder, files skipped):
            plain JSON, recorded with the study.

    Example:
        >>> import numpy as np
        >>> ds = Dataset("toy", np.zeros((4, 3)), np.zeros(4, np.int32), np.zeros((1, 3)),
        ...              np.zeros(1, np.int32), None, None, 1, ("a",), False, (0.0, 1.0))
        >>> ds.input_shape
        (3,)
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    num_classes: int
    class_names: tuple[str, ...]
    image: bool
    value_range: tuple[float, float]
    moments: tuple[np.ndarray, np.ndarray] | None = None
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one example, ``x_train.shape[1:]``."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    def __repr__(self) -> str:
        test = "none" if self.x_test is None else str(len(self.x_test))
        return (
            f"Dataset({self.name!r}, train={len(self.x_train)}, val={len(self.x_val)}, "
            f"test={test}, input_shape={self.input_shape}, num_classes={self.num_classes})"
        )


@dataclass(frozen=True, eq=False)
class Loaded:
    """What a source read: its training split and, when asked for and present, its test split.

    ``y`` values are already int32 class ids; ``value_range`` is the raw encoding's range.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: tuple[str, ...]
    image: bool
    value_range: tuple[float, float]

"""Input scaling: ``unit`` ([0, 1]), ``symmetric`` ([-1, 1]) and ``standardize`` (z-scores)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autotune.data._dataset import Dataset

NORMALIZATIONS = ("unit", "symmetric", "standardize")
_CHUNK_VALUES = 1 << 22
"""Values per float64 chunk when computing statistics (32 MiB)."""


@dataclass(frozen=True, eq=False)
class Normalizer:
    """``(x - shift) * scale`` in float32, with statistics fixed from a training split.

    Attributes:
        shift: subtracted from every example (a scalar, or one value per feature or channel).
        scale: multiplied after the shift.
        bounds: the range normalized training data lies in (``(0, 1)`` for unit,
            ``(-1, 1)`` for symmetric), or None for standardize.
    """

    shift: np.ndarray
    scale: np.ndarray
    bounds: tuple[float, float] | None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """A new float32 array of normalized examples."""
        out = np.array(x, dtype=np.float32, copy=True)
        out -= self.shift
        out *= self.scale
        return out


def make_normalizer(dataset: Dataset, normalization: str) -> Normalizer:
    """The Normalizer for ``normalization`` with statistics of ``dataset.x_train`` only.

    Raises:
        ValueError: ``normalization`` is not one of ``NORMALIZATIONS``.
    """
    low, high = dataset.value_range
    if high <= low:
        raise ValueError(f"value_range must have low < high, got {dataset.value_range}")
    if normalization == "unit":
        return Normalizer(_f32(low), _f32(1.0 / (high - low)), (0.0, 1.0))
    if normalization == "symmetric":
        return Normalizer(_f32((low + high) / 2.0), _f32(2.0 / (high - low)), (-1.0, 1.0))
    if normalization == "standardize":
        mean, std = dataset.moments or moments(dataset.x_train, per_channel=dataset.image)
        scale = np.where(std > 0, 1.0 / np.where(std > 0, std, 1.0), 1.0)
        return Normalizer(mean.astype(np.float32), scale.astype(np.float32), None)
    raise ValueError(
        f"normalization: expected one of {', '.join(NORMALIZATIONS)}, got {normalization!r}"
    )


def _f32(value: float) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def moments(x: np.ndarray, *, per_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation per channel (images) or per feature, exact, read in chunks
    (uint8 images through one histogram per channel, anything else in float64 sums)."""
    if per_channel and x.dtype == np.uint8:
        return _uint8_moments(x)
    flat = x.reshape(-1, x.shape[-1]) if per_channel else x.reshape(len(x), -1)
    count = len(flat)
    rows = max(1, _CHUNK_VALUES // max(flat.shape[1], 1))
    total = np.zeros(flat.shape[1], dtype=np.float64)
    for start in range(0, count, rows):
        total += flat[start : start + rows].sum(axis=0, dtype=np.float64)
    mean = total / max(count, 1)
    squares = np.zeros_like(mean)
    for start in range(0, count, rows):
        centred = flat[start : start + rows].astype(np.float64) - mean
        squares += np.einsum("ij,ij->j", centred, centred)
    std = np.sqrt(squares / max(count, 1))
    shape = (x.shape[-1],) if per_channel else x.shape[1:]
    return mean.reshape(shape), std.reshape(shape)


def _uint8_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of uint8 images from 256-bin histograms: one
    integer pass, exact (the moments of the histogram are those of the values)."""
    channels = x.shape[-1]
    flat = x.reshape(-1, channels)
    offsets = (np.arange(channels, dtype=np.uint16) * 256)[np.newaxis, :]
    counts = np.zeros(256 * channels, dtype=np.int64)
    rows = max(1, _CHUNK_VALUES // channels)
    for start in range(0, len(flat), rows):
        binned = flat[start : start + rows].astype(np.uint16) + offsets
        counts += np.bincount(binned.ravel(), minlength=256 * channels)
    histogram = counts.reshape(channels, 256).astype(np.float64)
    values = np.arange(256, dtype=np.float64)
    total = np.maximum(histogram.sum(axis=1), 1.0)
    mean = histogram @ values / total
    variance = (histogram * (values[np.newaxis, :] - mean[:, np.newaxis]) ** 2).sum(axis=1) / total
    return mean, np.sqrt(variance)

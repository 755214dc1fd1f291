"""The per-trial pipeline: normalization, augmentation, batching, determinism, memory."""

from __future__ import annotations

import gc
import math
from collections.abc import Callable

import numpy as np
import psutil
import pytest
import tensorflow as tf

from autotune.data import Dataset, TrialData, _pipeline, make_datasets, make_eval_dataset
from autotune.space import TrialConfig

MakeConfig = Callable[..., TrialConfig]


def _epoch(ds: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*((x.numpy(), y.numpy()) for x, y in ds), strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def _first(data: TrialData) -> tuple[np.ndarray, np.ndarray]:
    x, y = next(iter(data.train))
    return x.numpy(), y.numpy()


@pytest.mark.parametrize(("normalization", "low", "high"), [("unit", 0, 1), ("symmetric", -1, 1)])
def test_unit_and_symmetric_ranges(
    image_dataset: Dataset, make_config: MakeConfig, normalization: str, low: int, high: int
) -> None:
    data = make_datasets(image_dataset, make_config(normalization=normalization), seed=0)
    x_train, _ = _epoch(data.train)
    x_val, _ = _epoch(data.validation)
    for x in (x_train, x_val):
        assert x.dtype == np.float32
        assert x.min() == pytest.approx(low) and x.max() == pytest.approx(high)
    expected = low + (high - low) * image_dataset.x_val.astype(np.float32) / 255.0
    np.testing.assert_allclose(x_val, expected, atol=1e-6)


def test_standardize_gives_zero_mean_unit_variance_per_channel(
    image_dataset: Dataset, make_config: MakeConfig
) -> None:
    data = make_datasets(image_dataset, make_config(normalization="standardize"), seed=0)
    x, _ = _epoch(data.train)
    np.testing.assert_allclose(x.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(x.std(axis=(0, 1, 2)), 1.0, atol=1e-4)
    # Validation uses the training statistics, not its own.
    raw = image_dataset.x_train.astype(np.float64)
    mean, std = raw.mean(axis=(0, 1, 2)), raw.std(axis=(0, 1, 2))
    x_val, _ = _epoch(data.validation)
    np.testing.assert_allclose(x_val, (image_dataset.x_val - mean) / std, atol=1e-4)


def test_standardize_is_per_feature_for_flat_data(
    flat_dataset: Dataset, make_config: MakeConfig
) -> None:
    data = make_datasets(flat_dataset, make_config(normalization="standardize"), seed=0)
    x, _ = _epoch(data.train)
    assert x.shape[1:] == (6,)
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(x.std(axis=0), 1.0, atol=1e-4)
    unit, _ = _epoch(make_datasets(flat_dataset, make_config(), seed=0).train)
    assert unit.min() == pytest.approx(0.0) and unit.max() == pytest.approx(1.0)


OPS = ["flip", "rotate", "zoom", "translate", "contrast", "noise"]


@pytest.mark.parametrize("op", OPS)
def test_each_augmentation_changes_training_batches_only(
    image_dataset: Dataset, make_config: MakeConfig, op: str
) -> None:
    plain = make_datasets(image_dataset, make_config(), seed=4)
    augmented = make_datasets(
        image_dataset, make_config(**{op: True, "augment_strength": 0.3}), seed=4
    )
    x_plain, y_plain = _first(plain)
    x_aug, y_aug = _first(augmented)
    np.testing.assert_array_equal(y_aug, y_plain)  # same shuffle: same examples, same order
    assert x_aug.shape == x_plain.shape and x_aug.dtype == np.float32
    changed = np.abs(x_aug - x_plain).reshape(len(x_aug), -1).max(axis=1) > 1e-3
    assert changed.mean() > 0.3, f"{op} changed only {changed.mean():.0%} of the images"
    np.testing.assert_array_equal(_epoch(augmented.validation)[0], _epoch(plain.validation)[0])
    if op == "flip":  # every image is either itself or its mirror image, and both happen
        mirrored = np.all(np.isclose(x_aug, x_plain[:, :, ::-1]), axis=(1, 2, 3))
        assert np.all(mirrored | ~changed) and 0 < mirrored.sum() < len(x_aug)
    if op == "noise":
        assert np.std(x_aug - x_plain) == pytest.approx(0.3, rel=0.05)
    if op != "noise":
        assert x_aug.min() >= 0.0 and x_aug.max() <= 1.0


def test_contrast_keeps_each_images_mean(image_dataset: Dataset, make_config: MakeConfig) -> None:
    plain = make_datasets(image_dataset, make_config(normalization="standardize"), seed=1)
    strong = make_config(normalization="standardize", contrast=True, augment_strength=0.8)
    x_aug, _ = _first(make_datasets(image_dataset, strong, seed=1))
    x_plain, _ = _first(plain)
    np.testing.assert_allclose(x_aug.mean(axis=(1, 2)), x_plain.mean(axis=(1, 2)), atol=1e-4)
    spread = x_aug.std(axis=(1, 2)) / x_plain.std(axis=(1, 2))
    assert spread.min() < 0.8 and spread.max() > 1.2


def test_image_ops_on_flat_data_are_refused_but_noise_works(
    flat_dataset: Dataset, make_config: MakeConfig
) -> None:
    with pytest.raises(ValueError, match="rotate needs image data"):
        make_datasets(flat_dataset, make_config(rotate=True), seed=0)
    data = make_datasets(flat_dataset, make_config(noise=True, augment_strength=0.5), seed=0)
    x_noisy, _ = _first(data)
    x_plain, _ = _first(make_datasets(flat_dataset, make_config(), seed=0))
    assert np.std(x_noisy - x_plain) == pytest.approx(0.5, rel=0.1)


def test_batches_cover_every_example_once_per_epoch(
    image_dataset: Dataset, make_config: MakeConfig
) -> None:
    data = make_datasets(image_dataset, make_config(batch_size=64), seed=0)
    assert data.train_examples == 200 and data.steps_per_epoch == math.ceil(200 / 64)
    batches = list(data.train)
    assert len(batches) == data.steps_per_epoch and batches[0][0].shape == (64, 12, 12, 3)
    assert [b[1].dtype for b in batches[:1]] == [tf.int32]
    x, y = _epoch(data.train)
    assert np.bincount(y, minlength=4).tolist() == np.bincount(image_dataset.y_train).tolist()
    seen = {row.tobytes() for row in np.round(x * 255).astype(np.uint8)}
    assert seen == {row.tobytes() for row in image_dataset.x_train}
    assert data.train.element_spec[0].shape.as_list() == [None, 12, 12, 3]


def test_seed_determines_order_and_augmentation_and_epochs_differ(
    image_dataset: Dataset, make_config: MakeConfig
) -> None:
    config = make_config(flip=True, rotate=True, noise=True)
    a = make_datasets(image_dataset, config, seed=7)
    b = make_datasets(image_dataset, config, seed=7)
    c = make_datasets(image_dataset, config, seed=8)
    first_a, first_b = _epoch(a.train), _epoch(b.train)
    np.testing.assert_array_equal(first_a[0], first_b[0])
    np.testing.assert_array_equal(first_a[1], first_b[1])
    assert not np.array_equal(first_a[1], _epoch(c.train)[1])
    second_a = _epoch(a.train)
    assert not np.array_equal(first_a[1], second_a[1])  # reshuffled
    np.testing.assert_array_equal(_epoch(a.validation)[1], image_dataset.y_val)


def test_eval_dataset_uses_training_statistics(
    image_dataset: Dataset, make_config: MakeConfig
) -> None:
    config = make_config(normalization="standardize", batch_size=16, flip=True, noise=True)
    data = make_datasets(image_dataset, config, seed=0)
    x_val, y_val = _epoch(
        make_eval_dataset(image_dataset, config, image_dataset.x_val, image_dataset.y_val)
    )
    np.testing.assert_allclose(x_val, _epoch(data.validation)[0], atol=1e-6)
    np.testing.assert_array_equal(y_val, image_dataset.y_val)
    x_train, _ = _epoch(
        make_eval_dataset(image_dataset, config, image_dataset.x_train, image_dataset.y_train)
    )
    np.testing.assert_allclose(x_train.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    with pytest.raises(ValueError, match=r"shape \(12, 12, 3\)"):
        make_eval_dataset(image_dataset, config, np.zeros((2, 5, 5, 3)), np.zeros(2))


def test_thirty_pipelines_do_not_grow_memory(make_config: MakeConfig) -> None:
    """RSS stays flat over 30 trials, each given a fresh Dataset object (an engine that reloads
    the data every trial), alternating normalizations, with augmentation on.

    The bound: a trial that leaked its pipeline or its data set would keep at least the
    training split (2400 x 784 B = 1.9 MB, 7.5 MB as float32); 25 such trials leak >= 47 MB.
    40 MB leaves room for allocator noise (measured: < 5 MB).
    """
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(3000, 28, 28, 1), dtype=np.uint8)
    y = rng.integers(0, 10, size=3000).astype(np.int32)
    names = tuple(str(i) for i in range(10))
    normalizations = ("unit", "symmetric", "standardize")
    process = psutil.Process()
    baseline = 0.0
    for trial in range(30):
        dataset = Dataset(
            "m", x[600:], y[600:], x[:600], y[:600], None, None, 10, names, True, (0.0, 255.0)
        )
        config = make_config(
            normalization=normalizations[trial % 3], flip=True, noise=True, batch_size=32 + trial
        )
        data = make_datasets(dataset, config, seed=trial)
        next(iter(data.train))
        next(iter(data.validation))
        del data, dataset
        if trial == 4:
            gc.collect()
            baseline = process.memory_info().rss
    gc.collect()
    grown = (process.memory_info().rss - baseline) / 2**20
    assert grown < 40, f"RSS grew by {grown:.0f} MiB over 25 trials"
    assert len(_pipeline._held) <= _pipeline.MAX_HELD


@pytest.mark.parametrize("op", ["noise", "rotate", "contrast"])
def test_augment_strength_sets_how_far_an_op_moves_the_data(
    image_dataset: Dataset, make_config: MakeConfig, op: str
) -> None:
    plain, _ = _first(make_datasets(image_dataset, make_config(), seed=4))
    moved = []
    for strength in (0.05, 0.5):
        config = make_config(**{op: True, "augment_strength": strength})
        augmented, _ = _first(make_datasets(image_dataset, config, seed=4))
        moved.append(float(np.abs(augmented - plain).mean()))
    assert moved[1] > moved[0] > 0


def test_training_batches_have_a_known_length(
    image_dataset: Dataset, make_config: MakeConfig
) -> None:
    """The group step and Keras read an epoch's length from the dataset (tf.data cardinality)."""
    data = make_datasets(image_dataset, make_config(batch_size=32), seed=0)
    assert int(data.train.cardinality()) == data.steps_per_epoch == 7
    assert sum(1 for _ in data.train) == 7

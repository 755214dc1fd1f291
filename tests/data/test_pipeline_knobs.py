"""The pipeline's speed knobs: cache, prefetch, parallel map, augmentation on host or in model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from autotune.data import Dataset, TrialData, make_datasets
from autotune.models import build_model
from autotune.space import TrialConfig

MakeConfig = Callable[..., TrialConfig]


def _ops(ds: tf.data.Dataset) -> str:
    """The dataset's graph, as text (what tf.data will run)."""
    return str(ds._as_serialized_graph().numpy())


def _epoch(data: TrialData) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*((x.numpy(), y.numpy()) for x, y in data.train), strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def test_cache_and_prefetch_are_in_the_pipeline_only_when_asked(
    image_dataset: Dataset, make_config: MakeConfig
) -> None:
    """``cache`` keeps the normalized validation batches; training examples are read by index
    from the one copy the process holds, so caching them would only copy them again."""
    default = make_datasets(image_dataset, make_config(), seed=0)
    bare = make_datasets(image_dataset, make_config(cache=False, prefetch=0), seed=0)

    assert "CacheDataset" in _ops(default.validation)
    assert "CacheDataset" not in _ops(default.train)
    for ds in (default.train, default.validation):
        assert "PrefetchDataset" in _ops(ds)
    for ds in (bare.train, bare.validation):
        assert "CacheDataset" not in _ops(ds) and "PrefetchDataset" not in _ops(ds)
    # the same examples in the same order either way
    for got, want in zip(_epoch(bare), _epoch(default), strict=True):
        np.testing.assert_array_equal(got, want)


def test_sequential_and_parallel_augmentation_give_the_same_batches(
    image_dataset: Dataset, make_config: MakeConfig
) -> None:
    config = make_config(flip=True, translate=True, augment_strength=0.2)
    parallel = make_datasets(image_dataset, config, seed=3)
    sequential = make_datasets(image_dataset, config.replace(parallel_map=False), seed=3)

    assert "ParallelMapDataset" in _ops(parallel.train)
    assert "ParallelMapDataset" not in _ops(sequential.train)
    for got, want in zip(_epoch(sequential), _epoch(parallel), strict=True):
        np.testing.assert_array_equal(got, want)


def test_augmentation_in_the_model_trains_augmented_and_predicts_plain(
    image_dataset: Dataset, make_config: MakeConfig, tmp_path: Path
) -> None:
    config = make_config(flip=True, rotate=True, augment_strength=0.3, augment_on="model")
    host = make_datasets(image_dataset, config.replace(augment_on="host"), seed=5)
    in_model = make_datasets(image_dataset, config, seed=5)
    plain = make_datasets(image_dataset, make_config(), seed=5)

    assert host.model_augment is None and in_model.model_augment is not None
    # the pipeline leaves the batches alone; the model's first layer augments them
    for got, want in zip(_epoch(in_model), _epoch(plain), strict=True):
        np.testing.assert_array_equal(got, want)
    model = build_model(
        config,
        family="cnn",
        input_shape=image_dataset.input_shape,
        num_classes=image_dataset.num_classes,
        seed=0,
        augment=in_model.model_augment(),
    )
    layer = model.get_layer("augment")
    x = next(iter(plain.train))[0]
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
    changed = np.abs(layer(x, training=True).numpy() - x.numpy()).max(axis=(1, 2, 3)) > 1e-3
    assert changed.mean() > 0.3
    # a saved model keeps the layer and loads back
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_bad_pipeline_knobs_are_refused(image_dataset: Dataset, make_config: MakeConfig) -> None:
    with pytest.raises(ValueError, match="prefetch: expected -1"):
        make_datasets(image_dataset, make_config(prefetch=-2), seed=0)
    with pytest.raises(ValueError, match="augment_on: expected host or model"):
        make_datasets(image_dataset, make_config(augment_on="gpu"), seed=0)

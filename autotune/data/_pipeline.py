"""The per-trial tf.data pipeline: normalize, cache, shuffle, batch, augment, prefetch.

This runs once per trial, many times in one process. What does not change between trials,
the normalized arrays of a (data set, normalization) pair, is kept in a small cache that holds
at most ``MAX_PREPARED`` pairs; everything else belongs to the returned datasets and is freed
with them.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from autotune.data._augment import enabled_ops, make_augment
from autotune.data._augment_layer import AugmentLayer
from autotune.data._dataset import Dataset
from autotune.data._normalize import Normalizer, make_normalizer

if TYPE_CHECKING:
    import keras

    from autotune.space import TrialConfig

_logger = logging.getLogger(__name__)

MAX_PREPARED = 3
"""Normalized (data set, normalization) pairs kept between trials: one data set's three."""
MAX_PREPARED_BYTES = 2 << 30
"""Older pairs are dropped while the cache holds more than this (the newest always stays)."""


EVAL_BATCH_FACTOR = 4
MAX_EVAL_BATCH = 1024


def eval_batch_size(batch_size: int) -> int:
    """The batch size validation and test data are evaluated in: four training batches (up to
    1024 examples, never fewer than one training batch).

    Evaluation keeps no activations for a backward pass, so a batch several times the
    training batch fits wherever training fits, and each evaluation takes fewer, fuller
    steps: a digits MLP's 360-example validation pass took ~13 ms at batch 32 and 6-9 ms at
    batch 128. The accuracy is the same mean over the same examples.

    Example:
        >>> eval_batch_size(32), eval_batch_size(512), eval_batch_size(2048)
        (128, 1024, 2048)
    """
    return max(batch_size, min(MAX_EVAL_BATCH, EVAL_BATCH_FACTOR * batch_size))


@dataclass(frozen=True, eq=False)
class TrialData:
    """The datasets one trial trains and validates on.

    Attributes:
        train: ``(x float32, y int32)`` batches: shuffled (anew each epoch), augmented as the
            config asks, cached before shuffling, prefetched.
        validation: the same normalization, batched, cached, prefetched, never augmented.
        train_examples: examples in one epoch of ``train``.
        steps_per_epoch: batches in one epoch of ``train`` (the last one may be smaller).
        model_augment: with ``augment_on: model``, makes the layer that augments inside the
            model (call it where the model is built); None when the pipeline augments.
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset
    train_examples: int
    steps_per_epoch: int
    model_augment: Callable[[], keras.layers.Layer] | None = None


@dataclass(frozen=True, eq=False)
class _Prepared:
    dataset: Dataset
    normalizer: Normalizer
    x_train: tf.Tensor
    y_train: tf.Tensor
    x_val: tf.Tensor
    y_val: tf.Tensor

    @property
    def nbytes(self) -> int:
        return sum(
            int(t.shape.num_elements() or 0) * t.dtype.size
            for t in (self.x_train, self.y_train, self.x_val, self.y_val)
        )


_prepared: OrderedDict[tuple[int, str], _Prepared] = OrderedDict()
_prepared_lock = threading.Lock()


def make_datasets(dataset: Dataset, config: TrialConfig, *, seed: int) -> TrialData:
    """Build one trial's training and validation pipelines.

    Reads ``normalization``, ``batch_size``, ``augment_strength`` and the augmentation ops
    ``flip``, ``rotate``, ``zoom``, ``translate``, ``contrast``, ``noise`` from ``config``, and
    the pipeline's speed knobs (catalogue defaults when absent): ``cache`` (keep the examples
    in a tf.data cache), ``prefetch`` (batches, -1 for tf.data.AUTOTUNE, 0 for none),
    ``parallel_map`` (augment batches in parallel map calls) and ``augment_on`` (``host``: a
    tf.data map; ``model``: ``model_augment`` makes a layer for the model instead).

    Args:
        dataset: from ``load_dataset``.
        config: the trial's values.
        seed: drives shuffling and augmentation; the same seed gives the same batches.

    Raises:
        ValueError: an image-only augmentation is on for flat data, or a value is out of range.

    Example:
        >>> from autotune.space import CATALOGUE, TrialConfig
        >>> from autotune.spec import DataSpec
        >>> from autotune.data import load_dataset
        >>> ds = load_dataset(DataSpec(dataset="digits"), seed=0)
        >>> config = TrialConfig({k: e.default for k, e in CATALOGUE.items()})
        >>> data = make_datasets(ds, config, seed=0)
        >>> data.train_examples, data.steps_per_epoch
        (1150, 18)
    """
    batch_size = _batch_size(config)
    ops = enabled_ops(config, image=dataset.image)
    knobs = _PipelineKnobs.of(config)
    prepared = _prepare(dataset, config["normalization"])
    count = len(dataset.x_train)
    train = tf.data.Dataset.from_tensor_slices((prepared.x_train, prepared.y_train))
    if knobs.cache:
        train = train.cache()
    train = train.shuffle(count, seed=seed % 2**31, reshuffle_each_iteration=True).batch(batch_size)
    model_augment: Callable[[], keras.layers.Layer] | None = None
    strength = float(config.get("augment_strength", 0.1))
    if ops and knobs.augment_on == "model":
        bounds = prepared.normalizer.bounds

        def model_augment() -> keras.layers.Layer:
            return AugmentLayer(ops, strength, bounds=bounds, seed=seed + 1, name="augment")

    elif ops:
        augment = make_augment(ops, strength, bounds=prepared.normalizer.bounds)
        seeds = tf.data.Dataset.random(seed=(seed + 1) % 2**31, rerandomize_each_iteration=True)
        train = tf.data.Dataset.zip((train, seeds)).map(
            lambda batch, key: augment(batch[0], batch[1], key),
            **({"num_parallel_calls": tf.data.AUTOTUNE} if knobs.parallel_map else {}),
        )
    validation = tf.data.Dataset.from_tensor_slices((prepared.x_val, prepared.y_val)).batch(
        eval_batch_size(batch_size)
    )
    if knobs.cache:
        validation = validation.cache()
    if knobs.prefetch != 0:
        train = train.prefetch(knobs.prefetch)
        validation = validation.prefetch(knobs.prefetch)
    return TrialData(
        train=_fixed(train),
        validation=_fixed(validation),
        train_examples=count,
        steps_per_epoch=math.ceil(count / batch_size),
        model_augment=model_augment,
    )


@dataclass(frozen=True)
class _PipelineKnobs:
    cache: bool = True
    prefetch: int = -1
    parallel_map: bool = True
    augment_on: str = "host"

    @classmethod
    def of(cls, config: TrialConfig) -> _PipelineKnobs:
        knobs = cls(
            cache=bool(config.get("cache", True)),
            prefetch=int(config.get("prefetch", -1)),
            parallel_map=bool(config.get("parallel_map", True)),
            augment_on=str(config.get("augment_on", "host")),
        )
        if knobs.prefetch < -1:
            raise ValueError(f"prefetch: expected -1 (AUTOTUNE) or >= 0, got {knobs.prefetch}")
        if knobs.augment_on not in ("host", "model"):
            raise ValueError(f"augment_on: expected host or model, got {knobs.augment_on!r}")
        return knobs


def make_eval_dataset(
    dataset: Dataset, config: TrialConfig, x: np.ndarray, y: np.ndarray
) -> tf.data.Dataset:
    """Batches of ``(x, y)`` normalized like the trial's training data, never augmented.

    Used for the test split: the normalization statistics come from ``dataset.x_train``.

    Raises:
        ValueError: ``x`` examples do not have the data set's input shape, or ``x`` and ``y``
            differ in length.
    """
    if tuple(x.shape[1:]) != dataset.input_shape:
        raise ValueError(
            f"expected examples of shape {dataset.input_shape}, got {tuple(x.shape[1:])}"
        )
    if len(x) != len(y):
        raise ValueError(f"x holds {len(x)} examples but y holds {len(y)} labels")
    normalizer = _prepare(dataset, config["normalization"]).normalizer
    with tf.device("/CPU:0"):
        features = tf.convert_to_tensor(normalizer(x))
        labels = tf.convert_to_tensor(np.asarray(y, dtype=np.int32))
    return _fixed(
        tf.data.Dataset.from_tensor_slices((features, labels))
        .batch(eval_batch_size(_batch_size(config)))
        .prefetch(tf.data.AUTOTUNE)
    )


def _fixed(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """``dataset`` without tf.data's autotuning model.

    A trial builds its pipelines anew and reads them for seconds to minutes: the autotuner
    starts learning from scratch each time, and its background thread stalls the iterator while
    it runs. Measured on 2 cores with two workers training tiny MLP trials, every thread of a
    worker was asleep 19-22 % of the time with the autotuner on (main thread waiting for the
    iterator, one tf.data thread in a timed wait), 7-8 % with it off. ``AUTOTUNE`` values still
    work without it: ``prefetch`` grows its buffer on its own and parallel maps use every core.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def _batch_size(config: TrialConfig) -> int:
    batch_size = config["batch_size"]
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected an integer >= 1, got {batch_size!r}")
    return batch_size


def _prepare(dataset: Dataset, normalization: str) -> _Prepared:
    """The normalized splits of ``dataset``, from the cache or computed and cached."""
    with _prepared_lock:
        return _prepare_locked(dataset, normalization)


def _prepare_locked(dataset: Dataset, normalization: str) -> _Prepared:
    key = (id(dataset), normalization)
    entry = _prepared.get(key)
    if entry is not None and entry.dataset is dataset:
        _prepared.move_to_end(key)
        return entry
    normalizer = make_normalizer(dataset, normalization)
    with tf.device("/CPU:0"):  # host memory: tf.data reads it there, GPUs stay free
        entry = _Prepared(
            dataset=dataset,
            normalizer=normalizer,
            x_train=tf.convert_to_tensor(normalizer(dataset.x_train)),
            y_train=tf.convert_to_tensor(dataset.y_train.astype(np.int32, copy=False)),
            x_val=tf.convert_to_tensor(normalizer(dataset.x_val)),
            y_val=tf.convert_to_tensor(dataset.y_val.astype(np.int32, copy=False)),
        )
    _prepared[key] = entry
    while len(_prepared) > 1 and (
        len(_prepared) > MAX_PREPARED
        or sum(e.nbytes for e in _prepared.values()) > MAX_PREPARED_BYTES
    ):
        _prepared.popitem(last=False)
    _logger.debug("normalized %s with %s (%d cached)", dataset.name, normalization, len(_prepared))
    return entry


def clear_cache() -> None:
    """Drop every cached normalized array (they are rebuilt on the next trial that needs them)."""
    with _prepared_lock:
        _prepared.clear()

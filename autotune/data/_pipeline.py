"""The per-trial tf.data pipeline: shuffle indices, read, normalize, augment, batch, prefetch.

This runs once per trial, many times in one process. A data set's splits are read by index
from where they are (memory or a memory-mapped file) in their stored dtype, and normalized
batch by batch in the map: no normalized copy of a split is ever held, so every normalization
of a data set shares one copy of its examples. What does not change between trials, each
split's reader and the normalization statistics, is kept for at most ``MAX_HELD`` data sets.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from autotune.data._augment import enabled_ops, make_augment
from autotune.data._augment_layer import AugmentLayer
from autotune.data._dataset import Dataset
from autotune.data._examples import Examples, examples, on_disk
from autotune.data._normalize import Normalizer, make_normalizer

if TYPE_CHECKING:
    import keras

    from autotune.space import TrialConfig

_logger = logging.getLogger(__name__)

MAX_HELD = 2
"""Data sets whose readers and statistics are kept between trials (a run trains on one)."""
MAX_CACHED_VALIDATION_BYTES = 256 << 20
"""``cache: true`` keeps a validation split's normalized batches in memory up to this size."""


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
        train: ``(x float32, y int32)`` batches: shuffled (anew each epoch), normalized,
            augmented as the config asks, prefetched.
        validation: the same normalization, in order, batched, prefetched, never augmented.
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


@dataclass(eq=False)
class _Held:
    dataset: Dataset
    train: Examples
    validation: Examples
    normalizers: dict[str, Normalizer] = field(default_factory=dict)

    def normalizer(self, normalization: str) -> Normalizer:
        if normalization not in self.normalizers:
            self.normalizers[normalization] = make_normalizer(self.dataset, normalization)
        return self.normalizers[normalization]


_held: OrderedDict[int, _Held] = OrderedDict()
_held_lock = threading.Lock()


def make_datasets(dataset: Dataset, config: TrialConfig, *, seed: int) -> TrialData:
    """Build one trial's training and validation pipelines.

    Reads ``normalization``, ``batch_size``, ``augment_strength`` and the augmentation ops
    ``flip``, ``rotate``, ``zoom``, ``translate``, ``contrast``, ``noise`` from ``config``, and
    the pipeline's speed knobs (catalogue defaults when absent): ``cache`` (keep the validation
    batches, normalized, in memory: for a data set held in memory, up to
    ``MAX_CACHED_VALIDATION_BYTES``),
    ``prefetch`` (batches, -1 for tf.data.AUTOTUNE, 0 for none), ``parallel_map`` (read,
    normalize and augment batches in parallel map calls) and ``augment_on`` (``host``: a
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
    held = _hold(dataset)
    normalizer = held.normalizer(config["normalization"])
    parallel = {"num_parallel_calls": tf.data.AUTOTUNE} if knobs.parallel_map else {}
    count = len(held.train)
    train = _shuffled(count, batch_size, seed).map(_loader(held.train, normalizer), **parallel)
    model_augment: Callable[[], keras.layers.Layer] | None = None
    strength = float(config.get("augment_strength", 0.1))
    if ops and knobs.augment_on == "model":
        bounds = normalizer.bounds

        def model_augment() -> keras.layers.Layer:
            return AugmentLayer(ops, strength, bounds=bounds, seed=seed + 1, name="augment")

    elif ops:
        augment = make_augment(ops, strength, bounds=normalizer.bounds)
        seeds = tf.data.Dataset.random(seed=(seed + 1) % 2**31, rerandomize_each_iteration=True)
        train = tf.data.Dataset.zip((train, seeds)).map(
            lambda batch, key: augment(batch[0], batch[1], key), **parallel
        )
    validation = _in_order(held.validation, normalizer, eval_batch_size(batch_size), parallel)
    if knobs.cache and _cacheable(held.validation):
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


def _shuffled(count: int, batch_size: int, seed: int) -> tf.data.Dataset:
    """Batches of example indices in a new order each epoch (each pass over the dataset).

    One int64 permutation per epoch (8 bytes an example), drawn from the seed and the epoch:
    a shuffle buffer of ``count`` indices would hold a tensor per index, hundreds of bytes
    each.
    """
    epoch_seeds = tf.data.Dataset.random(seed=seed % 2**31, rerandomize_each_iteration=True)

    def epoch(key: tf.Tensor) -> tf.data.Dataset:
        order = tf.random.experimental.stateless_shuffle(
            tf.range(count, dtype=tf.int64), seed=tf.stack([key, tf.constant(0, tf.int64)])
        )
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    batches = epoch_seeds.take(1).flat_map(epoch)
    # flat_map hides the length: the group step and Keras need it
    return batches.apply(tf.data.experimental.assert_cardinality(math.ceil(count / batch_size)))


def _loader(
    split: Examples, normalizer: Normalizer
) -> Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
    """A map from a batch of indices to its normalized float32 examples and labels."""
    shift = tf.constant(normalizer.shift, dtype=tf.float32)
    scale = tf.constant(normalizer.scale, dtype=tf.float32)
    read = split.read

    def load(indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x, y = read(indices)
        return (tf.cast(x, tf.float32) - shift) * scale, y

    return load


def _in_order(
    split: Examples, normalizer: Normalizer, batch_size: int, parallel: dict[str, int]
) -> tf.data.Dataset:
    """``split``'s examples in their order, normalized, in batches of ``batch_size``."""
    return (
        tf.data.Dataset.range(len(split))
        .batch(batch_size)
        .map(_loader(split, normalizer), **parallel)
    )


def _cacheable(split: Examples) -> bool:
    """Whether ``cache: true`` keeps ``split``'s normalized batches: a split held in memory
    whose float32 copy takes at most ``MAX_CACHED_VALIDATION_BYTES`` (a streamed one is read
    from its disk cache each time, so memory stays flat in the data's size)."""
    floats = len(split) * int(np.prod(split.x.shape[1:], dtype=np.int64)) * 4
    return not on_disk(split.x) and floats <= MAX_CACHED_VALIDATION_BYTES


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
    normalizer = _hold(dataset).normalizer(config["normalization"])
    batch_size = eval_batch_size(_batch_size(config))
    split = examples(x, np.asarray(y, dtype=np.int32))
    parallel = {"num_parallel_calls": tf.data.AUTOTUNE}
    return _fixed(_in_order(split, normalizer, batch_size, parallel).prefetch(tf.data.AUTOTUNE))


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


def _hold(dataset: Dataset) -> _Held:
    """The readers and statistics of ``dataset``, kept or made and kept."""
    with _held_lock:
        key = id(dataset)
        entry = _held.get(key)
        if entry is not None and entry.dataset is dataset:
            _held.move_to_end(key)
            return entry
        entry = _Held(
            dataset,
            examples(dataset.x_train, dataset.y_train),
            examples(dataset.x_val, dataset.y_val),
        )
        _held[key] = entry
        while len(_held) > MAX_HELD:
            _held.popitem(last=False)
        _logger.debug("holding %s (%d held)", dataset.name, len(_held))
        return entry


def clear_cache() -> None:
    """Drop every kept reader and statistic (they are made again by the next trial)."""
    with _held_lock:
        _held.clear()

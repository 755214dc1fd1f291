"""Augmentation of training batches with stateless, seed-driven tf ops.

Each batch gets its own seed from ``tf.data.Dataset.random``, so a run seed gives the same
augmentations in every run, parallel map calls cannot race on a random state, and every
epoch draws new ones. All ops work in normalized units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import tensorflow as tf

from autotune.space import AUGMENTATION_OPS, IMAGE_ONLY_OPS

Augment = Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]


def enabled_ops(config: Mapping[str, Any], *, image: bool) -> tuple[str, ...]:
    """The augmentation ops a trial config turns on, in ``AUGMENTATION_OPS`` order.

    Raises:
        ValueError: an image-only op (flip, rotate, zoom, translate, contrast) is on for a data
            set of flat features.
    """
    ops = tuple(op for op in AUGMENTATION_OPS if config.get(op, False))
    wrong = [op for op in ops if op in IMAGE_ONLY_OPS] if not image else []
    if wrong:
        raise ValueError(
            f"augmentation {', '.join(wrong)} needs image data (N, H, W, C), but this data set "
            f"holds flat features; turn {', '.join(wrong)} off (noise works on any data)"
        )
    return ops


def make_augment(
    ops: tuple[str, ...], strength: float, *, bounds: tuple[float, float] | None
) -> Augment:
    """A tf.data map function ``(x, y, seed) -> (x, y)`` that applies ``ops`` to a batch.

    Args:
        ops: from ``enabled_ops``.
        strength: in (0, 1]; rotate turns by up to ``strength`` of a full turn, zoom scales by
            ``1 ± strength``, translate shifts by up to ``strength`` of the height and width,
            contrast scales deviations from each image's mean by ``1 ± strength``, noise adds
            gaussian noise with that standard deviation.
        bounds: the normalized data's range, to clip contrast to; None for no clipping.
    """
    if not 0.0 < strength <= 1.0:
        raise ValueError(f"augment_strength: expected a number in (0, 1], got {strength!r}")
    geometric = {"rotate", "zoom", "translate"} & set(ops)

    def augment(x: tf.Tensor, y: tf.Tensor, seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        def op_seed(index: int) -> tf.Tensor:
            return tf.stack([seed, tf.constant(index, tf.int64)])

        if "flip" in ops:
            x = tf.image.stateless_random_flip_left_right(x, seed=op_seed(0))
        if geometric:
            x = _affine(x, geometric, strength, op_seed(1))
        if "contrast" in ops:
            factor = tf.random.stateless_uniform(
                [tf.shape(x)[0], 1, 1, 1], op_seed(2), 1.0 - strength, 1.0 + strength
            )
            mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
            x = (x - mean) * factor + mean
            if bounds is not None:
                x = tf.clip_by_value(x, bounds[0], bounds[1])
        if "noise" in ops:
            x = x + tf.random.stateless_normal(tf.shape(x), op_seed(3), stddev=strength)
        return x, y

    return augment


def _affine(x: tf.Tensor, ops: set[str], strength: float, seed: tf.Tensor) -> tf.Tensor:
    """Rotate, zoom and translate each image of a batch in one bilinear resampling."""
    batch = tf.shape(x)[0]
    height = tf.cast(tf.shape(x)[1], tf.float32)
    width = tf.cast(tf.shape(x)[2], tf.float32)
    seeds = tf.random.experimental.stateless_split(seed, 4)

    def uniform(index: int, low: float, high: float) -> tf.Tensor:
        return tf.random.stateless_uniform([batch], seeds[index], low, high)

    zeros = tf.zeros([batch])
    turn = 2.0 * math.pi * strength
    angle = uniform(0, -turn, turn) if "rotate" in ops else zeros
    zoom = uniform(1, 1.0 - strength, 1.0 + strength) if "zoom" in ops else zeros + 1.0
    dx = uniform(2, -strength, strength) * width if "translate" in ops else zeros
    dy = uniform(3, -strength, strength) * height if "translate" in ops else zeros
    # An output pixel p reads the input at c + A (p - d - c): A rotates and scales about the
    # centre c, d shifts the content. ImageProjectiveTransformV3 takes A and the offset.
    a0, a1 = tf.cos(angle) * zoom, -tf.sin(angle) * zoom
    b0, b1 = tf.sin(angle) * zoom, tf.cos(angle) * zoom
    cx, cy = (width - 1.0) / 2.0, (height - 1.0) / 2.0
    offset_x = cx - a0 * (cx + dx) - a1 * (cy + dy)
    offset_y = cy - b0 * (cx + dx) - b1 * (cy + dy)
    transforms = tf.stack([a0, a1, offset_x, b0, b1, offset_y, zeros, zeros], axis=1)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=x,
        transforms=transforms,
        output_shape=tf.shape(x)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )
    out.set_shape(x.shape)
    return out

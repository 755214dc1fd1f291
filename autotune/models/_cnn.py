"""The ``cnn`` family: 3x3 convolution blocks, plain or residual, with pooling as size allows."""

from __future__ import annotations

import keras

from autotune.models._parts import Parts

MAX_FILTERS = 512
"""Filters stop doubling here (a ``width`` above it is kept as is)."""

FLATTEN_AT_MOST = 256
"""The head flattens a final map of at most this many positions (16x16) and averages larger ones.

Averaging throws away where a feature is. On Fashion-MNIST (28x28) the default configuration
(depth 2, a 7x7 final map) reached 0.72 validation accuracy after 9 epochs with an averaging
head and 0.88 with a flattening one; depth 1 (14x14) 0.51 and 0.88 (12k examples, this 2-core
CPU; issue 14). Up to 16x16 the flattened features stay few (16,384 at 64 channels)."""


def filters(width: int, block: int) -> int:
    """Filters of block ``block`` (0-based): ``width * 2**block``, capped at max(width, 512)."""
    return min(width * 2**block, max(width, MAX_FILTERS))


def cnn(inputs: keras.KerasTensor, parts: Parts, num_classes: int) -> keras.KerasTensor:
    """The outputs of a cnn on image ``inputs`` of shape (height, width, channels).

    Each block is one ``Conv2D 3x3 + relu`` (plain) or two 3x3 convolutions whose sum with the
    block's input goes through relu (residual; a 1x1 ``block{i}_proj`` convolution matches the
    channels when they differ). A block then halves each spatial side that is still >= 2
    (``MaxPooling2D``, same padding) and applies dropout. The head flattens a small final map
    (<= 16x16 positions, where position still carries information, as on 28x28 Fashion-MNIST
    after a block or two) and averages a larger one (``GlobalAveragePooling2D``, so parameters
    do not grow with the image size).
    """
    options = parts.options
    x = inputs
    height, width = int(inputs.shape[1]), int(inputs.shape[2])
    for i in range(1, options.depth + 1):
        channels = filters(options.width, i - 1)
        if options.residual:
            x = _residual_block(x, parts, channels, i)
        else:
            x = keras.layers.Conv2D(
                channels,
                3,
                padding="same",
                activation="relu",
                name=f"block{i}_conv",
                **parts.kernel(),
            )(x)
        pool = (2 if height >= 2 else 1, 2 if width >= 2 else 1)
        if pool != (1, 1):
            x = keras.layers.MaxPooling2D(pool, padding="same", name=f"block{i}_pool")(x)
            height, width = -(-height // pool[0]), -(-width // pool[1])
        x = parts.dropout(x, f"block{i}_dropout")
    if height * width <= FLATTEN_AT_MOST:
        x = keras.layers.Flatten(name="flatten")(x)
    else:
        x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    return parts.classifier(x, num_classes)


def _residual_block(x: keras.KerasTensor, parts: Parts, channels: int, i: int) -> keras.KerasTensor:
    shortcut = x
    if int(x.shape[-1]) != channels:
        shortcut = keras.layers.Conv2D(channels, 1, name=f"block{i}_proj", **parts.kernel())(x)
    h = keras.layers.Conv2D(
        channels, 3, padding="same", activation="relu", name=f"block{i}_conv1", **parts.kernel()
    )(x)
    h = keras.layers.Conv2D(channels, 3, padding="same", name=f"block{i}_conv2", **parts.kernel())(
        h
    )
    h = keras.layers.Add(name=f"block{i}_add")([shortcut, h])
    return keras.layers.Activation("relu", name=f"block{i}_relu")(h)

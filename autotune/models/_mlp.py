"""The ``mlp`` family: a stack of Dense blocks, plain or residual."""

from __future__ import annotations

import keras

from autotune.models._parts import Parts


def mlp(inputs: keras.KerasTensor, parts: Parts, num_classes: int) -> keras.KerasTensor:
    """The outputs of an mlp on ``inputs``.

    Block ``i`` is ``Dense(width, relu) -> Dropout``. With residual connections every block after
    the first adds its input back (``block{i}_add``); the first block is the projection from the
    input features to ``width``, so the sums always have matching widths.
    """
    options = parts.options
    x = inputs
    if len(inputs.shape) > 2:
        x = keras.layers.Flatten(name="flatten")(x)
    for i in range(1, options.depth + 1):
        h = keras.layers.Dense(
            options.width, activation="relu", name=f"block{i}_dense", **parts.kernel()
        )(x)
        h = parts.dropout(h, f"block{i}_dropout")
        x = keras.layers.Add(name=f"block{i}_add")([x, h]) if options.residual and i > 1 else h
    return parts.classifier(x, num_classes)

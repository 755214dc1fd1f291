"""``build_model``: an uncompiled Keras model of a family, from a TrialConfig."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from autotune.models._family import FAMILIES

if TYPE_CHECKING:
    import keras

    from autotune.space import TrialConfig

_logger = logging.getLogger(__name__)


def build_model(
    config: TrialConfig,
    *,
    family: str,
    input_shape: tuple[int, ...],
    num_classes: int,
    seed: int | None = None,
    augment: keras.layers.Layer | None = None,
) -> keras.Model:
    """Build the uncompiled classifier a trial trains.

    The model reads ``depth``, ``width``, ``connection``, ``initializer``, ``l1``, ``l2`` and
    ``dropout`` from ``config``. Its input is float32 of ``input_shape``; its output layer
    (``"output"``) is a float32 softmax over ``num_classes``, so a mixed-precision policy set by
    the trainer leaves the probabilities in float32. L1/L2 apply to every Dense and Conv kernel.

    Args:
        config: the trial's values.
        family: ``"mlp"`` or ``"cnn"`` (see ``choose_family``).
        input_shape: the shape of one example: ``(features,)`` or any shape for mlp (flattened),
            ``(height, width, channels)`` for cnn (``(height, width)`` gets one channel).
        num_classes: the number of classes, >= 2.
        seed: seeds every initializer and dropout layer, so two builds with the same config and
            seed start from identical weights. Defaults to None (random).
        augment: a layer applied to the input first (after adding a channel to 2-D images),
            e.g. ``TrialData.model_augment()`` for ``augment_on: model``. Defaults to None.

    Returns:
        A functional ``keras.Model``, neither compiled nor fitted.

    Raises:
        ValueError: an unknown family or initializer, a shape the family cannot take, or a
            config value out of range.

    Example:
        >>> from autotune.space import TrialConfig
        >>> config = TrialConfig({"depth": 2, "width": 16, "connection": "residual",
        ...     "initializer": "he_normal", "l1": 0.0, "l2": 1e-4, "dropout": 0.1})
        >>> model = build_model(config, family="mlp", input_shape=(64,), num_classes=10, seed=0)
        >>> model.output_shape
        (None, 10)
    """
    import keras

    from autotune.models._cnn import cnn
    from autotune.models._mlp import mlp
    from autotune.models._parts import Parts, read_options

    if family not in FAMILIES:
        raise ValueError(f"family: expected one of {', '.join(FAMILIES)}, got {family!r}")
    shape = tuple(input_shape)
    if not shape or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in shape):
        raise ValueError(f"input_shape: expected positive integer sizes, got {input_shape!r}")
    if family == "cnn" and len(shape) not in (2, 3):
        raise ValueError(
            f"input_shape: cnn needs image data (height, width, channels), got {shape}; use mlp"
        )
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes: expected an integer >= 2, got {num_classes!r}")
    parts = Parts(read_options(config, seed))

    inputs = keras.Input(shape=shape, dtype="float32", name="input")
    if family == "mlp":
        outputs = mlp(inputs if augment is None else augment(inputs), parts, num_classes)
    else:
        x = inputs
        if len(shape) == 2:
            x = keras.layers.Reshape((*shape, 1), name="add_channel")(x)
        if augment is not None:
            x = augment(x)
        outputs = cnn(x, parts, num_classes)
    model = keras.Model(inputs, outputs, name=f"autotune_{family}")
    _logger.debug("built %s with %d parameters for %s", model.name, model.count_params(), config)
    return model

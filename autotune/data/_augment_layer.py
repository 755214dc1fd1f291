"""Augmentation as the model's first layer (``augment_on: model``).

The same ops as the tf.data map (``make_augment``), run inside the compiled train step instead
of on the host: active only while training, a no-op in evaluation and prediction. Saved models
keep the layer; loading one needs ``autotune.data`` imported (it registers the class).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from autotune.data._augment import make_augment


@keras.saving.register_keras_serializable(package="autotune")
class AugmentLayer(keras.layers.Layer):
    """Augment a batch while training; pass it through otherwise.

    Args:
        ops: augmentation op names (see ``autotune.space.AUGMENTATION_OPS``).
        strength: in (0, 1], shared by the ops.
        bounds: the normalized data's range (contrast clips to it); None for no clipping.
        seed: seeds the layer's random stream. Defaults to None (random).

    Example:
        >>> import numpy as np
        >>> layer = AugmentLayer(["noise"], 0.1, seed=0)
        >>> x = np.zeros((2, 4), "float32")
        >>> bool((layer(x, training=False).numpy() == 0).all())
        True
    """

    def __init__(
        self,
        ops: Sequence[str],
        strength: float,
        bounds: Sequence[float] | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("dtype", "float32")  # augment in float32 under any mixed policy
        super().__init__(**kwargs)
        self.ops = tuple(ops)
        self.strength = float(strength)
        self.bounds = None if bounds is None else (float(bounds[0]), float(bounds[1]))
        self.seed = seed
        self._augment = make_augment(self.ops, self.strength, bounds=self.bounds)
        self._seeds = keras.random.SeedGenerator(seed)

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        if not training:
            return inputs
        key = keras.random.randint((), 0, 2**31 - 1, seed=self._seeds, dtype="int32")
        augmented, _ = self._augment(inputs, inputs, tf.cast(key, tf.int64))
        return augmented

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(
            ops=list(self.ops),
            strength=self.strength,
            bounds=None if self.bounds is None else list(self.bounds),
            seed=self.seed,
        )
        return config

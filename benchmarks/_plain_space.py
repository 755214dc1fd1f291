"""The plain mode's joint space for the competitors of ``benchmarks.search_efficiency``.

``search_spaces/fashion_cnn.yaml``'s space, written the way a Keras user writes it for each
tuner: normalization of the numpy arrays before ``fit``, augmentation as Keras preprocessing
layers at the model's start, the optimizer compiled with its learning rate (and momentum for
sgd), the batch size passed to ``fit``. The model itself is autotune's own ``cnn`` family
(``autotune.models.build_model``), so every tuner searches the same model family.

The values mirror autotune's definitions: ``autotune.data._normalize`` (unit ``x / 255``,
symmetric ``x / 127.5 - 1``, standardize with the training split's per-channel mean and
standard deviation), ``autotune.data._augment`` (one strength shared by the ops: flip left-right,
translate by up to ``strength`` of the height and width, contrast ``1 ± strength`` about each
image's mean clipped to the normalized range, gaussian noise of standard deviation
``strength``) and ``autotune.train._trainer`` (optimizer classes, momentum read by sgd only
here, as the run file's ``when: {optimizer: sgd}`` says).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

NORMALIZATIONS = ("unit", "symmetric", "standardize")
AUGMENT_OPS = ("flip", "translate", "contrast", "noise")
STRENGTH = (0.05, 0.2)
DEPTH = (1, 3)
WIDTHS = (16, 32, 64)
CONNECTIONS = ("plain", "residual")
INITIALIZERS = ("glorot_uniform", "he_normal", "lecun_normal")
L1 = 0.0
L2 = (1e-6, 1e-2)
DROPOUT = (0.0, 0.5, 0.1)
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
MOMENTUM = (0.0, 0.99)
LEARNING_RATE = (1e-4, 1e-2)
BATCH_SIZES = (32, 64, 128, 256)
INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
_BOUNDS: dict[str, tuple[float, float]] = {"unit": (0.0, 1.0), "symmetric": (-1.0, 1.0)}
_NO_CLIP = (-1e6, 1e6)
"""standardize: autotune does not clip contrast (no bounds); Keras's layer always clips."""


def train_moments(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of the raw training images (float64)."""
    flat = x_train.reshape(-1, x_train.shape[-1]).astype(np.float64)
    return flat.mean(axis=0), flat.std(axis=0)


def normalize(
    x: np.ndarray,
    how: str,
    moments: tuple[np.ndarray, np.ndarray],
    value_range: tuple[float, float] = (0.0, 255.0),
) -> np.ndarray:
    """``x`` (raw pixel values) as float32 scaled the way autotune's ``normalization`` does."""
    low, high = value_range
    if how == "unit":
        shift, scale = np.float32(low), np.float32(1.0 / (high - low))
    elif how == "symmetric":
        shift, scale = np.float32((low + high) / 2.0), np.float32(2.0 / (high - low))
    elif how == "standardize":
        mean, std = moments
        shift = mean.astype(np.float32)
        scale = np.where(std > 0, 1.0 / np.where(std > 0, std, 1.0), 1.0).astype(np.float32)
    else:
        raise ValueError(f"normalization: expected one of {NORMALIZATIONS}, got {how!r}")
    out = np.array(x, dtype=np.float32, copy=True)
    out -= shift
    out *= scale
    return out


def augment_layer(values: Mapping[str, Any]) -> Any:
    """Keras preprocessing layers for the ops ``values`` turns on (None when none is on).

    The layers are active only while training, like autotune's ``AugmentLayer``.
    """
    import keras

    strength = float(values["augment_strength"])
    layers: list[Any] = []
    if values.get("flip"):
        layers.append(keras.layers.RandomFlip("horizontal"))
    if values.get("translate"):
        layers.append(keras.layers.RandomTranslation(strength, strength))
    if values.get("contrast"):
        bounds = _BOUNDS.get(str(values["normalization"]), _NO_CLIP)
        layers.append(keras.layers.RandomContrast(strength, value_range=bounds))
    if values.get("noise"):
        layers.append(keras.layers.GaussianNoise(strength))
    if not layers:
        return None
    return keras.Sequential(layers, name="augment")


def optimizer(values: Mapping[str, Any]) -> Any:
    """The Keras optimizer of ``values`` at its learning rate (sgd with its momentum)."""
    import keras

    name, lr = values["optimizer"], float(values["learning_rate"])
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate=lr)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=float(values.get("momentum") or 0))
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=lr)
    raise ValueError(f"optimizer: expected one of {OPTIMIZERS}, got {name!r}")


def compiled_model(values: Mapping[str, Any]) -> Any:
    """autotune's cnn for ``values`` with the augmentation layers in front, compiled."""
    from autotune.models import build_model
    from autotune.space import TrialConfig

    config = TrialConfig(
        {
            "depth": int(values["depth"]),
            "width": int(values["width"]),
            "connection": str(values["connection"]),
            "initializer": str(values["initializer"]),
            "l1": L1,
            "l2": float(values["l2"]),
            "dropout": float(values["dropout"]),
        }
    )
    model = build_model(
        config,
        family="cnn",
        input_shape=INPUT_SHAPE,
        num_classes=NUM_CLASSES,
        augment=augment_layer(values),
    )
    model.compile(
        optimizer=optimizer(values),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def model_values(suggest: Any) -> dict[str, Any]:
    """Every value but the batch size, drawn through ``suggest`` (a tuner's own API).

    ``suggest`` has ``categorical(name, choices)``, ``boolean(name)``,
    ``integer(name, low, high)``, ``floating(name, low, high, log=False, step=None)`` and
    ``momentum()`` (the conditional dimension, called only for sgd).
    """
    values: dict[str, Any] = {}
    # the contrast layer clips to the normalized range, so the model needs the normalization
    values["normalization"] = suggest.categorical("normalization", list(NORMALIZATIONS))
    for op in AUGMENT_OPS:
        values[op] = suggest.boolean(op)
    values["augment_strength"] = suggest.floating("augment_strength", *STRENGTH)
    values["depth"] = suggest.integer("depth", *DEPTH)
    values["width"] = suggest.categorical("width", list(WIDTHS))
    values["connection"] = suggest.categorical("connection", list(CONNECTIONS))
    values["initializer"] = suggest.categorical("initializer", list(INITIALIZERS))
    values["l2"] = suggest.floating("l2", *L2, log=True)
    values["dropout"] = suggest.floating("dropout", DROPOUT[0], DROPOUT[1], step=DROPOUT[2])
    values["optimizer"] = suggest.categorical("optimizer", list(OPTIMIZERS))
    if values["optimizer"] == "sgd":
        values["momentum"] = suggest.momentum()
    values["learning_rate"] = suggest.floating("learning_rate", *LEARNING_RATE, log=True)
    return values


class OptunaSuggest:
    """``model_values``'s ``suggest`` over an Optuna trial (momentum suggested only for sgd)."""

    def __init__(self, trial: Any) -> None:
        self.trial = trial

    def categorical(self, name: str, choices: list[Any]) -> Any:
        return self.trial.suggest_categorical(name, choices)

    def boolean(self, name: str) -> bool:
        return bool(self.trial.suggest_categorical(name, [False, True]))

    def integer(self, name: str, low: int, high: int) -> int:
        return int(self.trial.suggest_int(name, low, high))

    def floating(
        self, name: str, low: float, high: float, log: bool = False, step: float | None = None
    ) -> float:
        return float(self.trial.suggest_float(name, low, high, log=log, step=step))

    def momentum(self) -> float:
        return self.floating("momentum", *MOMENTUM)


class KerasTunerSuggest:
    """``model_values``'s ``suggest`` over KerasTuner's ``hp`` (momentum in a conditional scope
    of ``optimizer == sgd``)."""

    def __init__(self, hp: Any) -> None:
        self.hp = hp

    def categorical(self, name: str, choices: list[Any]) -> Any:
        return self.hp.Choice(name, choices)

    def boolean(self, name: str) -> bool:
        return bool(self.hp.Boolean(name))

    def integer(self, name: str, low: int, high: int) -> int:
        return int(self.hp.Int(name, low, high))

    def floating(
        self, name: str, low: float, high: float, log: bool = False, step: float | None = None
    ) -> float:
        sampling = "log" if log else "linear"
        return float(self.hp.Float(name, low, high, step=step, sampling=sampling))

    def momentum(self) -> float:
        with self.hp.conditional_scope("optimizer", ["sgd"]):
            return float(self.hp.Float("momentum", *MOMENTUM))

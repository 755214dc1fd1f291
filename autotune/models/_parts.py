"""What both families share: reading a TrialConfig, kernel initializers, regularizers, seeds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

INITIALIZERS: dict[str, type[keras.initializers.Initializer]] = {
    "glorot_uniform": keras.initializers.GlorotUniform,
    "glorot_normal": keras.initializers.GlorotNormal,
    "he_normal": keras.initializers.HeNormal,
    "he_uniform": keras.initializers.HeUniform,
    "lecun_normal": keras.initializers.LecunNormal,
    "lecun_uniform": keras.initializers.LecunUniform,
}
CONNECTIONS: tuple[str, ...] = ("plain", "residual")


@dataclass(frozen=True)
class Options:
    """The architecture values of a TrialConfig, checked, plus the build's seed."""

    depth: int
    width: int
    connection: str
    initializer: str
    l1: float
    l2: float
    dropout: float
    seed: int | None

    @property
    def residual(self) -> bool:
        return self.connection == "residual"


def read_options(config: Mapping[str, Any], seed: int | None) -> Options:
    """Check the dimensions a model reads and return them as ``Options``.

    Raises:
        ValueError: a dimension is missing or outside what it accepts.
    """

    def get(name: str) -> Any:
        if name not in config:
            raise ValueError(f"{name}: the trial config has no value for it (got {dict(config)})")
        return config[name]

    def integer(name: str) -> int:
        value = get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
        return value

    def number(name: str, *, below_one: bool = False) -> float:
        value = get(name)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        if ok and below_one:
            ok = value < 1
        if not ok:
            bound = "0 <= value < 1" if below_one else "a number >= 0"
            raise ValueError(f"{name}: expected {bound}, got {value!r}")
        return float(value)

    connection = get("connection")
    if connection not in CONNECTIONS:
        raise ValueError(
            f"connection: expected one of {', '.join(CONNECTIONS)}, got {connection!r}"
        )
    initializer = get("initializer")
    if initializer not in INITIALIZERS:
        raise ValueError(
            f"initializer: expected one of {', '.join(INITIALIZERS)}, got {initializer!r}"
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed: expected an integer or None, got {seed!r}")
    return Options(
        depth=integer("depth"),
        width=integer("width"),
        connection=connection,
        initializer=initializer,
        l1=number("l1"),
        l2=number("l2"),
        dropout=number("dropout", below_one=True),
        seed=seed,
    )


class Parts:
    """Makes the per-layer pieces of one build: seeded initializers, regularizers, dropouts.

    Each call that needs randomness gets its own seed, derived from the build's seed and a
    running counter, so two builds with the same seed match layer for layer while the layers
    of one build (and builds with neighbouring seeds) stay uncorrelated.
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self._count = 0

    def _next_seed(self) -> int | None:
        self._count += 1
        if self.options.seed is None:
            return None
        state = np.random.SeedSequence([self.options.seed, self._count]).generate_state(1)
        return int(state[0]) & 0x7FFFFFFF

    def kernel(self) -> dict[str, Any]:
        """Keyword arguments for a Dense or Conv kernel: initializer and regularizer."""
        options = self.options
        regularizer = None
        if options.l1 > 0 or options.l2 > 0:
            regularizer = keras.regularizers.L1L2(l1=options.l1, l2=options.l2)
        return {
            "kernel_initializer": INITIALIZERS[options.initializer](seed=self._next_seed()),
            "kernel_regularizer": regularizer,
        }

    def dropout(self, x: keras.KerasTensor, name: str) -> keras.KerasTensor:
        """``x`` through a Dropout layer of the configured rate, or ``x`` when the rate is 0."""
        if self.options.dropout == 0:
            return x
        layer = keras.layers.Dropout(self.options.dropout, seed=self._next_seed(), name=name)
        return layer(x)

    def classifier(self, x: keras.KerasTensor, num_classes: int) -> keras.KerasTensor:
        """The float32 softmax output layer."""
        layer = keras.layers.Dense(
            num_classes, activation="softmax", dtype="float32", name="output", **self.kernel()
        )
        return layer(x)

"""The built-in dimensions of a run file's ``space:``: their types, allowed values and defaults.

A run file fixes or searches any of these; a dimension it does not name takes its default. The
catalogue is the single place that knows what each dimension accepts: ``spec`` uses ``check`` to
turn a user's entry into an error message, ``space`` uses the defaults to fill a TrialConfig.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from autotune.space._dimensions import Choice, Dimension, Fixed, Float, Int, Value

AUGMENTATION_OPS: tuple[str, ...] = ("flip", "rotate", "zoom", "translate", "contrast", "noise")
"""Augmentation ops, each an on/off dimension of its own name."""

IMAGE_ONLY_OPS: frozenset[str] = frozenset({"flip", "rotate", "zoom", "translate", "contrast"})
"""Ops that need image data (height, width, channels); ``noise`` works on any numeric data."""

AUTO = "auto"
"""The value of a speed knob the engine chooses per trial (``steps_per_execution: auto``)."""
AUTO_STEPS_PER_EXECUTION = 16
"""What ``steps_per_execution: auto`` trains with on one device (several devices run 1): enough
batches per call that a small model's step is not dominated by the call into TensorFlow
(1.8-2.6x on small models in ``benchmarks/trainer_throughput.py``), while the per-call checks
(deadline, NaN, Ctrl-C) still come every few hundred milliseconds."""

OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd", "rmsprop", "nadam", "adagrad")
INITIALIZERS: tuple[str, ...] = (
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
)
NORMALIZATIONS: tuple[str, ...] = ("unit", "symmetric", "standardize")
CONNECTIONS: tuple[str, ...] = ("plain", "residual")
LR_SCHEDULES: tuple[str, ...] = ("cosine", "constant")
"""How the learning rate moves over a trial's epochs: cosine decay from ``learning_rate``
towards zero (the default), or constant."""
PRECISIONS: tuple[str, ...] = ("float32", "mixed_float16", "mixed_bfloat16")
"""Keras dtype policies a trial can train under (variables and the output stay float32)."""
AUGMENT_PLACES: tuple[str, ...] = ("host", "model")
"""Where augmentation runs: a tf.data map on the host, or a layer at the start of the model."""
SPEED_KNOBS: tuple[str, ...] = (
    "precision",
    "jit_compile",
    "steps_per_execution",
    "cache",
    "prefetch",
    "parallel_map",
    "augment_on",
)
"""Dimensions that change how fast a trial trains, not what it learns (precision aside)."""

OUTSIDE_THE_GRAPH: frozenset[str] = frozenset(
    {
        "learning_rate",
        "lr_schedule",
        "initializer",
        "batch_size",
        "normalization",
        "cache",
        "prefetch",
        "parallel_map",
    }
)
"""Dimensions that leave a compiled model's traced train step as it is: the learning rate (and
its schedule, set epoch by epoch) is an optimizer variable, the initializer only sets starting
values, and the rest shape the tf.data pipeline (the traced batch dimension is unknown). Trials
differing only in these can share one compiled model (``autotune.train.CompiledModels``)."""

HOST_AUGMENTATION: frozenset[str] = frozenset({*AUGMENTATION_OPS, "augment_strength"})
"""Augmentation dimensions, outside the model too when ``augment_on`` is ``host``."""


@dataclass(frozen=True)
class Entry:
    """What one built-in dimension accepts.

    Attributes:
        kind: ``"int"``, ``"float"``, ``"bool"`` or ``"str"``.
        default: the value used when the run file does not name the dimension.
        choices: the allowed values of a ``"str"`` dimension.
        low: the smallest allowed value of a number dimension.
        high: the largest allowed value (None: unbounded).
        high_open: whether ``high`` itself is excluded.
        low_open: whether ``low`` itself is excluded.
        help: one line for ``autotune validate`` and error messages.
        auto: the dimension also takes ``"auto"``: the engine picks the value per trial.
    """

    kind: str
    default: Value
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    help: str = ""
    auto: bool = False

    def expected(self) -> str:
        """A human description of an acceptable single value."""
        if self.auto:
            return f"auto or {replace(self, auto=False).expected()}"
        if self.kind == "str":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        noun = "an integer" if self.kind == "int" else "a number"
        if self.low is None:
            return noun
        left = ">" if self.low_open else ">="
        if self.high is None:
            return f"{noun} {left} {self.low:g}"
        right = "<" if self.high_open else "<="
        return f"{noun} {left} {self.low:g} and {right} {self.high:g}"

    def check_value(self, value: Any) -> None:
        """Raise ValueError if ``value`` is not an acceptable single value."""
        ok: bool
        if value == AUTO:
            ok = self.auto
        elif self.kind == "str":
            ok = isinstance(value, str) and value in self.choices
        elif self.kind == "bool":
            ok = isinstance(value, bool)
        elif self.kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool) and self._in_bounds(value)
        else:
            ok = (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and self._in_bounds(float(value))
            )
        if not ok:
            raise ValueError(f"expected {self.expected()}, got {value!r}")

    def _in_bounds(self, number: float) -> bool:
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            return False
        if self.high is None:
            return True
        return number < self.high if self.high_open else number <= self.high


CATALOGUE: dict[str, Entry] = {
    "normalization": Entry("str", "unit", NORMALIZATIONS, help="input scaling"),
    **{
        op: Entry("bool", False, help=f"augmentation op {op} on/off (training data only)")
        for op in AUGMENTATION_OPS
    },
    "augment_strength": Entry(
        "float", 0.1, low=0.0, high=1.0, low_open=True, help="strength shared by the ops"
    ),
    "depth": Entry("int", 2, low=1, high=12, help="hidden layers (mlp) or conv blocks (cnn)"),
    "width": Entry("int", 32, low=1, high=4096, help="units (mlp) or filters of the first block"),
    "connection": Entry("str", "plain", CONNECTIONS, help="plain stack or residual blocks"),
    "initializer": Entry("str", "glorot_uniform", INITIALIZERS, help="kernel initializer"),
    "l1": Entry("float", 0.0, low=0.0, high=1.0, help="L1 kernel regularization"),
    "l2": Entry("float", 0.0, low=0.0, high=1.0, help="L2 kernel regularization"),
    "dropout": Entry("float", 0.0, low=0.0, high=1.0, high_open=True, help="dropout rate"),
    "optimizer": Entry("str", "adam", OPTIMIZERS, help="optimizer"),
    "momentum": Entry("float", 0.0, low=0.0, high=1.0, high_open=True, help="sgd/rmsprop momentum"),
    "learning_rate": Entry("float", 1e-3, low=0.0, high=10.0, low_open=True, help="learning rate"),
    "lr_schedule": Entry(
        "str", "cosine", LR_SCHEDULES, help="learning rate over the epochs: cosine or constant"
    ),
    "batch_size": Entry("int", 64, low=1, high=65536, help="global batch size"),
    "precision": Entry("str", "float32", PRECISIONS, help="compute dtype policy (keras mixed)"),
    "jit_compile": Entry("bool", False, help="XLA-compile the train step"),
    "steps_per_execution": Entry(
        "int",
        AUTO,
        low=1,
        high=100_000,
        auto=True,
        help="batches per call into the compiled train step (auto: 16 on one device)",
    ),
    "cache": Entry(
        "bool",
        True,
        help="keep in-memory data's validation batches, normalized, in memory",
    ),
    "prefetch": Entry(
        "int", -1, low=-1, high=4096, help="batches prefetched: -1 tf.data.AUTOTUNE, 0 none"
    ),
    "parallel_map": Entry("bool", True, help="augment in parallel tf.data map calls"),
    "augment_on": Entry("str", "host", AUGMENT_PLACES, help="augment in tf.data or in the model"),
}


def check(name: str, dimension: Dimension) -> None:
    """Raise ValueError naming what is wrong if ``dimension`` does not fit built-in ``name``.

    Raises:
        KeyError: ``name`` is not a built-in dimension.
        ValueError: a value or bound is outside what the dimension accepts.
    """
    entry = CATALOGUE[name]
    if isinstance(dimension, Fixed):
        entry.check_value(dimension.value)
    elif isinstance(dimension, Choice):
        for value in dimension.choices:
            entry.check_value(value)
    elif isinstance(dimension, Int):
        if entry.kind not in ("int", "float"):
            raise ValueError(f"expected {entry.expected()}, got a range")
        entry.check_value(dimension.low if entry.kind == "int" else float(dimension.low))
        entry.check_value(dimension.high if entry.kind == "int" else float(dimension.high))
    elif isinstance(dimension, Float):
        if entry.kind == "int":
            raise ValueError(
                f"expected an integer range like {{low: 1, high: 4}}, "
                f"got a float range {dimension.low}..{dimension.high}"
            )
        if entry.kind != "float":
            raise ValueError(f"expected {entry.expected()}, got a range")
        entry.check_value(dimension.low)
        entry.check_value(dimension.high)


def defaults(names: Mapping[str, Any] | None = None) -> dict[str, Dimension]:
    """Fixed dimensions for every built-in dimension not present in ``names``."""
    present = names or {}
    out: dict[str, Dimension] = {}
    for name, entry in CATALOGUE.items():
        if name in present:
            continue
        if name == "momentum":
            out[name] = Fixed(entry.default, when={"optimizer": ["sgd", "rmsprop"]})
        else:
            out[name] = Fixed(entry.default)
    return out

"""Compiled models kept between trials, so a trial whose model another trial already traced
starts training at once.

Tracing and compiling a small model's train and test steps takes longer than training it
(~0.3 s against ~0.1 s for a digits MLP on a 2-core CPU). Many trials of a search share a
model's shape and differ only in what the traced steps read as variables or never see: the
learning rate (an optimizer variable), the initializer (starting values), the batch size (the
traced batch dimension is unknown) and the tf.data pipeline. ``CompiledModels`` keeps the last
few compiled models by such a key; a trial with the same key gets one back with every variable
reset: the weights (and dropout seed states) copied from a freshly built model with the trial's
seed, the optimizer's variables put back to their values before the first step, and the
trial's learning rate assigned. It then trains exactly like a new model (the tests compare the
two), minus the tracing.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from autotune.space import HOST_AUGMENTATION, OUTSIDE_THE_GRAPH
from autotune.train._knobs import CompileKnobs, dtype_policy

logger = logging.getLogger(__name__)

CAPACITY = 4
"""Compiled models kept at most (the least recently used goes first)."""
MAX_BYTES = 256 << 20
"""A model whose variables (weights and optimizer state) take more is not kept: its training
takes so long that tracing it again costs little, and its memory is better freed."""


@dataclass(eq=False)
class Compiled:
    """One compiled model and what resetting it needs.

    Attributes:
        model: the compiled model (its train and test steps traced once it has trained).
        strategy: the ``tf.distribute`` strategy it was built under; it trains under it again.
        strategy_name: ``strategy_for``'s name of that strategy.
        optimizer_state: the optimizer's variables before its first step.
        nbytes: the bytes its variables and optimizer state take.
    """

    model: keras.Model
    strategy: Any
    strategy_name: str
    optimizer_state: list[np.ndarray]
    nbytes: int

    @classmethod
    def of(cls, model: keras.Model, strategy: Any, strategy_name: str) -> Compiled:
        """Remember ``model`` as compiled, before it trains (its optimizer state is initial)."""
        state = [np.array(v.numpy()) for v in model.optimizer.variables]
        nbytes = sum(int(np.prod(v.shape)) * 4 for v in model.variables)
        nbytes += sum(a.nbytes for a in state)
        return cls(model, strategy, strategy_name, state, nbytes)

    def reset(
        self, build_model: Callable[[], keras.Model], *, learning_rate: float, precision: str
    ) -> bool:
        """Make the model a new one: weights of a fresh ``build_model()``, initial optimizer
        state, ``learning_rate``. Call inside ``strategy.scope()``.

        Returns:
            False (and changes nothing) when the fresh model's variables do not match the kept
            model's one for one (then this entry must not be used).
        """
        with dtype_policy(precision):
            fresh = build_model()
        targets, sources = self.model.variables, fresh.variables
        if len(targets) != len(sources) or any(
            tuple(t.shape) != tuple(s.shape) for t, s in zip(targets, sources, strict=True)
        ):
            logger.debug("kept model does not match the fresh build; compiling anew")
            return False
        for target, source in zip(targets, sources, strict=True):
            target.assign(source.value)
        optimizer = self.model.optimizer
        for variable, value in zip(optimizer.variables, self.optimizer_state, strict=True):
            variable.assign(value)
        optimizer.learning_rate = learning_rate
        return True


class CompiledModels:
    """The compiled models of one process, by ``compiled_key``, least recently used first out.

    A model is taken out while its trial trains and put back only when the trial ended in a
    way that leaves it sound; it is never shared by two trials at once.

    Example:
        >>> models = CompiledModels(capacity=2)
        >>> models.take(("mlp", 64)) is None
        True
    """

    def __init__(self, *, capacity: int = CAPACITY, max_bytes: int = MAX_BYTES) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._kept: OrderedDict[Hashable, Compiled] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._kept)

    def take(self, key: Hashable) -> Compiled | None:
        """The kept model for ``key``, removed from the cache until ``put`` back."""
        entry = self._kept.pop(key, None)
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def put(self, key: Hashable, entry: Compiled) -> None:
        """Keep ``entry`` for the next trial with ``key``; drop the oldest beyond capacity."""
        if self.capacity < 1 or entry.nbytes > self.max_bytes:
            return
        self._kept[key] = entry
        self._kept.move_to_end(key)
        while len(self._kept) > self.capacity:
            self._kept.popitem(last=False)

    def clear(self) -> None:
        """Forget every kept model (their memory is freed with the next collection)."""
        self._kept.clear()


def compiled_key(
    config: Mapping[str, Any],
    knobs: CompileKnobs,
    *,
    model: Hashable,
    devices: Sequence[str],
) -> Hashable:
    """The key under which a trial's compiled model can serve another trial.

    Args:
        config: the trial's values; those in ``OUTSIDE_THE_GRAPH`` (and the augmentation
            dimensions when the pipeline augments) do not count.
        knobs: the compile knobs the trial resolved (pinned values, overrides applied).
        model: what else decides the model: family, input shape, classes.
        devices: the trial's devices.

    Example:
        >>> from autotune.train import CompileKnobs
        >>> a = compiled_key({"width": 32, "learning_rate": 0.1}, CompileKnobs(),
        ...                  model=("mlp", (64,), 10), devices=["/cpu:0"])
        >>> b = compiled_key({"width": 32, "learning_rate": 0.003}, CompileKnobs(),
        ...                  model=("mlp", (64,), 10), devices=["/cpu:0"])
        >>> a == b
        True
    """
    ignored = set(OUTSIDE_THE_GRAPH)
    if config.get("augment_on", "host") == "host":
        ignored |= HOST_AUGMENTATION
    values = tuple(sorted((k, _frozen(v)) for k, v in config.items() if k not in ignored))
    return (model, tuple(devices), knobs, values)


def _frozen(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value if isinstance(value, Hashable) else repr(value)

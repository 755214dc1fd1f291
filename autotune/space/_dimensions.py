"""The parameter forms a search space is made of: a fixed value, a choice, an int or a float range.

Each form knows how to ask an Optuna trial for a value (``suggest``), how to describe itself as
plain JSON (``to_json``, used to refuse resuming a study with a different space) and, where it is
discrete, which values it can take (``grid_values``, used by the grid sampler).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import optuna

Value: TypeAlias = bool | int | float | str | None


def _freeze_when(when: Mapping[str, Any] | None) -> tuple[tuple[str, tuple[Value, ...]], ...]:
    """Normalise a condition ``{name: value or [values]}`` to a hashable, sorted tuple."""
    if not when:
        return ()
    frozen = []
    for name, wanted in sorted(when.items()):
        values = tuple(wanted) if isinstance(wanted, list | tuple) else (wanted,)
        frozen.append((str(name), values))
    return tuple(frozen)


@dataclass(frozen=True)
class _Dimension:
    """Common part of every form: an optional condition on other dimensions.

    ``when={"optimizer": "sgd"}`` (or ``{"optimizer": ["sgd", "rmsprop"]}``) means the dimension
    exists only in trials whose ``optimizer`` takes one of those values.
    """

    when: tuple[tuple[str, tuple[Value, ...]], ...] | Mapping[str, Any] = field(
        default=(), kw_only=True
    )

    def active(self, values: Mapping[str, Any]) -> bool:
        """Whether the condition holds for the values chosen so far."""
        return all(values.get(name) in wanted for name, wanted in self._conditions())

    def depends_on(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self._conditions())

    def _conditions(self) -> tuple[tuple[str, tuple[Value, ...]], ...]:
        when = self.when
        return _freeze_when(when) if isinstance(when, Mapping) else when

    def suggest(self, trial: optuna.Trial, name: str) -> Value:  # pragma: no cover - abstract
        raise NotImplementedError

    def grid_values(self) -> list[Value] | None:
        """The values a grid search enumerates, or None for a continuous range."""
        return None

    def _json_when(self) -> dict[str, Any]:
        conditions = self._conditions()
        return {"when": {n: list(v) for n, v in conditions}} if conditions else {}

    def to_json(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Fixed(_Dimension):
    """A value that every trial uses.

    Example:
        >>> Fixed(0.5).value
        0.5
    """

    value: Value

    def __post_init__(self) -> None:
        if isinstance(self.when, Mapping):
            object.__setattr__(self, "when", _freeze_when(self.when))

    def suggest(self, trial: optuna.Trial, name: str) -> Value:
        return self.value

    def grid_values(self) -> list[Value] | None:
        return [self.value]

    def to_json(self) -> dict[str, Any]:
        return {"fixed": self.value, **self._json_when()}


@dataclass(frozen=True)
class Choice(_Dimension):
    """One of a list of values (Optuna's categorical distribution).

    Example:
        >>> Choice(["adam", "sgd"]).choices
        ('adam', 'sgd')
    """

    choices: tuple[Value, ...]

    def __init__(self, choices: Sequence[Value], *, when: Mapping[str, Any] | None = None) -> None:
        if isinstance(choices, str) or not isinstance(choices, Sequence):
            raise ValueError(f"expected a list of values, got {choices!r}")
        if len(choices) == 0:
            raise ValueError("expected at least one value, got an empty list")
        if len(set(map(repr, choices))) != len(choices):
            raise ValueError(f"expected distinct values, got {list(choices)!r}")
        object.__setattr__(self, "choices", tuple(choices))
        object.__setattr__(self, "when", _freeze_when(when))

    def suggest(self, trial: optuna.Trial, name: str) -> Value:
        return trial.suggest_categorical(name, list(self.choices))

    def grid_values(self) -> list[Value] | None:
        return list(self.choices)

    def to_json(self) -> dict[str, Any]:
        return {"choice": list(self.choices), **self._json_when()}


def _check_range(low: float, high: float, step: float | None, log: bool) -> None:
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"expected finite bounds, got low={low!r}, high={high!r}")
    if low > high:
        raise ValueError(f"expected low <= high, got low={low!r} > high={high!r}")
    if step is not None and step <= 0:
        raise ValueError(f"expected a positive step, got step={step!r}")
    if log and low <= 0:
        raise ValueError(f"expected low > 0 for a log range, got low={low!r}")
    if log and step is not None:
        raise ValueError("expected either log: true or a step, got both")


@dataclass(frozen=True)
class Int(_Dimension):
    """An integer range, both ends included.

    Example:
        >>> Int(1, 4).grid_values()
        [1, 2, 3, 4]
    """

    low: int
    high: int
    step: int = 1
    log: bool = False

    def __init__(
        self,
        low: int,
        high: int,
        *,
        step: int = 1,
        log: bool = False,
        when: Mapping[str, Any] | None = None,
    ) -> None:
        for label, number in (("low", low), ("high", high), ("step", step)):
            if isinstance(number, bool) or not isinstance(number, int):
                raise ValueError(f"expected an integer {label}, got {number!r}")
        _check_range(low, high, None if step == 1 else step, log)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "step", step)
        object.__setattr__(self, "log", log)
        object.__setattr__(self, "when", _freeze_when(when))

    def suggest(self, trial: optuna.Trial, name: str) -> Value:
        return trial.suggest_int(name, self.low, self.high, step=self.step, log=self.log)

    def grid_values(self) -> list[Value] | None:
        return list(range(self.low, self.high + 1, self.step))

    def to_json(self) -> dict[str, Any]:
        return {
            "int": [self.low, self.high],
            "step": self.step,
            "log": self.log,
            **self._json_when(),
        }


@dataclass(frozen=True)
class Float(_Dimension):
    """A float range, optionally on a log scale or in steps.

    Example:
        >>> Float(0.0, 0.5, step=0.25).grid_values()
        [0.0, 0.25, 0.5]
    """

    low: float
    high: float
    step: float | None = None
    log: bool = False

    def __init__(
        self,
        low: float,
        high: float,
        *,
        step: float | None = None,
        log: bool = False,
        when: Mapping[str, Any] | None = None,
    ) -> None:
        for label, number in (("low", low), ("high", high)):
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise ValueError(f"expected a number for {label}, got {number!r}")
        _check_range(float(low), float(high), step, log)
        object.__setattr__(self, "low", float(low))
        object.__setattr__(self, "high", float(high))
        object.__setattr__(self, "step", None if step is None else float(step))
        object.__setattr__(self, "log", log)
        object.__setattr__(self, "when", _freeze_when(when))

    def suggest(self, trial: optuna.Trial, name: str) -> Value:
        return trial.suggest_float(name, self.low, self.high, step=self.step, log=self.log)

    def grid_values(self) -> list[Value] | None:
        if self.step is None:
            return None if self.low != self.high else [self.low]
        count = round((self.high - self.low) / self.step)
        return [round(self.low + i * self.step, 12) for i in range(count + 1)]

    def to_json(self) -> dict[str, Any]:
        return {
            "float": [self.low, self.high],
            "step": self.step,
            "log": self.log,
            **self._json_when(),
        }


Dimension: TypeAlias = Fixed | Choice | Int | Float

"""What value a dimension of a parsed space can take, and how to say it in a message."""

from __future__ import annotations

from typing import Any, cast

from autotune.space import Choice, Dimension, Fixed, Int
from autotune.spec._errors import show


def same(a: Any, b: Any) -> bool:
    """Equal and both booleans or both not (``True`` is not ``1`` in a run file)."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def conditions(dim: Dimension) -> list[tuple[str, tuple[Any, ...]]]:
    """A dimension's condition as ``[(other dimension, values it must take), ...]``."""
    return [(str(name), tuple(wanted)) for name, wanted in cast(Any, dim.when)]


def possible(dim: Dimension) -> list[Any]:
    """The values a discrete dimension can take (empty for a continuous range)."""
    return list(dim.grid_values() or [])


def can_take(dim: Dimension, value: Any) -> bool:
    """Whether a trial of this space can give ``dim`` the value ``value``."""
    if isinstance(dim, Fixed):
        return same(dim.value, value)
    if isinstance(dim, Choice):
        return any(same(value, choice) for choice in dim.choices)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(dim, Int):
        return (
            isinstance(value, int)
            and dim.low <= value <= dim.high
            and (value - dim.low) % dim.step == 0
        )
    if not dim.low <= value <= dim.high:
        return False
    if dim.step is None:
        return True
    steps = (value - dim.low) / dim.step
    return abs(steps - round(steps)) < 1e-9


def summary(dim: Dimension) -> str:
    """``only 'adam'``, ``one of 16, 32``, ``an integer from 1 to 3`` (without condition)."""
    if isinstance(dim, Fixed):
        return f"only {show(dim.value)}"
    if isinstance(dim, Choice):
        return "one of " + ", ".join(show(choice) for choice in dim.choices)
    kind = "an integer" if isinstance(dim, Int) else "a number"
    text = f"{kind} from {dim.low:g} to {dim.high:g}"
    if dim.log:
        text += " on a log scale"
    if dim.step is not None and not (isinstance(dim, Int) and dim.step == 1):
        text += f" in steps of {dim.step:g}"
    return text

"""Run files that name Python code: ``model: mypkg.models:build`` and
``custom_objective: mypkg.objectives:fn``, and the user's own dimensions their spaces hold.

An import path is checked for its form here; ``autotune.spec._code`` imports it (only from the
module the user names, never by evaluating a string) when the file is validated or run.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from autotune.space import Choice, Dimension, Fixed, Float, Int
from autotune.spec._errors import Described, KeyPath, Problem, show

IMPORT_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][\w.]*$")
"""``package.module:attribute`` (the attribute may be dotted: ``module:Class.method``)."""

if TYPE_CHECKING:
    from autotune.spec._schema import RunSpec

_RANGE_KEYS = ("low", "high", "step", "log", "when")


def is_import_path(text: object) -> bool:
    """Whether ``text`` reads ``package.module:attribute``.

    Example:
        >>> is_import_path("mypkg.models:build"), is_import_path("mlp")
        (True, False)
    """
    return isinstance(text, str) and IMPORT_PATH.match(text) is not None


def names_code(spec: RunSpec) -> bool:
    """Whether a run file names its own model or objective (so its space may hold own names)."""
    return bool(spec.custom_objective) or is_import_path(spec.model)


def check_import_path(value: Any, *, what: str) -> None:
    """Raise Problem unless ``value`` is an import path."""
    if not is_import_path(value):
        raise Problem(
            (),
            expected=f"{what} as an import path like mypkg.models:build",
            received=value,
        )


def parse_custom_dimension(name: str, raw: Any, path: KeyPath) -> Dimension:
    """One of the user's own dimensions (a custom model or objective reads it).

    Forms as for built-in ones: a value (fixed), a list (choice), ``{choice: [...], when}``,
    ``{low, high, step, log, when}`` (an int range when low, high and step are integers).
    """
    where = ("space", *path)
    if isinstance(raw, list):
        return _choice(raw, where, None)
    if isinstance(raw, dict):
        when = _when(raw.get("when"), (*where, "when"))
        if "choice" in raw:
            extra = sorted(set(raw) - {"choice", "when"})
            if extra:
                raise Problem(
                    (*where, extra[0]), expected="choice and when only", received=extra[0]
                )
            if not isinstance(raw["choice"], list):
                raise Problem((*where, "choice"), expected="a list", received=raw["choice"])
            return _choice(raw["choice"], (*where, "choice"), when)
        unknown = sorted(set(raw) - set(_RANGE_KEYS), key=str)
        if unknown or "low" not in raw or "high" not in raw:
            raise Problem(
                where,
                expected="a value, a list, {choice: [...]} or a range {low: .., high: ..}",
                received=raw,
            )
        return _range(raw, where, when)
    if isinstance(raw, bool | int | float | str) or raw is None:
        if isinstance(raw, float) and not math.isfinite(raw):
            raise Problem(where, expected="a finite number", received=raw)
        return Fixed(raw)
    raise Problem(where, expected="a value, a list or a range", received=raw)


def _choice(values: list[Any], where: KeyPath, when: dict[str, Any] | None) -> Choice:
    for index, value in enumerate(values):
        if not (isinstance(value, bool | int | float | str) or value is None):
            raise Problem((*where, index), expected="a plain value", received=value)
    try:
        return Choice(values, when=when)
    except ValueError as error:
        raise Problem(where, expected="a list of distinct values", received=values) from error


def _range(raw: dict[str, Any], where: KeyPath, when: dict[str, Any] | None) -> Int | Float:
    low, high, step, log = raw["low"], raw["high"], raw.get("step"), raw.get("log", False)
    for key, value in (("low", low), ("high", high), ("step", step)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise Problem((*where, key), expected="a number", received=value)
    if not isinstance(log, bool):
        raise Problem((*where, "log"), expected="true or false", received=log)
    integers = all(isinstance(v, int) for v in (low, high, step) if v is not None)
    try:
        if integers:
            return Int(low, high, step=step or 1, log=log, when=when)
        return Float(low, high, step=step, log=log, when=when)
    except ValueError as error:
        raise Problem(
            where, expected="a valid range", received=Described(f"{show(raw)}: {error}")
        ) from None


def _when(raw: Any, where: KeyPath) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw):
        raise Problem(where, expected="a mapping like {optimizer: sgd}", received=raw)
    return raw

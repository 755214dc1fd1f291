"""The ``space:`` section: from what users write to ``autotune.space`` dimensions.

Forms, for any built-in dimension of ``autotune.space.CATALOGUE``::

    width: 32                                    # fixed
    width: [16, 32, 64]                          # choice
    width: {choice: [16, 32], when: {model: x}}  # choice with a condition
    depth: {low: 1, high: 3}                     # int range (int dimension)
    l2: {low: 1.0e-6, high: 1.0e-2, log: true}   # float range (float dimension)
    momentum: {low: 0.0, high: 0.99, when: {optimizer: sgd}}

and the ``augmentation`` sugar: ``{ops: [flip, noise], strength: ...}`` makes each op an on/off
choice; ops may also be written out (``{flip: true, rotate: [false, true]}``) or at top level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autotune.space import (
    AUGMENTATION_OPS,
    CATALOGUE,
    Choice,
    Dimension,
    Fixed,
    Float,
    Int,
    Space,
    check,
)
from autotune.space import defaults as catalogue_defaults
from autotune.spec._custom import names_code, parse_custom_dimension
from autotune.spec._errors import Described, KeyPath, Problem, closest, is_number, show
from autotune.spec._values import can_take, conditions, possible, same, summary

if TYPE_CHECKING:
    from autotune.spec._schema import RunSpec

_RANGE_KEYS = ("low", "high", "log", "step", "when")
_CHOICE_KEYS = ("choice", "when")
_AUGMENTATION_KEYS = ("ops", "strength", *AUGMENTATION_OPS)
_SCALAR = bool | int | float | str


@dataclass(frozen=True)
class ParsedSpace:
    """The dimensions a run file names, and the key path each was written at (under space)."""

    dims: dict[str, Dimension]
    paths: dict[str, KeyPath]

    def full(self) -> dict[str, Dimension]:
        """Every built-in dimension (named or default), in catalogue order; then the user's own."""
        filled = {**catalogue_defaults(self.dims), **self.dims}
        own = {name: dim for name, dim in self.dims.items() if name not in CATALOGUE}
        return {**{name: filled[name] for name in CATALOGUE}, **own}


def parse_space(raw: Mapping[str, Any], *, custom: bool = False) -> ParsedSpace:
    """Parse a ``space:`` mapping; raise Problem (path relative to the run file) if it is wrong.
    With ``custom`` (the run file names its own code), unknown names are the user's own."""
    dims: dict[str, Dimension] = {}
    paths: dict[str, KeyPath] = {}

    def add(name: str, dim: Dimension, path: KeyPath) -> None:
        if name in dims:
            raise Problem(
                ("space", *path),
                expected=f"{name} given once",
                received=Described(f"{name} again (also at space.{_dot(paths[name])})"),
                hint="keep one of them",
            )
        dims[name] = dim
        paths[name] = path

    for key, value in raw.items():
        if key == "augmentation":
            for name, (dim, path) in _augmentation(value).items():
                add(name, dim, path)
        elif key in CATALOGUE:
            add(key, parse_dimension(key, value, (key,)), (key,))
        elif custom and isinstance(key, str):
            add(key, parse_custom_dimension(key, value, (key,)), (key,))
        else:
            raise Problem(
                ("space", key),
                expected="a built-in dimension: " + ", ".join(("augmentation", *CATALOGUE)),
                received=Described(f"unknown key {key!r}"),
                hint=closest(key, ("augmentation", "strength", *CATALOGUE)).replace(
                    "'strength'", "'augmentation: {strength: ...}'"
                ),
            )
    parsed = ParsedSpace(dims, paths)
    _check_conditions(parsed)
    return parsed


def _dot(path: KeyPath) -> str:
    return ".".join(str(part) for part in path)


def _augmentation(raw: Any) -> dict[str, tuple[Dimension, KeyPath]]:
    here: KeyPath = ("augmentation",)
    if not isinstance(raw, dict):
        raise Problem(
            ("space", *here),
            expected="a mapping like {ops: [flip, noise], strength: 0.2}",
            received=raw,
        )
    out: dict[str, tuple[Dimension, KeyPath]] = {}
    for key, value in raw.items():
        if key == "ops":
            out.update(_ops(value))
        elif key == "strength":
            path = (*here, "strength")
            out["augment_strength"] = (parse_dimension("augment_strength", value, path), path)
        elif key in AUGMENTATION_OPS:
            if key in out:
                raise Problem(
                    ("space", *here, key),
                    expected=f"{key} once",
                    received=Described(f"{key} both in ops and written out"),
                    hint="keep one of them",
                )
            out[key] = (parse_dimension(key, value, (*here, key)), (*here, key))
        else:
            raise Problem(
                ("space", *here, key),
                expected="one of the keys " + ", ".join(_AUGMENTATION_KEYS),
                received=Described(f"unknown key {key!r}"),
                hint=closest(key, _AUGMENTATION_KEYS),
            )
    return out


def _ops(raw: Any) -> dict[str, tuple[Dimension, KeyPath]]:
    here: KeyPath = ("augmentation", "ops")
    if not isinstance(raw, list) or not raw:
        raise Problem(
            ("space", *here),
            expected="a non-empty list of ops like [flip, noise], from "
            + ", ".join(AUGMENTATION_OPS),
            received=raw,
            hint="delete augmentation to train without it" if raw == [] else "",
        )
    out: dict[str, tuple[Dimension, KeyPath]] = {}
    for index, op in enumerate(raw):
        if op not in AUGMENTATION_OPS:
            raise Problem(
                ("space", *here, index),
                expected="an augmentation op: one of " + ", ".join(AUGMENTATION_OPS),
                received=op,
                hint=closest(op, AUGMENTATION_OPS),
            )
        if op in out:
            raise Problem(("space", *here, index), expected="each op once", received=op)
        out[op] = (Choice([False, True]), (*here, index))
    return out


def parse_dimension(name: str, raw: Any, path: KeyPath) -> Dimension:
    """One built-in dimension from its YAML form; ``path`` is relative to ``space``."""
    entry = CATALOGUE[name]
    forms = f"{entry.expected()}, a list of them" + (
        ", or a range like {low: 1, high: 4}"
        if entry.kind == "int"
        else ", or a range like {low: 0.0, high: 0.5}"
        if entry.kind == "float"
        else ""
    )
    if isinstance(raw, list):
        return _choice(name, raw, path, when=None)
    if isinstance(raw, dict):
        if "choice" in raw:
            _known_keys(raw, _CHOICE_KEYS, path)
            when = _when(raw["when"], (*path, "when")) if "when" in raw else None
            if not isinstance(raw["choice"], list):
                raise Problem(("space", *path, "choice"), expected="a list", received=raw["choice"])
            return _choice(name, raw["choice"], (*path, "choice"), when=when)
        if "low" in raw or "high" in raw:
            return _range(name, raw, path)
        _known_keys(raw, (*_RANGE_KEYS, "choice"), path)
        raise Problem(("space", *path), expected=forms, received=raw)
    if not isinstance(raw, _SCALAR):
        raise Problem(("space", *path), expected=forms, received=raw)
    _check_value(name, raw, path, forms)
    return Fixed(raw)


def _check_value(name: str, value: Any, path: KeyPath, expected: str | None = None) -> None:
    entry = CATALOGUE[name]
    try:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("not a finite number")
        check(name, Fixed(value))
    except ValueError:
        hint = closest(value, entry.choices) if entry.kind == "str" else ""
        if value == "auto" and not entry.auto:
            takers = ", ".join(n for n, e in CATALOGUE.items() if e.auto)
            hint = f"{name} takes no auto; only {takers} does"
        elif isinstance(value, str) and entry.kind in ("int", "float") and is_number(value):
            hint = f"write {value} without quotes"
        raise Problem(
            ("space", *path), expected=expected or entry.expected(), received=value, hint=hint
        ) from None


def _known_keys(raw: Mapping[str, Any], allowed: tuple[str, ...], path: KeyPath) -> None:
    for key in raw:
        if key not in allowed:
            raise Problem(
                ("space", *path, key),
                expected="one of the keys " + ", ".join(allowed),
                received=Described(f"unknown key {key!r}"),
                hint=closest(key, allowed),
            )


def _choice(name: str, values: list[Any], path: KeyPath, when: dict[str, Any] | None) -> Choice:
    if not values:
        raise Problem(
            ("space", *path),
            expected="a list with at least one value",
            received=values,
            hint="an empty choice leaves nothing to try",
        )
    seen: list[Any] = []
    for index, value in enumerate(values):
        if not isinstance(value, _SCALAR):
            raise Problem(
                ("space", *path, index), expected=CATALOGUE[name].expected(), received=value
            )
        _check_value(name, value, (*path, index))
        if any(same(value, other) for other in seen):
            raise Problem(
                ("space", *path, index),
                expected="distinct values",
                received=Described(f"{show(value)} twice"),
            )
        seen.append(value)
    return Choice(values, when=when)


def _range(name: str, raw: dict[str, Any], path: KeyPath) -> Int | Float:
    entry = CATALOGUE[name]
    _known_keys(raw, _RANGE_KEYS, path)
    if entry.kind not in ("int", "float"):
        raise Problem(
            ("space", *path),
            expected=f"{entry.expected()}, or a list of them ({name} takes no range)",
            received=raw,
            hint=f"write {name}: [{', '.join(entry.choices) or 'false, true'}]",
        )
    is_int = entry.kind == "int"
    like = (
        "an integer, as in {low: 1, high: 4}" if is_int else "a number, as in {low: 0.0, high: 0.5}"
    )
    bounds: dict[str, Any] = {}
    for bound in ("low", "high"):
        if bound not in raw:
            raise Problem(
                ("space", *path, bound),
                expected=f"both low and high ({like})",
                received=Described(f"no {bound}"),
            )
        value = raw[bound]
        ok = isinstance(value, int) if is_int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            hint = (
                f"write {value} without quotes"
                if isinstance(value, str) and is_number(value)
                else ""
            )
            if is_int and isinstance(value, float):
                hint = f"{name} is an integer dimension"
            raise Problem(("space", *path, bound), expected=like, received=value, hint=hint)
        _check_value(name, value, (*path, bound))
        bounds[bound] = value
    low, high = bounds["low"], bounds["high"]
    if low > high:
        raise Problem(
            ("space", *path, "low"),
            expected=f"low <= high (high is {high})",
            received=low,
            hint="swap low and high",
        )
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise Problem(("space", *path, "log"), expected="true or false", received=log)
    if log and low <= 0:
        raise Problem(
            ("space", *path, "low"),
            expected="low > 0 for a log range",
            received=low,
            hint="use a small positive low like 1.0e-6, or drop log: true",
        )
    step = raw.get("step")
    if step is not None:
        ok = isinstance(step, int) if is_int else isinstance(step, int | float)
        if isinstance(step, bool) or not ok or step <= 0:
            noun = "a positive integer" if is_int else "a positive number"
            raise Problem(("space", *path, "step"), expected=noun, received=step)
        if log:
            raise Problem(
                ("space", *path, "step"),
                expected="either log: true or a step",
                received=Described("both"),
                hint="Optuna cannot step on a log scale",
            )
    when = _when(raw["when"], (*path, "when")) if "when" in raw else None
    try:
        if is_int:
            return Int(low, high, step=step or 1, log=log, when=when)
        return Float(low, high, step=step, log=log, when=when)
    except ValueError as exc:  # pragma: no cover - the checks above come first
        raise Problem(("space", *path), expected=like, received=raw, hint=str(exc)) from None


def _when(raw: Any, path: KeyPath) -> dict[str, Any]:
    if not isinstance(raw, dict) or not raw:
        raise Problem(
            ("space", *path),
            expected="a condition like {optimizer: sgd} or {optimizer: [sgd, rmsprop]}",
            received=raw,
        )
    for key, wanted in raw.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values or not all(isinstance(v, _SCALAR) for v in values):
            raise Problem(
                ("space", *path, key),
                expected="a value or a non-empty list of values",
                received=wanted,
            )
    return dict(raw)


def _check_conditions(parsed: ParsedSpace) -> None:
    """Each condition names another dimension and values it can take; no cycles."""
    full = parsed.full()
    for name, dim in parsed.dims.items():
        base = ("space", *parsed.paths[name], "when")
        for other, wanted in conditions(dim):
            if other not in full or other == name:
                raise Problem(
                    (*base, other),
                    expected="the name of another dimension: "
                    + ", ".join(n for n in full if n != name),
                    received=other,
                    hint=closest(other, full),
                )
            for value in wanted:
                if not can_take(full[other], value):
                    default = (
                        "" if other in parsed.dims else f" (its default; add {other} to space)"
                    )
                    raise Problem(
                        (*base, other),
                        expected=f"a value {other} can take: {summary(full[other])}{default}",
                        received=value,
                        hint=closest(value, possible(full[other])),
                    )
    _check_cycles(parsed)


def _check_cycles(parsed: ParsedSpace) -> None:
    graph = {name: dim.depends_on() for name, dim in parsed.dims.items()}
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            cycle = " -> ".join((*trail[trail.index(name) :], name))
            raise Problem(
                ("space", *parsed.paths[name], "when"),
                expected="conditions without a cycle",
                received=Described(cycle),
            )
        if name in done:
            return
        for other in graph.get(name, ()):
            visit(other, (*trail, name))
        done.add(name)

    for name in graph:
        visit(name, ())


def space_of(spec: RunSpec) -> Space:
    """The search space of a run file: its dimensions plus catalogue defaults for the rest.

    Example:
        >>> from autotune.spec import load_run_mapping
        >>> spec = load_run_mapping({"data": {"dataset": "digits"},
        ...                          "space": {"depth": {"low": 1, "high": 3}}})
        >>> space_of(spec).searched(), space_of(spec)["width"]
        (['depth'], Fixed(when=(), value=32))
    """
    parsed = parse_space(spec.space, custom=names_code(spec))
    if spec.custom_objective:  # the objective reads only the dimensions the run file names
        return Space(parsed.dims)
    dims = parsed.full()
    if spec.train.steps_per_execution is not None:  # the field's old place, under train:
        dims["steps_per_execution"] = Fixed(spec.train.steps_per_execution)
    return Space(dims)

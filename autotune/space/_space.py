"""Space: named dimensions, with conditions, that suggest a TrialConfig from an Optuna trial."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from autotune.space._catalogue import AUTO, AUTO_STEPS_PER_EXECUTION, CATALOGUE
from autotune.space._config import TrialConfig
from autotune.space._dimensions import Choice, Dimension, Fixed, Float, Int, Value

if TYPE_CHECKING:
    import optuna


class Space(Mapping[str, Dimension]):
    """A joint search space: a name for each dimension, in an order that respects conditions.

    Args:
        dimensions: a mapping of names to ``Fixed``, ``Choice``, ``Int`` or ``Float``; a plain
            value is taken as ``Fixed`` and a list as ``Choice``.
        **kwargs: more dimensions by keyword.

    Raises:
        ValueError: a condition names an unknown dimension or the conditions form a cycle.

    Example:
        >>> import optuna
        >>> space = Space(depth=Int(1, 3), optimizer=Choice(["adam", "sgd"]),
        ...               momentum=Float(0.0, 0.9, when={"optimizer": "sgd"}))
        >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        >>> config = space.suggest(study.ask())
        >>> sorted(config) == sorted(["depth", "optimizer"] + (["momentum"]
        ...     if config["optimizer"] == "sgd" else []))
        True
    """

    def __init__(self, dimensions: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        merged: dict[str, Dimension] = {}
        for name, dim in {**(dimensions or {}), **kwargs}.items():
            merged[name] = _as_dimension(dim)
        self._dims = _ordered(merged)

    def __getitem__(self, name: str) -> Dimension:
        return self._dims[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dims)

    def __len__(self) -> int:
        return len(self._dims)

    def __repr__(self) -> str:
        return f"Space({self.to_json()})"

    def suggest(self, trial: optuna.Trial) -> TrialConfig:
        """Ask ``trial`` for a value of each active dimension, in dependency order."""
        values: dict[str, Value] = {}
        for name, dim in self._dims.items():
            if dim.active(values):
                values[name] = dim.suggest(trial, name)
        return TrialConfig(values)

    def fixed(self, values: Mapping[str, Any]) -> TrialConfig:
        """The TrialConfig for given values of the searched dimensions (fixed ones filled in).

        Raises:
            KeyError: an active searched dimension has no value in ``values``.
        """
        out: dict[str, Value] = {}
        for name, dim in self._dims.items():
            if not dim.active(out):
                continue
            out[name] = dim.value if isinstance(dim, Fixed) else values[name]
        return TrialConfig(out)

    def default_point(self) -> dict[str, Value]:
        """A value for each searched dimension that is active at the defaults: the space's
        default configuration, the first trial of a study that names no ``start_with``.

        A built-in dimension takes its catalogue default (``autotune validate`` lists them)
        when it can, else the allowed value nearest to it; any other dimension takes its first
        choice or its range's low end, as KerasTuner's defaults do.

        Example:
            >>> Space(depth=Int(1, 3), width=Choice([16, 64]), units=Int(8, 64),
            ...       l2=Float(1e-6, 1e-2, log=True), optimizer=Choice(["sgd", "adam"]),
            ...       momentum=Float(0.0, 0.9, when={"optimizer": "sgd"})).default_point()
            {'depth': 2, 'width': 16, 'units': 8, 'l2': 1e-06, 'optimizer': 'adam'}
        """
        values: dict[str, Value] = {}
        point: dict[str, Value] = {}
        for name, dim in self._dims.items():
            if not dim.active(values):
                continue
            if isinstance(dim, Fixed):
                values[name] = dim.value
                continue
            values[name] = point[name] = _default_of(name, dim)
        return point

    def searched(self) -> list[str]:
        """Names of the dimensions that are not fixed."""
        return [n for n, d in self._dims.items() if not isinstance(d, Fixed)]

    def grid(self) -> dict[str, list[Value]]:
        """The value lists of every searched dimension, for Optuna's GridSampler.

        Raises:
            ValueError: a searched dimension is a continuous range.
        """
        grid: dict[str, list[Value]] = {}
        for name in self.searched():
            values = self._dims[name].grid_values()
            if values is None:
                raise ValueError(
                    f"{name}: the grid sampler needs every dimension discrete "
                    "(a list, or a range with step), got a continuous range"
                )
            grid[name] = values
        return grid

    def to_json(self) -> str:
        """Canonical JSON of every dimension, used to tell two spaces apart."""
        return json.dumps({n: d.to_json() for n, d in sorted(self._dims.items())}, sort_keys=True)


def _default_of(name: str, dim: Choice | Int | Float) -> Value:
    """The value of ``dim`` nearest to built-in ``name``'s default (first/low otherwise)."""
    entry = CATALOGUE.get(name)
    wanted = None if entry is None else entry.default
    if wanted == AUTO and not (isinstance(dim, Choice) and AUTO in dim.choices):
        wanted = AUTO_STEPS_PER_EXECUTION  # what auto trains with on one device
    if isinstance(dim, Choice):
        if any(wanted == c and type(wanted) is type(c) for c in dim.choices):
            return wanted
        if isinstance(wanted, int | float) and not isinstance(wanted, bool):
            numbers = [c for c in dim.choices if isinstance(c, int | float)]
            numbers = [c for c in numbers if not isinstance(c, bool)]
            if numbers:
                return min(numbers, key=lambda c: abs(float(c) - float(wanted)))
        return dim.choices[0]
    if isinstance(wanted, bool) or not isinstance(wanted, int | float):
        return dim.low
    grid = dim.grid_values() if not dim.log else None
    if grid:
        return min(grid, key=lambda v: abs(float(v) - float(wanted)))  # type: ignore[arg-type]
    clipped = min(max(float(wanted), dim.low), dim.high)
    return round(clipped) if isinstance(dim, Int) else clipped


def _as_dimension(value: Any) -> Dimension:
    if isinstance(value, Fixed | Choice | Int | Float):
        return value
    if isinstance(value, list | tuple):
        return Choice(list(value))
    if isinstance(value, bool | int | float | str) or value is None:
        return Fixed(value)
    raise ValueError(f"expected a dimension, a list or a plain value, got {value!r}")


def _ordered(dims: dict[str, Dimension]) -> dict[str, Dimension]:
    """Order dimensions so that each comes after those its condition reads."""
    for name, dim in dims.items():
        for other in dim.depends_on():
            if other not in dims:
                raise ValueError(
                    f"{name}: its condition names {other!r}, which is not in the space"
                )
    ordered: dict[str, Dimension] = {}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered:
            return
        if name in visiting:
            raise ValueError(f"{name}: its condition depends on itself")
        visiting.add(name)
        for other in dims[name].depends_on():
            visit(other)
        visiting.discard(name)
        ordered[name] = dims[name]

    for name in dims:
        visit(name)
    return ordered

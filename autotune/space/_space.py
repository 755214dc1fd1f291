"""Space: named dimensions, with conditions, that suggest a TrialConfig from an Optuna trial."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

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

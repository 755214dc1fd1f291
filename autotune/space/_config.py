"""TrialConfig: the plain, frozen values one trial trains with."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any


class TrialConfig(Mapping[str, Any]):
    """The values of every dimension for one trial, read like a mapping or by attribute.

    A TrialConfig is immutable and holds only JSON values (bool, int, float, str, None), so it
    can be stored, compared and written back into a run file (``best.yaml``). A conditional
    dimension whose condition does not hold is absent.

    Example:
        >>> config = TrialConfig({"width": 32, "optimizer": "adam"})
        >>> config["width"], config.optimizer
        (32, 'adam')
        >>> dict(config)
        {'width': 32, 'optimizer': 'adam'}
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            if not isinstance(value, bool | int | float | str | type(None)):
                raise TypeError(f"TrialConfig[{key!r}] must be a plain value, got {value!r}")
        object.__setattr__(self, "_values", dict(values))

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"TrialConfig has no dimension {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("TrialConfig is immutable")

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TrialConfig):
            return self._values == other._values
        return NotImplemented

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"TrialConfig({inner})"

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict copy."""
        return dict(self._values)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys)."""
        return json.dumps(self._values, sort_keys=True)

    def replace(self, **changes: Any) -> TrialConfig:
        """A copy with some values changed."""
        return TrialConfig({**self._values, **changes})

"""KerasTuner's private enumeration of a stepped log-scale hyperparameter's values.

``hp.Int("units", 16, 256, step=2, sampling="log")`` means 16, 32, 64, ... KerasTuner computes
those values privately (``_get_value_by_index``); where a release moves it, the values are
computed here from the public attributes the same way (multiplying by ``step``).
"""

from __future__ import annotations

from typing import Any

VALUE_BY_INDEX = "_get_value_by_index"
N_VALUES = "_get_n_values"


def stepped_values(hp: Any) -> list[Any]:
    """Every value a stepped Int/Float hyperparameter with log sampling can take."""
    by_index = getattr(hp, VALUE_BY_INDEX, None)
    count = getattr(hp, N_VALUES, None)
    if callable(by_index) and callable(count):
        return [by_index(i) for i in range(count())]
    values, value = [], hp.min_value
    while value <= hp.max_value:
        values.append(value)
        value = value * hp.step
    if hp.sampling == "reverse_log":
        values = [hp.max_value + hp.min_value - v for v in reversed(values)]
    return values

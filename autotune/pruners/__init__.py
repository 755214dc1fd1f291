"""Pruners that spend a study's seconds well: Optuna ``BasePruner``s, usable without autotune."""

from autotune.pruners._fronts import front_order, front_ranks
from autotune.pruners._time_asha import CURVE_ATTR, RUNGS_ATTR, TimeASHAPruner

__all__ = ["CURVE_ATTR", "RUNGS_ATTR", "TimeASHAPruner", "front_order", "front_ranks"]

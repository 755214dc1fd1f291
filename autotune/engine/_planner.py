"""The budget planner: start a trial only when it is expected to finish before the deadline."""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

import optuna
from optuna.trial import TrialState

from autotune.engine._study import exhausted

if TYPE_CHECKING:
    from autotune.space import Space

logger = logging.getLogger(__name__)


def expected_seconds(trials: Sequence[optuna.trial.FrozenTrial]) -> float | None:
    """How long the next trial is expected to take: the median wall seconds of COMPLETE trials.

    Pruned and failed trials stop early, so they would make the estimate optimistic. None until
    a trial has completed (the first trials always start).

    Example:
        >>> make = optuna.trial.create_trial
        >>> trials = [make(value=0.9, user_attrs={"wall_seconds": s}) for s in (4.0, 6.0, 30.0)]
        >>> expected_seconds(trials)
        6.0
    """
    seconds = [
        float(t.user_attrs["wall_seconds"])
        for t in trials
        if t.state == TrialState.COMPLETE and isinstance(t.user_attrs.get("wall_seconds"), float)
    ]
    return statistics.median(seconds) if seconds else None


def can_start(seconds_left: float | None, expected: float | None) -> bool:
    """Whether a trial expected to take ``expected`` seconds may start with ``seconds_left``.

    Example:
        >>> [can_start(left, 60.0) for left in (None, 90.0, 30.0)], can_start(1.0, None)
        ([True, True, False], True)
    """
    if seconds_left is None:
        return True
    if seconds_left <= 0:
        return False
    return expected is None or expected <= seconds_left


def reachable(total: int, space: Space, *, grid: bool) -> int:
    """The trials worth reserving: ``total``, or fewer when a grid has fewer points.

    Example:
        >>> from autotune.space import Choice, Space
        >>> reachable(10, Space(width=Choice([8, 16]), depth=Choice([1, 2])), grid=True)
        4
    """
    if not grid:
        return total
    return min(total, math.prod(len(values) for values in space.grid().values()))


def may_start(
    study: optuna.Study,
    seconds_left: float | None,
    trials: Sequence[optuna.trial.FrozenTrial] | None = None,
) -> bool:
    """Whether another trial of ``study`` may start with ``seconds_left`` of the budget (None:
    no budget): the budget is not spent, the grid not exhausted, and the trial is expected to
    finish in time. ``trials``: the study as the caller last read it (read now when None and
    a budget needs an estimate)."""
    if seconds_left is not None and seconds_left <= 0:
        return False
    if exhausted(study):
        logger.warning("the grid is exhausted; stopping")
        return False
    if seconds_left is None:
        return True
    if trials is None:
        trials = study.get_trials(deepcopy=False)
    expected = expected_seconds(trials)
    if not can_start(seconds_left, expected):
        logger.warning(
            "stopping: a trial takes about %.0fs and %.0fs of the budget are left",
            expected,
            seconds_left,
        )
        return False
    return True

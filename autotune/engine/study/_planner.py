"""The budget planner: start a trial only when it can give a result before the deadline.

A trial the budget stops keeps the accuracy it reached (``partial``), and configurations differ
20x in speed, so one slow trial must not make the planner refuse the fast ones: a trial starts
while the quickest configuration seen so far could report an accuracy before the deadline.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import optuna
from optuna.trial import TrialState

from autotune.engine.study._study import exhausted

if TYPE_CHECKING:
    from autotune.space import Space

logger = logging.getLogger(__name__)


def expected_seconds(trials: Sequence[optuna.trial.FrozenTrial]) -> float | None:
    """The fewest seconds a finished trial took to report its first validation accuracy (its
    curve's first point): how soon the quickest configuration seen gives a result.

    A completed trial that never reported (a custom objective without ``ctx.report``, which
    the deadline cannot stop) counts with its whole wall seconds. None until a trial has
    reported or completed (the first trials always start).

    Example:
        >>> make = optuna.trial.create_trial
        >>> slow = make(value=0.9, user_attrs={"curve": [[40.0, 0.8], [79.0, 0.85]]})
        >>> fast = make(state=TrialState.PRUNED, user_attrs={"curve": [[3.5, 0.7]]})
        >>> expected_seconds([slow, fast]), expected_seconds([slow])
        (3.5, 40.0)
    """
    firsts = []
    for trial in trials:
        curve = trial.user_attrs.get("curve")
        if trial.state not in (TrialState.COMPLETE, TrialState.PRUNED):
            continue
        first = curve[0] if isinstance(curve, list) and curve else None
        if isinstance(first, list | tuple) and first and isinstance(first[0], int | float):
            firsts.append(float(first[0]))
        elif trial.state == TrialState.COMPLETE and _number(trial.user_attrs.get("wall_seconds")):
            # an objective that never reports: the deadline cannot stop it, so its whole time
            firsts.append(float(trial.user_attrs["wall_seconds"]))
    return min(firsts) if firsts else None


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


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
    no budget): the budget is not spent, the grid not exhausted, and the quickest
    configuration seen could give a result in time (``expected_seconds``). ``trials``: the
    study as the caller last read it (read now when None and
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
            "stopping: the quickest trial took %.0fs to report and %.0fs of the budget are left",
            expected,
            seconds_left,
        )
        return False
    return True

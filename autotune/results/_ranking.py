"""Ranking finished trials: a pure function of a list of trials and a ``rank:`` section."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna.trial import TrialState

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from autotune.spec import RankSpec

_FLOOR_SLACK = 1e-9
"""Accuracies within this of the floor count as at the floor (``0.96 - 0.01`` is not ``0.95``)."""


@dataclass(frozen=True)
class RankedTrial:
    """One completed trial with its place in the ranking.

    Attributes:
        rank: 1 for the best trial.
        number: the Optuna trial number.
        accuracy: validation accuracy.
        wall_seconds: the whole trial's wall-clock seconds.
        accuracy_per_second: ``accuracy / wall_seconds``.
        time_to_target: seconds from the trial's start until its validation accuracy first
            reached ``rank.target``; None when no target is set or the trial never reached it.
        above_floor: the accuracy is at or above the ranking's accuracy floor (``min_accuracy``,
            or the best accuracy minus ``tolerance`` when ``min_accuracy`` is ``auto``).
        pareto: no other ranked trial is at least as accurate and at least as fast while
            strictly better in one of the two.
        params: the searched dimensions, as Optuna suggested them.
        config: the full trial configuration, fixed dimensions included.
        value: the ranked metric's value (``by: metric``), else None.
        partial: the study's budget stopped the trial before its last epoch ended; its
            accuracy and seconds are what it reached by then.
        seed: the seed the trial trained with (None when the trial did not record one).
    """

    rank: int
    number: int
    accuracy: float
    wall_seconds: float
    accuracy_per_second: float
    time_to_target: float | None
    above_floor: bool
    pareto: bool
    params: dict[str, Any]
    config: dict[str, Any]
    value: float | None = None
    partial: bool = False
    seed: int | None = None


def pareto_front(points: Sequence[tuple[float, float]]) -> list[bool]:
    """Which ``(accuracy, seconds)`` points are on the front (accuracy up, seconds down).

    A point is off the front when another point has accuracy at least as high and seconds at
    most as low, and is strictly better in one of them. Equal points are all on the front.

    Args:
        points: ``(accuracy, seconds)`` pairs.

    Returns:
        One flag per point, in the order given.

    Example:
        >>> pareto_front([(0.9, 10.0), (0.95, 30.0), (0.85, 20.0), (0.9, 10.0)])
        [True, True, False, True]
    """
    order = sorted(range(len(points)), key=lambda i: (-points[i][0], points[i][1]))
    front = [False] * len(points)
    fastest_more_accurate = math.inf  # the fewest seconds among strictly more accurate points
    start = 0
    while start < len(order):
        accuracy = points[order[start]][0]
        end = start
        while end < len(order) and points[order[end]][0] == accuracy:
            end += 1
        fastest_here = points[order[start]][1]  # the group is sorted by seconds ascending
        for i in order[start:end]:
            seconds = points[i][1]
            front[i] = seconds == fastest_here and seconds < fastest_more_accurate
        fastest_more_accurate = min(fastest_more_accurate, fastest_here)
        start = end
    return front


def time_to_target(curve: Sequence[Sequence[float]] | None, target: float) -> float | None:
    """Seconds at the first curve point whose accuracy is at least ``target`` (None if none).

    Example:
        >>> time_to_target([[4.0, 0.7], [7.5, 0.91], [11.0, 0.95]], 0.9)
        7.5
    """
    for point in curve or ():
        if len(point) < 2:
            continue
        seconds, accuracy = _number(point[0]), _number(point[1])
        if seconds is not None and accuracy is not None and accuracy >= target:
            return seconds
    return None


def rank_trials(trials: Sequence[FrozenTrial], rank: RankSpec) -> list[RankedTrial]:
    """Rank the completed trials of a study by the rule of a ``rank:`` section.

    Only COMPLETE trials with a finite ``accuracy`` user attribute are ranked.

    * ``by: accuracy_per_second``: trials at or above the accuracy floor come first, fastest
      learners (highest accuracy per wall-clock second) first; trials under the floor follow,
      most accurate first. The floor is ``min_accuracy``, or the best accuracy minus
      ``tolerance`` when ``min_accuracy`` is ``auto``.
    * ``by: accuracy``: most accurate first, then fewest wall seconds.
    * ``by: time_to_target``: fewest seconds until the validation curve first reached
      ``target`` first; trials that never reached it follow, most accurate first.
    * ``by: metric``: the trials with a finite ``rank.metric`` user attribute (a key a custom
      objective returned), best first in ``rank.direction``, then fewest wall seconds; their
      accuracy is NaN when they have none.

    Remaining ties go to the lower trial number. ``time_to_target`` is filled whenever
    ``rank.target`` is set; a trial without a curve that ended at or above the target counts
    its whole wall time.

    Args:
        trials: the study's trials, in any order and any state.
        rank: the run file's ``rank:`` section.

    Returns:
        The ranked trials, best first, ``rank`` counting from 1.

    Example:
        >>> ranked = rank_trials(study.get_trials(deepcopy=False), RankSpec(by="accuracy"))
        >>> ranked[0].number  # doctest: +SKIP
        3
    """
    if rank.by == "time_to_target" and rank.target is None:
        raise ValueError("rank by time_to_target needs a target accuracy, got target: None")
    metric = rank.metric if rank.by == "metric" else None
    rows = [r for r in (_measure(trial, rank.target, metric) for trial in trials) if r is not None]
    if not rows:
        return []
    accuracies = [row.accuracy for row in rows if not math.isnan(row.accuracy)]
    if rank.min_accuracy == "auto":
        floor = max(accuracies, default=0.0) - rank.tolerance
    else:
        floor = float(rank.min_accuracy)
    # a trial the budget cut short is fast because it stopped, not because it trains fast
    front = [
        on and not row.partial
        for on, row in zip(
            pareto_front([(row.accuracy, row.wall_seconds) for row in rows]), rows, strict=True
        )
    ]
    above = [row.accuracy >= floor - _FLOOR_SLACK for row in rows]

    def key(i: int) -> tuple[float, ...]:
        row = rows[i]
        if rank.by == "metric" and row.value is not None:
            signed = -row.value if rank.direction == "maximize" else row.value
            return (signed, row.wall_seconds, row.number)
        if rank.by == "accuracy":
            return (-row.accuracy, row.wall_seconds, row.number)
        if rank.by == "time_to_target":
            if row.time_to_target is not None:
                return (0, row.time_to_target, row.number)
            return (1, -row.accuracy, row.number)
        if above[i]:
            return (0, -row.accuracy_per_second, row.number)
        return (1, -row.accuracy, row.number)

    order = sorted(range(len(rows)), key=key)
    return [
        RankedTrial(
            rank=place,
            number=rows[i].number,
            accuracy=rows[i].accuracy,
            wall_seconds=rows[i].wall_seconds,
            accuracy_per_second=rows[i].accuracy_per_second,
            time_to_target=rows[i].time_to_target,
            above_floor=above[i],
            pareto=front[i],
            params=dict(rows[i].params),
            config=dict(rows[i].config),
            value=rows[i].value,
            partial=rows[i].partial,
            seed=rows[i].seed,
        )
        for place, i in enumerate(order, start=1)
    ]


@dataclass(frozen=True)
class _Row:
    number: int
    accuracy: float
    wall_seconds: float
    accuracy_per_second: float
    time_to_target: float | None
    params: Mapping[str, Any]
    config: Mapping[str, Any]
    value: float | None = None
    partial: bool = False
    seed: int | None = None


def _measure(trial: FrozenTrial, target: float | None, metric: str | None = None) -> _Row | None:
    """The ranking measurements of one trial, or None when it cannot be ranked."""
    if trial.state != TrialState.COMPLETE:
        return None
    attrs = trial.user_attrs
    accuracy = _number(attrs.get("accuracy"))
    value = None if metric is None else _number(attrs.get(metric))
    if metric is not None and value is None:
        return None
    if accuracy is None and metric is None:
        return None
    accuracy = math.nan if accuracy is None else accuracy
    wall = wall_seconds(trial)
    if wall is not None and wall > 0:
        per_second = accuracy / wall
    else:
        per_second = _number(attrs.get("accuracy_per_second")) or 0.0
    reached = None
    if target is not None:
        curve = attrs.get("curve")
        reached = time_to_target(curve, target)
        if reached is None and not curve and accuracy >= target:
            reached = wall
    config = attrs.get("config")
    return _Row(
        number=trial.number,
        accuracy=accuracy,
        wall_seconds=math.inf if wall is None else wall,
        accuracy_per_second=per_second,
        time_to_target=reached,
        params=trial.params,
        config=config if isinstance(config, Mapping) else trial.params,
        value=value,
        partial=attrs.get("partial") is True,
        seed=_integer(attrs.get("seed")),
    )


def wall_seconds(trial: FrozenTrial) -> float | None:
    """The trial's ``wall_seconds`` user attribute, else Optuna's start-to-complete duration."""
    stored = _number(trial.user_attrs.get("wall_seconds"))
    if stored is not None:
        return stored
    if trial.duration is not None:
        return trial.duration.total_seconds()
    return None


def _integer(value: Any) -> int | None:
    """An int (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    """A finite float, or None for None, NaN, infinities, booleans and non-numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None

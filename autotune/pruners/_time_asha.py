"""Asynchronous successive halving with training seconds as the resource."""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState

from autotune._private._optuna import storage_of, study_id
from autotune._private._optuna import trial_id as optuna_trial_id
from autotune.pruners._fronts import front_order

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

CURVE_ATTR = "time_asha:curve"
"""System attribute of each reported trial: ``[[seconds, value, cost or None], ...]``."""
RUNGS_ATTR = "rungs"
"""User attribute (shown in Optuna Dashboard): ``{"<seconds>s": "value, kept|pruned, place"}``."""

_Point = tuple[float, float, float | None]


class TimeASHAPruner(optuna.pruners.BasePruner):
    """Prune trials that are behind at equal *seconds*, not at equal epochs.

    Rungs lie on a geometric grid of seconds since the trial started: ``min_seconds``,
    ``min_seconds * reduction_factor``, ``min_seconds * reduction_factor**2``, ... When a trial
    reports after crossing a rung, it is compared with every other trial's value at that rung:
    the value of the other trial's first report at or after the rung, or, for a trial that
    completed before it, its final value (it reached that in fewer seconds). A trial outside the
    best ``ceil(n / reduction_factor)`` of the ``n`` trials at the rung is pruned. Only reports
    inside the same rung compare: a slow trial whose first report comes rungs later is not held
    against a fast trial's early one. A
    configuration that trains 1,000 examples a second is thus judged against what one that
    trains 20,000 reached in the same time, and cannot eat the budget before its first judgement.
    Like ASHA, no trial waits for another: each is judged as it reports.

    With ``cost`` given to ``report`` (for example the seconds a trial is projected to take in
    total, always minimized) trials are ordered by non-dominated rank over (value, cost) at each
    rung, then by crowding distance (a front's ends first), then by value, as MOASHA does;
    this prunes multi-objective studies, where Optuna's
    ``Trial.report`` is refused: call ``report`` instead of ``trial.report``.

    Each trial's reports are kept in its system attribute ``time_asha:curve``; the judgement at
    each rung is written to its user attribute ``rungs``, which Optuna Dashboard shows.

    Args:
        min_seconds: the first rung, in seconds since the trial started. Defaults to 5.0.
        reduction_factor: the rungs' ratio; about ``1 / reduction_factor`` of the trials at a
            rung go on. Defaults to 3.0.
        min_trials: trials (this one included) that must have reached a rung before anything
            is pruned at it. Defaults to 2.

    Example:
        >>> import optuna, time
        >>> pruner = TimeASHAPruner(min_seconds=0.01, reduction_factor=2.0)
        >>> study = optuna.create_study(direction="maximize", pruner=pruner)
        >>> def objective(trial):
        ...     x = trial.suggest_float("x", 0.0, 1.0)
        ...     for step in range(1, 4):
        ...         time.sleep(0.01)
        ...         trial.report(x * step, step)
        ...         if trial.should_prune():
        ...             raise optuna.TrialPruned()
        ...     return x * 3
        >>> study.optimize(objective, n_trials=6)
        >>> len(study.trials)
        6
    """

    def __init__(
        self, *, min_seconds: float = 5.0, reduction_factor: float = 3.0, min_trials: int = 2
    ) -> None:
        if not (isinstance(min_seconds, int | float) and min_seconds > 0):
            raise ValueError(f"min_seconds must be a positive number, but got {min_seconds=}")
        if not (isinstance(reduction_factor, int | float) and reduction_factor > 1):
            raise ValueError(f"reduction_factor must be > 1, but got {reduction_factor=}")
        if isinstance(min_trials, bool) or not isinstance(min_trials, int) or min_trials < 1:
            raise ValueError(f"min_trials must be an integer >= 1, but got {min_trials=}")
        self._min_seconds = float(min_seconds)
        self._factor = float(reduction_factor)
        self._min_trials = min_trials
        # this process's view of its running trials, keyed by (storage, study, trial id)
        self._curves: dict[tuple[int, int, int], list[_Point]] = {}
        self._judged: dict[tuple[int, int, int], int] = {}

    def rung(self, seconds: float) -> int:
        """The highest rung reached after ``seconds`` (-1 before the first).

        Example:
            >>> [TimeASHAPruner(min_seconds=2.0).rung(s) for s in (1.0, 2.0, 5.9, 6.0, 19.0)]
            [-1, 0, 0, 1, 2]
        """
        if seconds < self._min_seconds:
            return -1
        # the small slack keeps exact rung times (6.0 = 2 * 3) on their rung despite rounding
        return math.floor(math.log(seconds / self._min_seconds, self._factor) + 1e-9)

    def rung_seconds(self, rung: int) -> float:
        """The seconds at which ``rung`` starts."""
        return float(self._min_seconds * self._factor**rung)

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        """Optuna's hook (``trial.should_prune()``): judge the trial's last reported value at
        the seconds since its start."""
        step = trial.last_step
        if step is None or trial.datetime_start is None:
            return False
        seconds = (datetime.datetime.now() - trial.datetime_start).total_seconds()
        return self.report(study, trial, trial.intermediate_values[step], seconds=seconds)

    def report(
        self,
        study: optuna.Study,
        trial: optuna.trial.BaseTrial,
        value: float,
        *,
        seconds: float,
        cost: float | None = None,
    ) -> bool:
        """Record ``value`` (and ``cost``) at ``seconds`` since the trial started; True prunes.

        Args:
            study: the trial's study.
            trial: an ``optuna.Trial`` (or a ``FrozenTrial``) that is running.
            value: the intermediate objective value, in the study's first direction.
            seconds: seconds since the trial started.
            cost: a second objective to minimize (e.g. projected total seconds), or None.
        """
        trial_id = optuna_trial_id(study, trial)
        if not math.isfinite(value):
            return False
        key = (id(storage_of(study)), study_id(study), trial_id)
        curve = self._curve(study, key)
        curve.append((float(seconds), float(value), None if cost is None else float(cost)))
        storage_of(study).set_trial_system_attr(trial_id, CURVE_ATTR, [list(p) for p in curve])
        rung = self.rung(seconds)
        if rung <= self._judged.get(key, -1):
            return False
        at = self.rung_seconds(rung)
        trials = study.get_trials(deepcopy=False)
        self._forget_finished(study, key, trials)
        others = [
            point
            for other in trials
            if other.number != trial.number
            for point in [_value_at(other, at, until=self.rung_seconds(rung + 1))]
            if point is not None
        ]
        if len(others) + 1 < self._min_trials:
            return False  # judged when the next report finds enough trials at this rung
        self._judged[key] = rung
        maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
        place = _place((value, cost), others, maximize=maximize)
        kept = place < math.ceil((len(others) + 1) / self._factor)
        rungs = dict(_stored(study, trial_id, RUNGS_ATTR) or {})
        rungs[f"{at:g}s"] = (
            f"{value:.4g}, {'kept' if kept else 'pruned'}, place {place + 1} of {len(others) + 1}"
        )
        storage_of(study).set_trial_user_attr(trial_id, RUNGS_ATTR, rungs)
        return not kept

    def _curve(self, study: optuna.Study, key: tuple[int, int, int]) -> list[_Point]:
        if key not in self._curves:
            stored = _stored(study, key[2], CURVE_ATTR, system=True) or []
            self._curves[key] = [_point(p) for p in stored if _point(p) is not None]  # type: ignore[misc]
        return self._curves[key]

    def _forget_finished(
        self, study: optuna.Study, key: tuple[int, int, int], trials: Sequence[FrozenTrial]
    ) -> None:
        """Drop what this process kept of trials of the study that are no longer running."""
        running = {optuna_trial_id(study, t) for t in trials if t.state == TrialState.RUNNING}
        for kept in [k for k in self._curves if k[:2] == key[:2] and k[2] not in running]:
            self._curves.pop(kept, None)
            self._judged.pop(kept, None)


def _stored(study: optuna.Study, trial_id: int, key: str, *, system: bool = False) -> Any:
    frozen = storage_of(study).get_trial(trial_id)
    return (frozen.system_attrs if system else frozen.user_attrs).get(key)


def _point(raw: Any) -> _Point | None:
    if not isinstance(raw, list | tuple) or len(raw) < 2:
        return None
    try:
        cost = None if len(raw) < 3 or raw[2] is None else float(raw[2])
        return float(raw[0]), float(raw[1]), cost
    except (TypeError, ValueError):
        return None


def _value_at(
    trial: FrozenTrial, seconds: float, *, until: float
) -> tuple[float, float | None] | None:
    """``(value, cost)`` of ``trial`` at the rung from ``seconds`` to ``until``; None when it
    has nothing to show there.

    Its first report inside the rung (where the judged trial's own report is); for a trial
    that completed before the rung, its final value (the curve's last point, or for a trial
    reported without this pruner its objective value and duration). A trial whose first
    report after ``seconds`` came only after ``until`` (a slow one), one stopped before the
    rung, and one the study's budget cut short (``partial``) do not compete at it.
    """
    if trial.state not in (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED):
        return None
    raw = trial.system_attrs.get(CURVE_ATTR)
    curve = [p for p in map(_point, raw) if p is not None] if isinstance(raw, list) else []
    for point in curve:
        if point[0] >= seconds:
            return (point[1], point[2]) if point[0] < until else None
    if trial.state != TrialState.COMPLETE or trial.user_attrs.get("partial") is True:
        return None
    if curve:
        return curve[-1][1], curve[-1][2]
    values = trial.values or []
    if not values or trial.datetime_start is None or trial.datetime_complete is None:
        return None
    took = (trial.datetime_complete - trial.datetime_start).total_seconds()
    if took > seconds:
        return None
    return float(values[0]), float(values[1]) if len(values) > 1 else None


def _place(
    mine: tuple[float, float | None],
    others: Sequence[tuple[float, float | None]],
    *,
    maximize: bool,
) -> int:
    """How many of ``others`` come before ``mine`` (0: first); ties go to ``mine``."""
    sign = 1.0 if maximize else -1.0
    if mine[1] is None or any(cost is None for _, cost in others):
        return sum(1 for value, _ in others if sign * value > sign * mine[0])
    points = [(sign * mine[0], float(mine[1])), *((sign * v, float(c)) for v, c in others)]  # type: ignore[arg-type]
    return front_order(points).index(0)

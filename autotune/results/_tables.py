"""Tables of trials: every trial as Optuna stored it, and the leaderboard of ranked trials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from optuna.trial import TrialState

from autotune.results._ranking import wall_seconds

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from autotune.results._ranking import RankedTrial

MEASUREMENTS = (
    "accuracy",
    "wall_seconds",
    "train_seconds",
    "first_epoch_seconds",
    "examples_per_second",
    "epochs",
    "accuracy_per_second",
)
"""The user attributes ``trials_table`` shows, in column order."""


def trials_table(trials: Sequence[FrozenTrial]) -> pd.DataFrame:
    """Every trial that started, whatever its state, one row each in trial-number order.

    WAITING trials (reserved for a later run, or enqueued) have not run and are left out.

    Columns: ``number``, ``state`` (``COMPLETE``, ``PRUNED``, ``FAIL``, ``RUNNING``, ...), one
    ``params_<name>`` column per searched dimension (empty where a trial did not use it),
    ``accuracy``, ``wall_seconds``, ``train_seconds``, ``first_epoch_seconds``,
    ``examples_per_second``, ``epochs``, ``accuracy_per_second`` and ``reason``: how a trial
    that did not complete ended, e.g. ``"oom: ResourceExhaustedError ..."`` (empty for
    completed trials).

    Example:
        >>> table = trials_table(study.get_trials(deepcopy=False))
        >>> table[table.state == "FAIL"][["number", "reason"]]  # doctest: +SKIP
    """
    ordered = sorted(
        (trial for trial in trials if trial.state != TrialState.WAITING),
        key=lambda trial: trial.number,
    )
    names = sorted({name for trial in ordered for name in trial.params})
    columns = ["number", "state", *(f"params_{name}" for name in names), *MEASUREMENTS, "reason"]
    rows = []
    for trial in ordered:
        attrs = trial.user_attrs
        row: dict[str, Any] = {"number": trial.number, "state": trial.state.name}
        row.update({f"params_{name}": trial.params.get(name) for name in names})
        row.update({name: attrs.get(name) for name in MEASUREMENTS})
        if row["wall_seconds"] is None:
            row["wall_seconds"] = wall_seconds(trial)
        row["reason"] = _reason(trial)
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def leaderboard_table(
    ranked: Sequence[RankedTrial],
    *,
    test: Mapping[str, Any] | None = None,
    time_to_target: bool | None = None,
    metric: str | None = None,
) -> pd.DataFrame:
    """The ranked trials as a table, best first.

    Columns: ``rank``, ``trial``, ``accuracy``, ``wall_seconds``, ``accuracy_per_second``,
    ``pareto``, ``partial`` (the budget stopped the trial early: its accuracy and seconds are
    what it reached by then), then ``time_to_target`` (see the argument), ``test_accuracy``
    when ``test`` is given (filled on the tested trial's row only), then one
    ``params_<name>`` column per searched dimension.

    Args:
        ranked: the output of ``rank_trials``.
        test: the study's ``autotune:test`` attribute, ``{"trial": n, "accuracy": x}``.
            Defaults to None (no test column).
        time_to_target: whether to show the ``time_to_target`` column. Defaults to None:
            shown when some trial has one.
        metric: the metric ranked on (``by: metric``), shown as a column of that name after
            ``pareto``. Defaults to None.

    Example:
        >>> leaderboard_table(rank_trials(trials, RankSpec()), test={"trial": 3, "accuracy": 0.9})
        ... # doctest: +SKIP
    """
    if time_to_target is None:
        time_to_target = any(entry.time_to_target is not None for entry in ranked)
    names = sorted({name for entry in ranked for name in entry.params})
    columns = [
        *("rank", "trial", "accuracy", "wall_seconds", "accuracy_per_second", "pareto"),
        "partial",
    ]
    if metric is not None and metric not in columns:
        columns.append(metric)
    if time_to_target:
        columns.append("time_to_target")
    if test is not None:
        columns.append("test_accuracy")
    columns += [f"params_{name}" for name in names]
    rows = []
    for entry in ranked:
        row: dict[str, Any] = {
            "rank": entry.rank,
            "trial": entry.number,
            "accuracy": entry.accuracy,
            "wall_seconds": entry.wall_seconds,
            "accuracy_per_second": entry.accuracy_per_second,
            "pareto": entry.pareto,
            "partial": entry.partial,
            "time_to_target": entry.time_to_target,
        }
        if metric is not None and metric not in row:
            row[metric] = entry.value
        if test is not None:
            row["test_accuracy"] = (
                test.get("accuracy") if test.get("trial") == entry.number else None
            )
        row.update({f"params_{name}": entry.params.get(name) for name in names})
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _reason(trial: FrozenTrial) -> str | None:
    """``"<end>: <text>"`` for a trial that did not complete (None for one that did)."""
    end = trial.user_attrs.get("end")
    text = trial.user_attrs.get("reason") or trial.system_attrs.get("fail_reason")
    if end is None and trial.state in (TrialState.PRUNED, TrialState.FAIL):
        end = trial.state.name.lower()
    if end in (None, "complete"):
        return str(text) if text else None
    return f"{end}: {text}" if text else str(end)

"""Telling the study how a trial ended: its user attrs, its state and its values."""

from __future__ import annotations

import optuna

from autotune.engine.storages._local import set_user_attrs
from autotune.engine.study._study import metric_names_of
from autotune.engine.trial._base import PRUNED_ENDS
from autotune.train import TrialResult


def objective_values(result: TrialResult, objective: str) -> list[float]:
    """The values told to Optuna for a completed trial."""
    accuracy = float(result.accuracy or 0.0)
    if objective == "pareto":
        return [accuracy, result.wall_seconds]
    if objective == "accuracy_per_second":
        return [float(result.accuracy_per_second or 0.0)]
    return [accuracy]


def _told_complete(result: TrialResult, objective: str, *, study: optuna.Study) -> bool:
    """A result told COMPLETE with values derived from its accuracy (``objective_values``):
    a complete one, or a partial one of a study whose objective is derived from accuracy (not
    a custom objective's other metric)."""
    if result.accuracy is None:
        return False
    if result.end == "complete":
        return True
    return result.partial and study.metric_names in (None, metric_names_of(objective))


def record(
    study: optuna.Study, trial: optuna.Trial, result: TrialResult, objective: str
) -> optuna.trial.FrozenTrial:
    """Store the result as user attrs and tell the study how the trial ended.

    complete -> COMPLETE; deadline with an accuracy -> COMPLETE (``partial``: nothing the budget
    cut short is thrown away); pruned, nan, interrupted, slow and deadline without an accuracy
    -> PRUNED; oom -> PRUNED with the constraint ``oom`` violated (so constraint-aware samplers
    avoid the region); error -> FAIL.
    A trial that ends ``complete`` without an accuracy is a FAIL. ``result.values``, when a
    custom objective set them, are told as they are.
    """
    set_user_attrs(study, trial, result.user_attrs())
    state = optuna.trial.TrialState.FAIL
    values: list[float] | None = None
    if (result.end == "complete" or result.partial) and result.values:
        state, values = optuna.trial.TrialState.COMPLETE, list(result.values)
    elif _told_complete(result, objective, study=study):
        state, values = optuna.trial.TrialState.COMPLETE, objective_values(result, objective)
    elif result.end in PRUNED_ENDS:
        state = optuna.trial.TrialState.PRUNED
        if result.end == "oom":
            trial.set_constraint("oom", 1.0)
    elif result.end == "complete":
        trial.set_user_attr("end", "error")
        trial.set_user_attr("reason", "training finished without a validation accuracy")
    return study.tell(trial, values, state=state)

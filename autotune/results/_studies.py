"""What a storage holds: one summary row per study (``autotune studies``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

from autotune.results._storage import open_storage

UNCOUNTED_ENDS = frozenset({"abandoned", "worker_died"})
"""End reasons of trials lost with their process (the engine's ``UNCOUNTED_ENDS``)."""


@dataclass(frozen=True)
class StudySummary:
    """One study in a storage.

    Attributes:
        name: the study's name.
        directions: ``maximize``/``minimize`` per objective value.
        states: trials per state name (``COMPLETE``, ``PRUNED``, ``FAIL``, ``RUNNING``,
            ``WAITING``); states with no trial are left out.
        counted: finished trials that count toward ``--trials`` (not lost with a worker).
        best_number: the best trial's number (single objective), None for none or Pareto.
        best_value: its objective value.
        pareto_size: the number of Pareto-optimal trials (multi-objective studies).
    """

    name: str
    directions: tuple[str, ...]
    states: dict[str, int]
    counted: int
    best_number: int | None
    best_value: float | None
    pareto_size: int | None


def list_studies(target: str | Path) -> list[StudySummary]:
    """Summaries of every study in a storage, by name.

    Args:
        target: a storage URL (``postgresql://${PGUSER}@db/tuning``), a SQLite file, or a
            results folder.

    Raises:
        ValueError: the storage cannot be opened (see ``open_storage``).

    Example:
        >>> [s.name for s in list_studies("postgresql://postgres@127.0.0.1/test")]  # doctest: +SKIP
        ['digits', 'fashion']
    """
    storage, _shown = open_storage(target)
    out: list[StudySummary] = []
    for name in sorted(optuna.study.get_all_study_names(storage)):
        study = optuna.load_study(study_name=name, storage=storage)
        trials = study.get_trials(deepcopy=False)
        states = Counter(t.state.name for t in trials)
        finished = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
        counted = sum(
            1
            for t in trials
            if t.state in finished and t.user_attrs.get("end") not in UNCOUNTED_ENDS
        )
        best_number = best_value = pareto_size = None
        if len(study.directions) > 1:
            pareto_size = len(study.best_trials)
        elif states.get("COMPLETE"):
            best = study.best_trial
            best_number, best_value = best.number, best.value
        out.append(
            StudySummary(
                name=name,
                directions=tuple(d.name.lower() for d in study.directions),
                states=dict(sorted(states.items())),
                counted=counted,
                best_number=best_number,
                best_value=best_value,
                pareto_size=pareto_size,
            )
        )
    return out

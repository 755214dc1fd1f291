"""Rewriting a running study's result files (tables, best.yaml, the Dashboard note) without
letting the rewrite cost more than the trials.

Rewriting reads every trial and writes every file, so its cost grows with the study; after
each of a hundred tiny trials it took longer than the trial's training. ``Rewriter`` rewrites
at once when the top-ranked trial changes (so ``best.yaml`` always matches
``best_model.keras``), otherwise when ``interval`` seconds have passed since the last rewrite,
and always when the run ends or is interrupted. The study itself is written by every trial as
it ends; the files are at most ``interval`` seconds behind it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import optuna

from autotune.engine.output._review import refresh_note
from autotune.results import RankedTrial, rank_trials, write_results
from autotune.spec import derived_study_name

if TYPE_CHECKING:
    from autotune.engine.trial._base import BestFile
    from autotune.spec import RunSpec

INTERVAL = 2.0
"""Seconds the result files may lag behind the study while the top trial stays the same."""


class Rewriter:
    """Ranks a study's trials and rewrites its result files when due.

    Args:
        directory: the study's results folder.
        study: the study.
        spec: the run file (ranking rule, what ``best.yaml`` holds).
        name: the study's name.
        best_file: makes the text of ``best.yaml``.
        write: False for a worker of a shared study (it ranks, writes nothing).
        interval: see ``INTERVAL``.
    """

    def __init__(
        self,
        directory: Path,
        study: optuna.Study,
        spec: RunSpec,
        name: str,
        best_file: BestFile,
        *,
        write: bool = True,
        interval: float = INTERVAL,
    ) -> None:
        self.directory = directory
        self.study = study
        self.spec = spec
        self.name = name
        self.best_file = best_file
        self.write = write
        self.interval = interval
        self._written_at: float | None = None
        self._top: int | None = None
        self.pending = False

    def ranked(self, trials: Sequence[optuna.trial.FrozenTrial] | None = None) -> list[RankedTrial]:
        """The trials ranked by the run's rule (read from the study unless given)."""
        if trials is None:
            trials = self.study.get_trials(deepcopy=False)
        return rank_trials(list(trials), self.spec.rank)

    def after_trial(
        self,
        ranked: list[RankedTrial],
        trials: Sequence[optuna.trial.FrozenTrial] | None = None,
    ) -> list[RankedTrial]:
        """Rewrite the files if the top trial changed or ``interval`` has passed. ``trials``:
        the study as read for ``ranked`` (the files are written from it; read now if None)."""
        self.pending = True
        top = ranked[0].number if ranked else None
        due = self._written_at is None or time.perf_counter() - self._written_at >= self.interval
        if self.write and (due or top != self._top):
            return self.now(trials)
        return ranked

    def now(self, trials: Sequence[optuna.trial.FrozenTrial] | None = None) -> list[RankedTrial]:
        """Rewrite the files now (a worker of a shared study only ranks). ``trials``: the study
        as just read (read now if None); every file is written from this one read."""
        if trials is None:
            trials = self.study.get_trials(deepcopy=False)
        if not self.write:
            return self.ranked(trials)
        ranked = self.ranked(trials)
        best = (
            self.best_file(
                self.spec,
                ranked[0].config,
                study=derived_study_name(self.name, "best"),
                trial_seed=ranked[0].seed,
            )
            if ranked
            else None
        )
        written = write_results(
            self.directory, self.study, self.spec.rank, best_run_file=best, trials=trials
        )
        ranked = written.ranked
        refresh_note(self.study, self.spec, ranked, trials)
        self._written_at = time.perf_counter()
        self._top = ranked[0].number if ranked else None
        self.pending = False
        return ranked

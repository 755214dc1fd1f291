"""Writing a study's results folder: trials.csv, leaderboard.csv and best.yaml, atomically."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from autotune._stored import TEST_ATTR
from autotune.results._ranking import RankedTrial, rank_trials
from autotune.results._tables import leaderboard_table, trials_table

if TYPE_CHECKING:
    import optuna
    import pandas as pd

    from autotune.results._report import WrittenReport
    from autotune.spec import RankSpec

_logger = logging.getLogger(__name__)

TRIALS_FILE = "trials.csv"
LEADERBOARD_FILE = "leaderboard.csv"
BEST_FILE = "best.yaml"


@dataclass(frozen=True)
class WrittenResults:
    """What ``write_results`` wrote.

    Attributes:
        trials_csv: every trial (``trials_table``).
        leaderboard_csv: the ranked trials (``leaderboard_table``).
        best_run_file: ``best.yaml``, or None when no run-file text was given.
        ranked: the ranked trials, best first.
        report: ``report.html`` and its PNGs, when they were written too.
    """

    trials_csv: Path
    leaderboard_csv: Path
    best_run_file: Path | None
    ranked: list[RankedTrial]
    report: WrittenReport | None = None

    @property
    def files(self) -> list[Path]:
        """The files written, in the order written."""
        written = [self.trials_csv, self.leaderboard_csv]
        if self.best_run_file is not None:
            written.append(self.best_run_file)
        return written if self.report is None else [*written, *self.report.files]

    @property
    def best(self) -> RankedTrial | None:
        """The top-ranked trial, or None when no trial has completed."""
        return self.ranked[0] if self.ranked else None


def write_results(
    directory: Path,
    study: optuna.Study,
    rank: RankSpec,
    *,
    best_run_file: str | None,
    trials: Sequence[optuna.trial.FrozenTrial] | None = None,
) -> WrittenResults:
    """Rank a study's trials and (re)write its results files.

    Each file is written to a temporary file in ``directory`` and moved into place with
    ``os.replace``, so a reader never sees a half-written file, and several workers may call
    this at once. The study's trials are read once; calling this after every trial is cheap.

    Args:
        directory: the results folder; created when missing.
        study: the study to export.
        rank: the run file's ``rank:`` section.
        best_run_file: the text of ``best.yaml`` (a run file with the top trial's values
            fixed), or None to leave ``best.yaml`` as it is.
        trials: the study's trials as the caller just read them; read now when None.

    Returns:
        The paths written and the ranked trials.

    Example:
        >>> written = write_results(Path("results/digits"), study, RankSpec(), best_run_file=None)
        >>> written.best.number  # doctest: +SKIP
        7
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    trials = list(study.get_trials(deepcopy=False) if trials is None else trials)
    ranked = rank_trials(trials, rank)
    test = study.user_attrs.get(TEST_ATTR)
    trials_path = directory / TRIALS_FILE
    leaderboard_path = directory / LEADERBOARD_FILE
    _write_csv(trials_path, trials_table(trials))
    _write_csv(
        leaderboard_path,
        leaderboard_table(
            ranked,
            test=test if isinstance(test, Mapping) else None,
            time_to_target=rank.target is not None,
            metric=rank.metric if rank.by == "metric" else None,
        ),
    )
    best_path = None
    if best_run_file is not None:
        best_path = directory / BEST_FILE
        write_text_atomic(best_path, best_run_file)
    _logger.debug(
        "wrote results of %d trials (%d ranked) to %s", len(trials), len(ranked), directory
    )
    return WrittenResults(trials_path, leaderboard_path, best_path, ranked)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` through a temporary file in the same folder."""
    _write_atomic(path, lambda handle: handle.write(text))


def _write_csv(path: Path, table: pd.DataFrame) -> None:
    _write_atomic(path, lambda handle: table.to_csv(handle, index=False))


def _write_atomic(path: Path, write: Callable[[TextIO], object]) -> None:
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        # mkstemp makes the file private (0600); results are meant to be read like any file.
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise

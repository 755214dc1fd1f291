"""Re-ranking a stored study and re-writing its results folder (``autotune report``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from autotune._stored import SPEC_ATTR, sqlite_path
from autotune.results._export import WrittenResults, write_results
from autotune.results._ranking import rank_trials
from autotune.results._report import write_report
from autotune.results._storage import is_url, read_study, storage_url
from autotune.spec import (
    STUDY_NAME_RULE,
    RankSpec,
    SpecError,
    derived_study_name,
    fixed_run_file,
    is_study_name,
    load_run_mapping,
)

_logger = logging.getLogger(__name__)


def rewrite(
    target: str | Path,
    *,
    study: str | None = None,
    results_dir: Path | None = None,
    report: bool = True,
) -> WrittenResults:
    """Read a study back, rank it by its run file's ``rank:`` section and re-write its exports:
    ``trials.csv``, ``leaderboard.csv``, ``best.yaml`` and, unless ``report`` is False,
    ``report.html`` with its PNG plots.

    Args:
        target: a results folder holding ``study.db``, a SQLite file, or a storage URL.
        study: the study's name. Defaults to None: the storage must hold exactly one study.
        results_dir: where per-study folders go when ``target`` is a URL; the files are
            written to ``results_dir/<study name>``. Defaults to None (``results``). For a
            folder or a SQLite file, the files are written next to the database.
        report: also write ``report.html`` (see ``write_report``). Defaults to True.

    Returns:
        The files written and the ranked trials.

    Raises:
        ValueError: the storage or the study cannot be found, or the study's stored run file
            no longer loads.

    Example:
        >>> written = rewrite("results/digits")  # doctest: +SKIP
        >>> [path.name for path in written.files]  # doctest: +SKIP
        ['trials.csv', 'leaderboard.csv', 'best.yaml', 'report.html', 'accuracy_vs_seconds.png',
         'best_so_far.png']
    """
    url = storage_url(target)
    loaded = read_study(url, study)
    name = loaded.study_name
    database = None if is_url(target) else sqlite_path(url)
    if database is not None:  # a folder or a SQLite file: write next to study.db
        directory = database.parent
    elif not is_study_name(name):
        raise ValueError(f"study {name!r} cannot name a results folder: expected {STUDY_NAME_RULE}")
    else:
        directory = (results_dir if results_dir is not None else Path("results")) / name
    document = loaded.user_attrs.get(SPEC_ATTR)
    if not isinstance(document, Mapping):
        _logger.warning("study %r holds no run file: ranking with the default rank section", name)
        rank, best = RankSpec(), None
    else:
        try:
            spec = load_run_mapping(dict(document))
        except SpecError as error:
            message = f"the run file stored in study {name!r} no longer loads: {error}"
            raise ValueError(message) from None
        rank = spec.rank
        ranked = rank_trials(loaded.get_trials(deepcopy=False), rank)
        best = (
            fixed_run_file(spec, ranked[0].config, study=derived_study_name(name, "best"))
            if ranked
            else None
        )
    written = write_results(directory, loaded, rank, best_run_file=best)
    if report:
        written = replace(written, report=write_report(directory, loaded, rank))
    return written

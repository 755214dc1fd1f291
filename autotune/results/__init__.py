"""Ranking finished trials, leaderboards, exports, and reading a study back."""

from autotune.results._export import WrittenResults, write_results
from autotune.results._note import describe_rank, study_note
from autotune.results._ranking import RankedTrial, pareto_front, rank_trials, time_to_target
from autotune.results._report import WrittenReport, write_report
from autotune.results._rewrite import rewrite
from autotune.results._storage import open_storage, read_study, storage_url
from autotune.results._store_check import StoreError, check_storage
from autotune.results._studies import StudySummary, list_studies
from autotune.results._tables import leaderboard_table, trials_table

__all__ = [
    "RankedTrial",
    "StoreError",
    "StudySummary",
    "WrittenReport",
    "WrittenResults",
    "check_storage",
    "describe_rank",
    "leaderboard_table",
    "list_studies",
    "open_storage",
    "pareto_front",
    "rank_trials",
    "read_study",
    "rewrite",
    "storage_url",
    "study_note",
    "time_to_target",
    "trials_table",
    "write_report",
    "write_results",
]

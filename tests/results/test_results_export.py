"""write_results: the files a user opens after (and during) a run."""

from __future__ import annotations

import stat
import threading
import time

import pandas as pd
import pytest
from optuna.trial import TrialState

from autotune.results import rank_trials, write_results
from autotune.spec import RankSpec

BEST = "study: digits\ndata:\n  dataset: digits\nspace:\n  learning_rate: 0.001\n"


def _leftovers(directory) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.name.endswith(".tmp"))


def test_writes_csv_files_that_pandas_reads_back(tmp_path, study, add) -> None:
    add(0.90, 10.0)
    add(0.40, 3.0, state=TrialState.PRUNED, reason="below the median")
    add(0.95, 20.0, params={"learning_rate": 0.001, "optimizer": "sgd"})
    out = tmp_path / "results" / "digits"

    written = write_results(out, study, RankSpec(), best_run_file=BEST)

    trials = pd.read_csv(written.trials_csv)
    leaderboard = pd.read_csv(written.leaderboard_csv)
    assert written.trials_csv == out / "trials.csv"
    assert written.leaderboard_csv == out / "leaderboard.csv"
    assert trials["number"].tolist() == [0, 1, 2]
    assert trials["state"].tolist() == ["COMPLETE", "PRUNED", "COMPLETE"]
    assert trials["reason"].tolist()[1] == "pruned: below the median"
    # trial 0 learns faster, but 0.90 is under the auto floor 0.95 - 0.01
    assert leaderboard["trial"].tolist() == [2, 0]
    assert leaderboard["accuracy_per_second"].tolist() == pytest.approx([0.0475, 0.09])
    assert leaderboard["params_optimizer"].tolist() == ["sgd", "adam"]
    assert written.best_run_file == out / "best.yaml"
    assert written.best_run_file.read_text(encoding="utf-8") == BEST
    assert written.best is not None and written.best.number == 2
    assert written.ranked == rank_trials(study.get_trials(), RankSpec())
    assert _leftovers(out) == []


def test_files_are_readable_by_others(tmp_path, study, add) -> None:
    add(0.9, 10.0)

    written = write_results(tmp_path, study, RankSpec(), best_run_file=BEST)

    for path in (written.trials_csv, written.leaderboard_csv, written.best_run_file):
        assert path is not None
        assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044


def test_rewriting_reflects_new_trials_and_keeps_best_yaml_without_new_text(
    tmp_path, study, add
) -> None:
    add(0.90, 10.0)
    write_results(tmp_path, study, RankSpec(), best_run_file=BEST)
    add(0.91, 2.0)

    written = write_results(tmp_path, study, RankSpec(), best_run_file=None)

    assert pd.read_csv(written.trials_csv)["number"].tolist() == [0, 1]
    assert pd.read_csv(written.leaderboard_csv)["trial"].tolist() == [1, 0]
    assert written.best_run_file is None
    assert (tmp_path / "best.yaml").read_text(encoding="utf-8") == BEST
    assert _leftovers(tmp_path) == []


def test_no_best_yaml_without_run_file_text(tmp_path, study, add) -> None:
    add(None, 2.0, state=TrialState.FAIL, end="oom", reason="OOM")

    written = write_results(tmp_path, study, RankSpec(), best_run_file=None)

    assert not (tmp_path / "best.yaml").exists()
    assert written.ranked == [] and written.best is None
    assert pd.read_csv(written.leaderboard_csv).empty
    assert pd.read_csv(written.trials_csv)["reason"].tolist() == ["oom: OOM"]


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path, study, add) -> None:
    add(0.9, 10.0)
    write_results(tmp_path, study, RankSpec(), best_run_file=BEST)

    with pytest.raises(UnicodeEncodeError):
        write_results(tmp_path, study, RankSpec(), best_run_file="space: \ud800\n")

    assert (tmp_path / "best.yaml").read_text(encoding="utf-8") == BEST
    assert _leftovers(tmp_path) == []


def test_leaderboard_shows_the_test_accuracy_and_time_to_target(tmp_path, study, add) -> None:
    add(0.90, 10.0, curve=[(5.0, 0.8), (10.0, 0.9)])
    add(0.95, 20.0, curve=[(10.0, 0.85), (20.0, 0.95)])
    study.set_user_attr("autotune:test", {"trial": 1, "accuracy": 0.93})

    written = write_results(
        tmp_path, study, RankSpec(by="accuracy", target=0.99), best_run_file=None
    )

    table = pd.read_csv(written.leaderboard_csv)
    assert table["trial"].tolist() == [1, 0]
    assert table["test_accuracy"].tolist()[0] == 0.93
    assert pd.isna(table["test_accuracy"].tolist()[1])
    assert table["time_to_target"].isna().all()


def test_concurrent_writers_never_leave_a_broken_file(tmp_path, study, add) -> None:
    for i in range(20):
        add(0.5 + i / 100, 10.0 + i)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(5):
                write_results(tmp_path, study, RankSpec(), best_run_file=BEST)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(pd.read_csv(tmp_path / "leaderboard.csv")) == 20
    assert _leftovers(tmp_path) == []


def test_cheap_enough_to_rewrite_after_every_trial(tmp_path, study, add) -> None:
    for i in range(300):
        add(0.5 + i / 1000, 10.0 + i % 7, curve=[(float(j), 0.05 * j) for j in range(1, 11)])

    start = time.perf_counter()
    written = write_results(tmp_path, study, RankSpec(target=0.4), best_run_file=BEST)
    seconds = time.perf_counter() - start

    assert len(written.ranked) == 300
    assert seconds < 2.0

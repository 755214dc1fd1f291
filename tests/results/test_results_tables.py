"""trials_table and leaderboard_table: columns, states, reasons and which trials appear."""

from __future__ import annotations

import math

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from autotune.results import leaderboard_table, rank_trials, trials_table
from autotune.spec import RankSpec

MEASUREMENTS = [
    "accuracy",
    "wall_seconds",
    "train_seconds",
    "first_epoch_seconds",
    "examples_per_second",
    "epochs",
    "accuracy_per_second",
]


@pytest.fixture
def mixed(study, add):
    """A study with every kind of trial ending."""
    add(0.90, 10.0, params={"learning_rate": 0.01, "optimizer": "adam"})  # 0
    add(0.40, 3.0, state=TrialState.PRUNED, reason="below the median at epoch 1")  # 1
    add(None, 2.0, state=TrialState.FAIL, end="oom", reason="ResourceExhaustedError: OOM")  # 2
    add(None, 4.0, state=TrialState.FAIL, end="nan", reason="loss became NaN at epoch 2")  # 3
    add(0.95, 20.0, params={"learning_rate": 0.001, "optimizer": "sgd", "momentum": 0.9})  # 4
    return study


def test_trials_table_lists_every_trial_with_its_state_and_reason(mixed) -> None:
    table = trials_table(list(reversed(mixed.get_trials())))

    assert list(table.columns) == [
        "number",
        "state",
        "params_learning_rate",
        "params_momentum",
        "params_optimizer",
        *MEASUREMENTS,
        "reason",
    ]
    assert table["number"].tolist() == [0, 1, 2, 3, 4]
    assert table["state"].tolist() == ["COMPLETE", "PRUNED", "FAIL", "FAIL", "COMPLETE"]
    reasons = table["reason"].tolist()
    assert reasons[1] == "pruned: below the median at epoch 1"
    assert reasons[2] == "oom: ResourceExhaustedError: OOM"
    assert reasons[3] == "nan: loss became NaN at epoch 2"
    assert pd.isna(reasons[0]) and pd.isna(reasons[4])


def test_trials_table_shows_measurements_and_leaves_unused_params_empty(mixed) -> None:
    table = trials_table(mixed.get_trials()).set_index("number")

    assert table.loc[4, "accuracy"] == 0.95
    assert table.loc[4, "wall_seconds"] == 20.0
    assert table.loc[4, "accuracy_per_second"] == pytest.approx(0.95 / 20.0)
    assert table.loc[4, "params_momentum"] == 0.9
    assert pd.isna(table.loc[0, "params_momentum"])
    assert pd.isna(table.loc[2, "accuracy"])
    assert table.loc[2, "wall_seconds"] == 2.0


def test_trials_table_names_the_state_when_the_engine_recorded_no_reason(study) -> None:
    study.add_trial(optuna.trial.create_trial(state=TrialState.FAIL, params={}, distributions={}))
    study.ask()  # still running

    table = trials_table(study.get_trials())

    assert table["state"].tolist() == ["FAIL", "RUNNING"]
    assert table["reason"].tolist()[0] == "fail"
    assert pd.isna(table["reason"].tolist()[1])


def test_trials_table_of_no_trials_still_has_its_columns() -> None:
    table = trials_table([])

    assert table.empty
    assert list(table.columns) == ["number", "state", *MEASUREMENTS, "reason"]


def test_leaderboard_holds_only_completed_trials_best_first(mixed) -> None:
    table = leaderboard_table(rank_trials(mixed.get_trials(), RankSpec(by="accuracy")))

    assert list(table.columns) == [
        "rank",
        "trial",
        "accuracy",
        "wall_seconds",
        "accuracy_per_second",
        "pareto",
        "partial",
        "params_learning_rate",
        "params_momentum",
        "params_optimizer",
    ]
    assert table["trial"].tolist() == [4, 0]
    assert table["rank"].tolist() == [1, 2]
    assert table["pareto"].tolist() == [True, True]
    assert table["params_optimizer"].tolist() == ["sgd", "adam"]


def test_leaderboard_shows_the_test_accuracy_of_the_tested_trial_only(mixed) -> None:
    ranked = rank_trials(mixed.get_trials(), RankSpec(by="accuracy"))

    table = leaderboard_table(ranked, test={"trial": 4, "accuracy": 0.93})

    assert list(table.columns)[7] == "test_accuracy"
    assert table.set_index("trial")["test_accuracy"].to_dict()[4] == 0.93
    assert math.isnan(table.set_index("trial")["test_accuracy"].astype(float).to_dict()[0])


def test_leaderboard_shows_time_to_target_when_a_target_is_set(study, add) -> None:
    add(0.95, 40.0, curve=[(20.0, 0.85), (40.0, 0.95)])
    add(0.80, 10.0, curve=[(10.0, 0.80)])
    ranked = rank_trials(study.get_trials(), RankSpec(by="time_to_target", target=0.9))

    shown = leaderboard_table(ranked)
    nobody_reached = leaderboard_table(
        rank_trials(study.get_trials(), RankSpec(target=0.99)), time_to_target=True
    )
    hidden = leaderboard_table(rank_trials(study.get_trials(), RankSpec()))

    assert list(shown.columns)[7] == "time_to_target"
    assert shown["time_to_target"].tolist()[0] == 40.0
    assert "time_to_target" in nobody_reached.columns
    assert "time_to_target" not in hidden.columns

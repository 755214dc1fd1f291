"""rank_trials: each ranking rule, the accuracy floor, ties, time to target and the Pareto flag."""

from __future__ import annotations

import pytest
from optuna.trial import TrialState

from autotune.results import rank_trials
from autotune.spec import RankSpec


def _numbers(ranked: list) -> list[int]:
    return [entry.number for entry in ranked]


def test_auto_floor_puts_fast_learners_above_it_first(study, add) -> None:
    add(0.95, 100.0)  # 0: the most accurate, slow
    add(0.945, 20.0)  # 1: within tolerance, fast
    add(0.90, 5.0)  # 2: fastest of all, but under the floor
    add(0.94, 50.0)  # 3: exactly at the floor 0.95 - 0.01
    add(0.80, 1.0)  # 4: far under the floor

    ranked = rank_trials(study.get_trials(), RankSpec(by="accuracy_per_second", tolerance=0.01))

    assert _numbers(ranked) == [1, 3, 0, 2, 4]
    assert [entry.rank for entry in ranked] == [1, 2, 3, 4, 5]
    assert [entry.above_floor for entry in ranked] == [True, True, True, False, False]
    assert ranked[0].accuracy_per_second == pytest.approx(0.945 / 20.0)
    assert ranked[0].wall_seconds == 20.0


def test_explicit_min_accuracy_replaces_the_auto_floor(study, add) -> None:
    add(0.95, 100.0)
    add(0.945, 20.0)
    add(0.90, 5.0)
    add(0.80, 1.0)

    ranked = rank_trials(study.get_trials(), RankSpec(min_accuracy=0.85))

    assert _numbers(ranked) == [2, 1, 0, 3]
    assert [entry.above_floor for entry in ranked] == [True, True, True, False]


def test_a_floor_above_every_trial_ranks_by_accuracy(study, add) -> None:
    add(0.70, 1.0)
    add(0.90, 100.0)
    add(0.80, 10.0)

    ranked = rank_trials(study.get_trials(), RankSpec(min_accuracy=0.99))

    assert _numbers(ranked) == [1, 2, 0]
    assert not any(entry.above_floor for entry in ranked)


def test_a_trial_exactly_at_the_auto_floor_is_above_it(study, add) -> None:
    add(0.52, 100.0)
    add(0.48, 10.0)  # 0.52 - 0.04 is 0.48000000000000004 in floating point

    ranked = rank_trials(study.get_trials(), RankSpec(tolerance=0.04))

    assert _numbers(ranked) == [1, 0]
    assert all(entry.above_floor for entry in ranked)


def test_zero_tolerance_keeps_only_the_most_accurate_above_the_floor(study, add) -> None:
    add(0.90, 100.0)
    add(0.899, 1.0)

    ranked = rank_trials(study.get_trials(), RankSpec(tolerance=0.0))

    assert _numbers(ranked) == [0, 1]
    assert [entry.above_floor for entry in ranked] == [True, False]


def test_ties_go_to_the_lower_trial_number(study, add) -> None:
    for _ in range(3):
        add(0.9, 10.0)
    add(0.5, 10.0)
    add(0.5, 10.0)

    for by in ("accuracy_per_second", "accuracy"):
        assert _numbers(rank_trials(study.get_trials(), RankSpec(by=by))) == [0, 1, 2, 3, 4]


def test_by_accuracy_breaks_accuracy_ties_by_wall_seconds(study, add) -> None:
    add(0.90, 5.0)
    add(0.95, 50.0)
    add(0.95, 30.0)
    add(0.97, 500.0)

    ranked = rank_trials(study.get_trials(), RankSpec(by="accuracy"))

    assert _numbers(ranked) == [3, 2, 1, 0]


def test_by_time_to_target_uses_the_first_curve_point_at_the_target(study, add) -> None:
    add(0.96, 40.0, curve=[(10.0, 0.80), (20.0, 0.92), (40.0, 0.96)])  # 0: reaches at 20 s
    add(0.93, 15.0, curve=[(5.0, 0.85), (15.0, 0.90)])  # 1: reaches exactly at 15 s
    add(0.99, 90.0, curve=[(30.0, 0.5), (60.0, 0.95), (90.0, 0.99)])  # 2: at 60 s
    add(0.89, 8.0, curve=[(4.0, 0.7), (8.0, 0.89)])  # 3: never
    add(0.91, 30.0, curve=[(15.0, 0.88), (30.0, 0.91)])  # 4: at 30 s
    add(0.95, 9.0, curve=[(3.0, 0.6), (9.0, 0.95)])  # 5: at 9 s
    add(0.60, 2.0, curve=[(2.0, 0.60)])  # 6: never

    ranked = rank_trials(study.get_trials(), RankSpec(by="time_to_target", target=0.9))

    assert _numbers(ranked) == [5, 1, 0, 4, 2, 3, 6]
    assert [entry.time_to_target for entry in ranked] == [9.0, 15.0, 20.0, 30.0, 60.0, None, None]


def test_time_to_target_ties_go_to_the_lower_trial_number(study, add) -> None:
    add(0.91, 20.0, curve=[(10.0, 0.91), (20.0, 0.91)])
    add(0.99, 20.0, curve=[(10.0, 0.95), (20.0, 0.99)])

    ranked = rank_trials(study.get_trials(), RankSpec(by="time_to_target", target=0.9))

    assert _numbers(ranked) == [0, 1]


def test_time_to_target_is_filled_only_when_a_target_is_set(study, add) -> None:
    add(0.95, 40.0, curve=[(20.0, 0.85), (40.0, 0.95)])

    without = rank_trials(study.get_trials(), RankSpec(by="accuracy"))
    with_target = rank_trials(study.get_trials(), RankSpec(by="accuracy", target=0.9))

    assert without[0].time_to_target is None
    assert with_target[0].time_to_target == 40.0


def test_a_trial_without_a_curve_reaches_the_target_at_its_end(study, add) -> None:
    add(0.95, 40.0, curve=None)
    add(0.85, 4.0, curve=None)

    ranked = rank_trials(study.get_trials(), RankSpec(by="time_to_target", target=0.9))

    assert [(entry.number, entry.time_to_target) for entry in ranked] == [(0, 40.0), (1, None)]


def test_only_completed_trials_with_an_accuracy_are_ranked(study, add) -> None:
    add(0.90, 10.0)  # 0
    add(0.99, 1.0, state=TrialState.PRUNED)  # 1
    add(None, 3.0, state=TrialState.FAIL, end="oom", reason="ResourceExhaustedError")  # 2
    add(None, 3.0, end="nan")  # 3: complete but no accuracy
    add(float("nan"), 3.0)  # 4: NaN accuracy
    add(0.80, 10.0)  # 5
    study.ask()  # 6: still running

    ranked = rank_trials(study.get_trials(), RankSpec())

    assert _numbers(ranked) == [0, 5]


def test_pareto_flags_the_accuracy_time_front(study, add) -> None:
    add(0.95, 100.0)  # 0: most accurate
    add(0.90, 10.0)  # 1: fastest
    add(0.92, 50.0)  # 2: in between, on the front
    add(0.91, 60.0)  # 3: dominated by 2
    add(0.90, 20.0)  # 4: dominated by 1

    ranked = rank_trials(study.get_trials(), RankSpec(by="accuracy"))

    assert {entry.number: entry.pareto for entry in ranked} == {
        0: True,
        1: True,
        2: True,
        3: False,
        4: False,
    }


def test_ranked_trials_carry_params_and_the_full_config(study, add) -> None:
    add(0.9, 10.0, params={"learning_rate": 0.003, "optimizer": "sgd"})

    (entry,) = rank_trials(study.get_trials(), RankSpec())

    assert entry.params == {"learning_rate": 0.003, "optimizer": "sgd"}
    assert entry.config == {
        "learning_rate": 0.003,
        "optimizer": "sgd",
        "epochs": 2,
        "batch_size": 64,
    }


def test_ranking_is_independent_of_the_input_order(study, add) -> None:
    for accuracy, seconds in [(0.9, 10.0), (0.95, 40.0), (0.93, 12.0), (0.7, 1.0)]:
        add(accuracy, seconds)
    trials = study.get_trials()

    forward = rank_trials(trials, RankSpec())
    backward = rank_trials(list(reversed(trials)), RankSpec())

    assert forward == backward


def test_no_completed_trials_rank_to_an_empty_list(study, add) -> None:
    add(None, 3.0, state=TrialState.FAIL)

    assert rank_trials(study.get_trials(), RankSpec()) == []
    assert rank_trials([], RankSpec(by="time_to_target", target=0.5)) == []

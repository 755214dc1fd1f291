"""The budget planner and the worker recycling rule (plain functions)."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from autotune.engine.study._planner import can_start, expected_seconds
from autotune.engine.workers._process import should_recycle, successor_due
from autotune.engine.workers._spawn import sampler_seed


def _trial(state: TrialState, *first_reports: float) -> optuna.trial.FrozenTrial:
    value = 0.9 if state == TrialState.COMPLETE else None
    curve = [[seconds, 0.5] for seconds in first_reports]
    return optuna.trial.create_trial(state=state, value=value, user_attrs={"curve": curve})


def test_one_slow_configuration_does_not_stop_the_study() -> None:
    # seed 2 of issue 14: the first (random) trial took 79 s, and the planner refused to start
    # any other with 69 s left; a fast configuration reports within seconds
    slow = _trial(TrialState.COMPLETE, 40.0, 79.0)
    assert expected_seconds([slow]) == 40.0
    assert can_start(69.0, expected_seconds([slow]))
    trials = [slow, _trial(TrialState.PRUNED, 3.5), _trial(TrialState.COMPLETE, 6.0, 12.0)]
    assert expected_seconds(trials) == 3.5
    assert not can_start(3.0, expected_seconds(trials))
    # nothing reported yet (a failed trial has no curve): the next trial starts
    assert expected_seconds([_trial(TrialState.FAIL)]) is None


def test_an_objective_that_never_reports_counts_with_its_whole_time() -> None:
    # the deadline cannot stop it, so a trial starts only if a whole one fits
    silent = optuna.trial.create_trial(value=0.9, user_attrs={"wall_seconds": 30.0})
    assert expected_seconds([silent]) == 30.0
    assert not can_start(20.0, expected_seconds([silent]))


def test_no_trial_starts_that_cannot_finish() -> None:
    assert can_start(None, 100.0)  # no budget
    assert can_start(5.0, None)  # nothing finished yet: the first trials always start
    assert can_start(30.0, 12.0)
    assert not can_start(11.0, 12.0)
    assert not can_start(0.0, None)


def test_workers_recycle_on_trial_count_or_rss() -> None:
    assert should_recycle(49, 500.0, max_trials=50, rss_limit_mib=None) is None
    assert "max_trials_per_worker" in str(
        should_recycle(50, 500.0, max_trials=50, rss_limit_mib=None)
    )
    assert "worker_rss_limit" in str(should_recycle(1, 2049.0, max_trials=50, rss_limit_mib=2048.0))
    assert should_recycle(1, 2047.0, max_trials=50, rss_limit_mib=2048.0) is None


def test_worker_sampler_seeds_differ_per_worker_replacement_and_resume() -> None:
    seeds = {sampler_seed(0, w, g, e) for w in (1, 2) for g in (0, 1) for e in (0, 6)}
    assert len(seeds) == 8
    assert sampler_seed(3, 1, 0, 0) == sampler_seed(3, 1, 0, 0)


def test_a_successor_starts_when_the_trials_left_take_about_two_start_ups() -> None:
    # 0.1 s trials, 4 s to start a worker: due once at most 80 trials are left (this one too).
    due = [
        successor_due(n, max_trials=100, trial_seconds=0.1, startup_seconds=4.0)
        for n in (20, 21, 22)
    ]
    assert due == [False, True, True]
    # Long trials: only at the last one; unknown length: only at the last one.
    assert not successor_due(49, max_trials=50, trial_seconds=60.0, startup_seconds=4.0)
    assert successor_due(50, max_trials=50, trial_seconds=60.0, startup_seconds=4.0)
    assert not successor_due(2, max_trials=3, trial_seconds=None, startup_seconds=4.0)
    assert successor_due(3, max_trials=3, trial_seconds=None, startup_seconds=4.0)

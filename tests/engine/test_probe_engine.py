"""The throughput probe inside a study: cached in the study, and trials it rules out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import optuna

from autotune.engine import RunOptions, run
from autotune.spec import load_run_file

FIXED = {
    "depth": 1,
    "width": 8,
    "batch_size": 32,
    "learning_rate": 0.01,
    "optimizer": "adam",
    "momentum": 0.0,
}


def _trials(report) -> list[optuna.trial.FrozenTrial]:  # type: ignore[no-untyped-def]
    study = optuna.load_study(study_name=report.study, storage=report.storage)
    return sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)


def test_each_probe_runs_once_per_study_and_survives_a_resume(
    run_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = run_file(space=FIXED, train={"epochs": 1, "probe": {"steps": 20}})
    options = RunOptions(results_dir=tmp_path / "results", trials=2)

    first = run(load_run_file(path), options)
    resumed = run(load_run_file(path), dataclasses.replace(options, trials=3))

    trials = _trials(resumed)
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3
    assert [t.user_attrs["probe_cached"] for t in trials] == [False, True, True]
    assert trials[0].user_attrs["probe_examples_per_second"] > 0
    assert trials[0].user_attrs["probe_seconds"] > 0
    assert trials[2].user_attrs["probe_seconds"] == 0.0
    study = optuna.load_study(study_name=first.study, storage=first.storage)
    stored = [key for key in study.user_attrs if key.startswith("probe/")]
    assert len(stored) == 1  # one model shape, one batch size, one set of knobs
    assert 'steps_per_execution="auto"' in stored[0]


def test_a_stored_oom_probe_ends_the_trial_as_oom_before_training(
    run_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = run_file(space=FIXED, train={"epochs": 1, "probe": True})
    options = RunOptions(results_dir=tmp_path / "results", trials=1)
    report = run(load_run_file(path), options)
    study = optuna.load_study(study_name=report.study, storage=report.storage)
    (key,) = [k for k in study.user_attrs if k.startswith("probe/")]
    # another worker of the study probed this configuration and ran out of memory
    study.set_user_attr(key, {**study.user_attrs[key], "end": "oom", "reason": "out of memory"})

    trials = _trials(run(load_run_file(path), dataclasses.replace(options, trials=2)))

    last = trials[-1]
    assert last.state == optuna.trial.TrialState.PRUNED
    assert last.user_attrs["end"] == "oom"
    assert last.user_attrs["epochs"] == 0  # no training time spent
    assert last.constraints == {"oom": 1.0}


def test_knobs_far_slower_than_a_probed_rival_are_skipped(
    run_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = run_file(
        space={**FIXED, "prefetch": [-1, 1]},
        train={"epochs": 1, "probe": {"steps": 20}},
        search={"start_with": [{"prefetch": -1}, {"prefetch": 1}]},
    )
    options = RunOptions(results_dir=tmp_path / "results", trials=1)
    report = run(load_run_file(path), options)
    study = optuna.load_study(study_name=report.study, storage=report.storage)
    (key,) = [k for k in study.user_attrs if k.startswith("probe/")]
    # the same model and batch size, probed with other knobs at an unreachable speed
    rival = {**study.user_attrs[key], "examples_per_second": 1e12, "knobs": "prefetch=7"}
    study.set_user_attr(key.replace("prefetch=-1", "prefetch=7"), rival)

    trials = _trials(run(load_run_file(path), dataclasses.replace(options, trials=2)))

    last = trials[-1]
    assert last.params["prefetch"] == 1  # a new probe, which the rival outruns
    assert last.state == optuna.trial.TrialState.PRUNED
    assert last.user_attrs["end"] == "slow"
    assert "prefetch=7" in last.user_attrs["reason"]
    assert last.user_attrs["epochs"] == 0


def test_a_trial_whose_probed_speed_cannot_finish_in_the_budget_is_skipped(
    run_file: Callable[..., Path], tmp_path: Path
) -> None:
    # 10000 epochs of 300 examples in batches of 32 (3 million examples, one step at a time)
    # need far more than the 20 s budget; the probe says so before any epoch is spent
    path = run_file(space=FIXED, train={"epochs": 10_000, "probe": {"steps": 20}})

    report = run(
        load_run_file(path), RunOptions(results_dir=tmp_path / "results", trials=1, budget=20)
    )

    (trial,) = _trials(report)
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.user_attrs["end"] == "slow"
    assert "of the budget are left" in trial.user_attrs["reason"]

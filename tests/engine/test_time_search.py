"""A plain run file gets time-aware search: defaults first, seconds-based pruning, nothing
the budget cut thrown away, and best.yaml retraining exactly its trial."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import optuna
import pandas as pd
import pytest
import yaml

from autotune.engine import RunOptions, run
from autotune.engine.study._study import make_pruner
from autotune.pruners import CURVE_ATTR, TimeASHAPruner
from autotune.spec import fixed_run_file, load_run_file, space_of

pytestmark = pytest.mark.slow


def _run(path: Path, tmp_path: Path, **options: object) -> tuple[optuna.Study, Path]:
    report = run(load_run_file(path), RunOptions(results_dir=tmp_path / "out", **options))  # type: ignore[arg-type]
    study = optuna.load_study(study_name=report.study, storage=report.storage)
    return study, report.directory


def test_the_first_trial_is_the_space_default_configuration(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(search={"trials": 2})
    study, _ = _run(path, tmp_path)
    expected = space_of(load_run_file(path)).default_point()
    assert study.trials[0].params == expected
    assert expected["optimizer"] == "adam" and expected["width"] == 16  # nearest to 32
    config = study.trials[0].user_attrs["config"]
    assert config["steps_per_execution"] == "auto"
    assert config["lr_schedule"] == "cosine"  # the catalogue's default learning-rate schedule


def test_a_budget_makes_seconds_the_resource_and_the_planner_starts_fast_trials(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(search={"pruner": None, "trials": 6, "budget": "2m"})
    spec = load_run_file(path)
    pruner = make_pruner(spec)
    assert isinstance(pruner, TimeASHAPruner) and pruner.rung_seconds(0) == 2.4
    study, _ = _run(path, tmp_path)
    assert len(study.trials) == 6
    for trial in study.trials:
        assert trial.system_attrs[CURVE_ATTR], trial.number  # every epoch reported
        assert trial.intermediate_values  # and shown in Optuna Dashboard


def test_a_budget_given_on_the_command_line_also_makes_seconds_the_resource(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(search={"pruner": None, "trials": 2})
    study, _ = _run(path, tmp_path, budget=120.0)
    assert all(trial.system_attrs.get(CURVE_ATTR) for trial in study.trials)


def test_a_trial_the_budget_stops_is_ranked_as_partial_with_its_model(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    # one trial far longer than the budget: before, it was PRUNED and the study had no result
    path = run_file(train={"epochs": 10000}, search={"trials": 3, "budget": "12s"})
    study, folder = _run(path, tmp_path)
    first = study.trials[0]
    assert first.state == optuna.trial.TrialState.COMPLETE
    assert first.user_attrs["end"] == "deadline" and first.user_attrs["partial"] is True
    assert first.value == first.user_attrs["accuracy"] > 0
    board = pd.read_csv(folder / "leaderboard.csv")
    assert board["trial"].iloc[0] == 0 and bool(board["partial"].iloc[0])
    assert (folder / "best_model.keras").is_file()
    best = yaml.safe_load((folder / "best.yaml").read_text())
    assert best["train"]["trial_seed"] == first.user_attrs["seed"]


def test_best_yaml_retrains_its_trial_to_the_same_validation_accuracy(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(seed=3, search={"trials": 3}, rank={"by": "accuracy"})
    study, folder = _run(path, tmp_path)
    spec = load_run_file(path)
    # a trial other than the first: its seed differs from the run's (3 + its number)
    trial = study.trials[2]
    assert trial.user_attrs["seed"] == 5
    copy = tmp_path / "trial2.yaml"
    copy.write_text(
        fixed_run_file(spec, trial.params, study="again", trial_seed=trial.user_attrs["seed"])
    )
    again, _ = _run(copy, tmp_path)
    assert again.trials[0].user_attrs["seed"] == 5
    assert again.trials[0].user_attrs["accuracy"] == trial.user_attrs["accuracy"]
    # and the best.yaml the run wrote, whichever trial won
    top = pd.read_csv(folder / "leaderboard.csv")["trial"].iloc[0]
    rerun, _ = _run(folder / "best.yaml", tmp_path)
    assert rerun.trials[0].user_attrs["accuracy"] == study.trials[top].user_attrs["accuracy"]


def test_pareto_studies_are_pruned_at_equal_seconds(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(
        train={"epochs": 4},
        search={
            "objective": "pareto",
            "pruner": "asha",
            "pruner_options": {"min_seconds": 0.05, "reduction_factor": 2},
            "trials": 8,
        },
    )
    study, folder = _run(path, tmp_path)
    assert len(study.directions) == 2
    states = {t.state for t in study.trials}
    assert states <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    # how many trials meet at a rung depends on this machine's speed at that moment; what
    # does not: some are pruned, each by a rung its Dashboard attribute names
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned and all(t.user_attrs["end"] == "pruned" for t in pruned)
    assert all(
        any(" pruned, place " in verdict for verdict in t.user_attrs["rungs"].values())
        for t in pruned
    )
    costs = [point[2] for t in study.trials for point in t.system_attrs[CURVE_ATTR]]
    assert all(cost is not None and cost > 0 for cost in costs)  # projected seconds
    assert (folder / "leaderboard.csv").is_file()

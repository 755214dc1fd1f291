"""`autotune run` end to end: results written, resume, refusals, kills and Ctrl-C."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import keras
import optuna
import pandas as pd
import pytest
import yaml

from autotune.spec import load_run_file, space_of
from tests.engine.conftest import autotune_cli, start_cli, wait_for_running_trial

pytestmark = pytest.mark.slow


def _study(db: Path, name: str = "tiny") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{db}")


def test_run_writes_every_result_and_best_yaml_runs_again(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file()
    done = autotune_cli("run", str(path), "--results-dir", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    folder = tmp_path / "out" / "tiny"
    for name in ("study.db", "trials.csv", "leaderboard.csv", "best.yaml", "best_model.keras"):
        assert (folder / name).is_file(), name
    assert "leaderboard" in done.stdout and "Traceback" not in done.stderr

    trials = pd.read_csv(folder / "trials.csv")
    assert list(trials["number"]) == [0, 1, 2]
    for column in (
        "state",
        "params_width",
        "accuracy",
        "wall_seconds",
        "train_seconds",
        "first_epoch_seconds",
        "examples_per_second",
        "epochs",
        "accuracy_per_second",
        "reason",
    ):
        assert column in trials.columns, column
    board = pd.read_csv(folder / "leaderboard.csv")
    complete = trials[trials["state"] == "COMPLETE"]
    assert len(board) == len(complete) > 0
    assert list(board["rank"]) == list(range(1, len(board) + 1))
    assert "test_accuracy" in board.columns and 0 < board["test_accuracy"].iloc[0] <= 1

    study = _study(folder / "study.db")
    assert study.metric_names == ["accuracy"]
    best_trial = study.trials[int(board["trial"].iloc[0])]
    model = keras.models.load_model(folder / "best_model.keras")
    assert model.count_params() > 0
    assert len(model.layers) >= 1 + best_trial.user_attrs["config"]["depth"]

    best = load_run_file(folder / "best.yaml")
    assert space_of(best).searched() == []
    assert best.search.trials == 1 and best.study == "tiny-best"
    again = autotune_cli("run", str(folder / "best.yaml"), "--results-dir", "out", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    rerun = _study(tmp_path / "out" / "tiny-best" / "study.db", "tiny-best").trials[0]
    assert rerun.user_attrs["config"] == best_trial.user_attrs["config"]


def test_rerun_resumes_and_trials_is_a_study_wide_total(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file()
    first = autotune_cli("run", str(path), "--trials", "2", "--results-dir", "out", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    db = tmp_path / "out" / "tiny" / "study.db"
    before = {t.number: t.params for t in _study(db).trials}
    second = autotune_cli("run", str(path), "--trials", "3", "--results-dir", "out", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    after = _study(db).trials
    assert len(after) == 3
    assert {t.number: t.params for t in after[:2]} == before
    third = autotune_cli("run", str(path), "--trials", "3", "--results-dir", "out", cwd=tmp_path)
    assert third.returncode == 0 and len(_study(db).trials) == 3


def test_a_changed_space_is_refused_not_merged(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file()
    assert (
        autotune_cli(
            "run", str(path), "--trials", "1", "--results-dir", "out", cwd=tmp_path
        ).returncode
        == 0
    )
    changed = run_file(space={"width": [8, 16, 32]})
    refused = autotune_cli("run", str(changed), "--results-dir", "out", cwd=tmp_path)
    assert refused.returncode == 2
    assert "width" in refused.stderr and "different space" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(_study(tmp_path / "out" / "tiny" / "study.db").trials) == 1


def test_killed_run_leaves_an_abandoned_trial_that_does_not_count(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(train={"epochs": 400}, search={"trials": 2})
    db = tmp_path / "out" / "tiny" / "study.db"
    process = start_cli("run", str(path), "--results-dir", "out", cwd=tmp_path)
    try:
        number = wait_for_running_trial(db)
    finally:
        process.kill()
        process.wait(timeout=30)
    short = run_file(train={"epochs": 400}, search={"trials": 2, "budget": "4s"})
    resumed = autotune_cli("run", str(short), "--results-dir", "out", "--trials", "2", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    trials = _study(db).trials
    killed = trials[number]
    assert killed.state == optuna.trial.TrialState.FAIL
    assert killed.user_attrs["end"] == "abandoned"
    # The budget stopped the next trial: a deadline, kept as a partial result.
    ran = [t for t in trials if t.state != optuna.trial.TrialState.WAITING]
    assert ran[-1].user_attrs["end"] == "deadline"
    assert ran[-1].state == optuna.trial.TrialState.COMPLETE
    assert ran[-1].user_attrs["partial"] is True
    # The slot of the abandoned trial is reserved again and waits for the next run.
    assert [t.state for t in trials[len(ran) :]] == [optuna.trial.TrialState.WAITING]
    rows = pd.read_csv(tmp_path / "out" / "tiny" / "trials.csv")
    assert "abandoned" in " ".join(rows["reason"].astype(str))


def test_ctrl_c_records_the_running_trial_writes_results_and_exits_130(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(train={"epochs": 400})
    db = tmp_path / "out" / "tiny" / "study.db"
    process = start_cli("run", str(path), "--results-dir", "out", cwd=tmp_path)
    number = wait_for_running_trial(db)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, (_, stderr)
    trial = _study(db).trials[number]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.user_attrs["end"] == "interrupted"
    assert (tmp_path / "out" / "tiny" / "trials.csv").is_file()


def test_validate_prints_the_resolved_space(tmp_path: Path, run_file: Callable[..., Path]) -> None:
    done = autotune_cli("validate", str(run_file()), cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    for name in ("depth", "width", "momentum", "learning_rate", "batch_size", "normalization"):
        assert name in done.stdout
    assert not (tmp_path / "results").exists()


def test_report_rewrites_exports_from_the_storage(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file()
    assert (
        autotune_cli(
            "run", str(path), "--trials", "2", "--results-dir", "out", cwd=tmp_path
        ).returncode
        == 0
    )
    folder = tmp_path / "out" / "tiny"
    assert (folder / "report.html").is_file()  # written at the end of the run too
    for name in ("leaderboard.csv", "best.yaml", "report.html", "accuracy_vs_seconds.png"):
        (folder / name).unlink()
    done = autotune_cli("report", str(folder), cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (folder / "leaderboard.csv").is_file() and (folder / "best.yaml").is_file()
    assert (folder / "report.html").is_file() and (folder / "accuracy_vs_seconds.png").is_file()
    assert f"wrote {folder / 'report.html'}" in done.stdout
    assert yaml.safe_load((folder / "best.yaml").read_text())["study"] == "tiny-best"


def test_a_run_that_ends_while_another_runs_the_same_study_says_the_study_is_not_done(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(
        data={"train_size": 1000, "test": False},
        train={"epochs": 10_000, "steps_per_execution": 1},
        search={"trials": 2, "budget": "120s"},
    )
    db = tmp_path / "out" / "tiny" / "study.db"
    first = start_cli("run", str(path), "--results-dir", "out", cwd=tmp_path)
    try:
        wait_for_running_trial(db)
        second = autotune_cli(
            "run", str(path), "--results-dir", "out", "--budget", "6", cwd=tmp_path
        )
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=60)
    assert second.returncode == 0, second.stderr
    out = " ".join(second.stdout.split())  # rich may wrap
    assert "this run is done: 1/2 trials in study 'tiny'" in out, out
    assert "1 trial is still running in another process or machine" in out

"""Budgets hold for objectives that never report (issue 15): stopped where autotune owns the
process, recorded (``deadline`` + ``overrun_seconds``) and said in the caller's process."""

from __future__ import annotations

import logging
import textwrap
import time
from pathlib import Path

import optuna
import pytest
import yaml

import autotune as at
from autotune.engine import RunOptions
from autotune.engine.trial._overrun import OVERRUN_MARGIN

SLEEPER = """
import time


def objective(config, ctx):
    time.sleep(60)  # never calls ctx.report: autotune cannot tell it the budget ended
    return {"accuracy": 0.5}
"""


@pytest.mark.slow
def test_a_run_file_objective_that_never_reports_is_stopped_at_the_budget_plus_the_margin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sleeper.py").write_text(textwrap.dedent(SLEEPER))
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "run.yaml"
    document = {
        "data": {"dataset": "digits", "train_size": 200, "validation_size": 100, "test": False},
        "custom_objective": "sleeper:objective",
        "space": {"x": {"low": 0.0, "high": 1.0}},
        "search": {"sampler": "random", "trials": 4, "budget": "8s"},
    }
    path.write_text(yaml.safe_dump(document))
    started = time.perf_counter()
    report = at.run(at.load_run_file(path), RunOptions(results_dir=tmp_path / "out"))
    seconds = time.perf_counter() - started
    assert seconds < 8 + OVERRUN_MARGIN + 10, seconds  # not the objective's 60 s
    trials = optuna.load_study(study_name="run", storage=report.storage).trials
    trials = [t for t in trials if t.state != optuna.trial.TrialState.WAITING]  # not reserved
    assert len(trials) == 1, "no further trial starts after an overrun"
    (trial,) = trials
    assert trial.user_attrs["end"] == "deadline"
    assert trial.user_attrs["overrun_seconds"] >= OVERRUN_MARGIN
    assert "ctx.report" in trial.user_attrs["reason"]
    assert trial.state == optuna.trial.TrialState.PRUNED  # no accuracy to keep


def test_the_python_api_records_an_overrun_and_says_it_in_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seconds = 5 + OVERRUN_MARGIN + 2.0  # a budget a loaded machine still starts a trial in

    @at.objective
    def slow(config: at.TrialConfig, ctx: at.TrialContext) -> float:
        time.sleep(seconds)  # never reports
        return 0.75

    with caplog.at_level(logging.WARNING, logger="autotune"):
        study = at.tune(
            at.Space(x=at.Float(0.0, 1.0)),
            objective=slow,
            trials=3,
            budget="5s",
            results_dir=tmp_path,
        )
    trials = [t for t in study.optuna.trials if t.state != optuna.trial.TrialState.WAITING]
    assert len(trials) == 1, "no further trial starts after an overrun"
    attrs = trials[0].user_attrs
    assert attrs["end"] == "deadline" and attrs["overrun_seconds"] >= OVERRUN_MARGIN
    assert trials[0].state == optuna.trial.TrialState.COMPLETE and attrs["partial"] is True
    assert trials[0].value == 0.75  # what it found is kept
    warnings = [
        r.getMessage() for r in caplog.records if "after the budget ended" in r.getMessage()
    ]
    assert len(warnings) == 1 and "ctx.report" in warnings[0]

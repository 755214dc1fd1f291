"""`autotune studies`: one row per study in a storage, by state, with the best trial."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from autotune.cli import main
from autotune.results import list_studies


def test_studies_lists_each_study_by_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    single = optuna.create_study(study_name="single", storage=url, direction="maximize")
    single.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    single.enqueue_trial({"x": 0.5})
    failed = single.ask()
    failed.set_user_attr("end", "worker_died")
    single.tell(failed, state=optuna.trial.TrialState.FAIL)
    pareto = optuna.create_study(
        study_name="pareto", storage=url, directions=["maximize", "minimize"]
    )
    pareto.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), 4)

    rows = {row.name: row for row in list_studies(tmp_path)}
    assert list(rows) == ["pareto", "single"]
    assert rows["single"].states == {"COMPLETE": 3, "FAIL": 1}
    assert rows["single"].counted == 3  # lost with its worker: not counted
    assert rows["single"].best_number == single.best_trial.number
    assert rows["pareto"].directions == ("maximize", "minimize")
    assert rows["pareto"].pareto_size == len(pareto.best_trials)

    assert main(["studies", url]) == 0
    out = capsys.readouterr().out
    assert "single" in out and "pareto" in out and "Pareto: " in out and "max,min" in out


def test_studies_of_a_missing_file_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["studies", str(tmp_path / "nothing.db")]) == 2
    assert "no such results folder" in capsys.readouterr().err

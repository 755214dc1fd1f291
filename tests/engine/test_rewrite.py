"""Result files are rewritten when the top trial changes, when due, and at the end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import optuna

from autotune.engine.output._refresh import Rewriter
from autotune.spec import fixed_run_file, load_run_file

CONFIG = {"depth": 1, "width": 8, "optimizer": "adam", "learning_rate": 0.001, "batch_size": 32}


def _study_with(accuracies: list[float]) -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    for accuracy in accuracies:
        _study_add(study, accuracy)
    return study


def test_files_follow_the_top_trial_at_once_and_the_rest_when_due(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    spec = load_run_file(run_file())
    study = _study_with([0.5])
    out = tmp_path / "out"
    out.mkdir()
    rewriter = Rewriter(out, study, spec, "tiny", fixed_run_file, interval=3600.0)
    rewriter.after_trial(rewriter.ranked())  # the first top trial: written
    table = out / "trials.csv"
    assert table.read_text().count("\n") == 2  # header + 1 trial

    _study_add(study, 0.4)  # not a new top, not due: the files wait
    rewriter.after_trial(rewriter.ranked())
    assert table.read_text().count("\n") == 2 and rewriter.pending

    _study_add(study, 0.9)  # a new top: written at once, with the trial that waited
    rewriter.after_trial(rewriter.ranked())
    assert table.read_text().count("\n") == 4 and not rewriter.pending
    assert "learning_rate" in (out / "best.yaml").read_text()

    _study_add(study, 0.1)
    rewriter.after_trial(rewriter.ranked())
    assert table.read_text().count("\n") == 4
    rewriter.interval = 0.0  # due: written
    _study_add(study, 0.2)
    rewriter.after_trial(rewriter.ranked())
    assert table.read_text().count("\n") == 6


def test_a_worker_of_a_shared_study_ranks_but_writes_nothing(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    spec = load_run_file(run_file())
    out = tmp_path / "out"
    out.mkdir()
    rewriter = Rewriter(out, _study_with([0.5, 0.7]), spec, "tiny", fixed_run_file, write=False)
    assert [r.accuracy for r in rewriter.after_trial(rewriter.ranked())] == [0.7, 0.5]
    assert [r.accuracy for r in rewriter.now()] == [0.7, 0.5]
    assert list(out.iterdir()) == []


def _study_add(study: optuna.Study, accuracy: float) -> None:
    trial = study.ask()
    trial.set_user_attr("accuracy", accuracy)
    trial.set_user_attr("wall_seconds", 1.0)
    trial.set_user_attr("end", "complete")
    trial.set_user_attr("config", CONFIG)
    study.tell(trial, accuracy)

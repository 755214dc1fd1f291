"""What a run leaves for reviewing a study: Optuna Dashboard's metric names, user attrs,
per-epoch values and study note (fresh while the study runs), the progress events, report.html."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna_dashboard import get_note

from autotune.engine import RunOptions, TrialEvent, TrialStarted, run
from autotune.spec import load_run_file

pytestmark = pytest.mark.slow

MEASURED = (
    "accuracy",
    "wall_seconds",
    "train_seconds",
    "first_epoch_seconds",
    "examples_per_second",
    "devices",
    "end",
    "curve",
)


def test_a_running_study_shows_its_metrics_and_a_note_refreshed_as_trials_finish(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(search={"sampler": "random", "pruner": "median", "trials": 3})
    spec = load_run_file(path)
    storage = f"sqlite:///{tmp_path / 'out' / 'tiny' / 'study.db'}"
    events: list[TrialEvent | TrialStarted] = []
    notes: list[str] = []

    def on_event(event: TrialEvent | TrialStarted) -> None:
        events.append(event)
        if isinstance(event, TrialEvent):  # read the study as the dashboard would, meanwhile
            notes.append(get_note(optuna.load_study(study_name="tiny", storage=storage)))

    report = run(spec, RunOptions(results_dir=tmp_path / "out"), on_event=on_event)

    # every trial is announced, with its worker, devices and parameters, before it finishes
    study = optuna.load_study(study_name="tiny", storage=storage)
    kinds = [(type(e).__name__, e.number) for e in events]
    assert kinds == [(kind, n) for n in range(3) for kind in ("TrialStarted", "TrialEvent")], kinds
    for event in events:
        assert event.worker == 0
        if isinstance(event, TrialStarted):
            assert event.params == study.trials[event.number].params
            assert event.devices == tuple(study.trials[event.number].user_attrs["devices"])

    # the note is rewritten as trials finish (at once when the top trial changes, else at most
    # 2 s behind), never counts a trial before it finished, and counts them all at the end
    def counts(note: str) -> int:
        return sum(
            int(n)
            for line in note.splitlines()
            if line.startswith("| trials |")
            for n, _state in re.findall(r"(\d+) (complete|pruned|fail)\b", line)
        )

    finished = [counts(note) for note in notes]
    assert finished[0] == 1, notes
    assert all(1 <= f <= i + 1 for i, f in enumerate(finished)), notes
    assert finished == sorted(finished), notes
    final = get_note(study)
    assert counts(final) == 3, final
    assert f"`{path.resolve()}`" in final and "TensorFlow" in final
    assert "accuracy per wall-clock second" in final
    top = report.ranked[0]
    assert f"| 1 | {top.number} | {top.accuracy:.4f} |" in final

    assert study.metric_names == ["accuracy"]
    for trial in study.trials:
        assert set(MEASURED) <= set(trial.user_attrs)
        epochs = trial.user_attrs["epochs"]
        assert sorted(trial.intermediate_values) == list(range(1, epochs + 1))
        curve = [accuracy for _, accuracy in trial.user_attrs["curve"]]
        assert [trial.intermediate_values[e] for e in range(1, epochs + 1)] == curve

    assert (tmp_path / "out" / "tiny" / "report.html") in report.files
    assert (tmp_path / "out" / "tiny" / "accuracy_vs_seconds.png") in report.files


def test_a_pareto_study_names_both_objectives(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    spec = load_run_file(run_file(search={"objective": "pareto", "trials": 2}))
    report = run(spec, RunOptions(results_dir=tmp_path / "out"))
    study = optuna.load_study(study_name="tiny", storage=report.storage)
    assert study.metric_names == ["accuracy", "wall_seconds"]
    assert "| objective | accuracy, wall_seconds |" in get_note(study)
    page = (report.directory / "report.html").read_text(encoding="utf-8")
    assert "objective: accuracy, wall_seconds" in page

"""report.html and its PNG plots: self-contained, showing the ranking, the trade-off, the search's
progress, which parameters mattered and the top trials' curves."""

from __future__ import annotations

import random
import re
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState
from PIL import Image

from autotune.results import rank_trials, write_report
from autotune.results._report import parameter_importances, progress_points, tradeoff_points
from autotune.spec import RankSpec
from tests.results.conftest import AddTrial, add_trial

_EXTERNAL = re.compile(
    r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|<link|<script"""
)


def _study_with_a_search(study: optuna.Study) -> None:
    """Six completed trials with curves, two pruned ones, one failure."""
    for accuracy, seconds in [(0.90, 5.0), (0.97, 50.0), (0.965, 20.0), (0.80, 3.0), (0.96, 12.0)]:
        curve = [[seconds * k / 3, accuracy - 0.1 * (3 - k)] for k in (1, 2, 3)]
        add_trial(study, accuracy, seconds, curve=curve)
    add_trial(study, 0.95, 15.0, curve=[[4.0, 0.7], [15.0, 0.95]])  # behind trial 4
    add_trial(study, None, 2.0, state=TrialState.PRUNED, curve=[[2.0, 0.4]])
    add_trial(study, None, 3.0, state=TrialState.PRUNED, curve=[[1.5, 0.5], [3.0, 0.6]])
    add_trial(study, None, 1.0, state=TrialState.FAIL, reason="boom")


def test_report_is_one_self_contained_page_with_the_leaderboard_and_four_plots(
    tmp_path: Path, study: optuna.Study
) -> None:
    _study_with_a_search(study)
    written = write_report(tmp_path / "out", study, RankSpec(), run_file="runs/digits.yaml")

    assert [p.name for p in written.files] == [
        "report.html",
        "accuracy_vs_seconds.png",
        "best_so_far.png",
    ]
    page = written.html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not _EXTERNAL.search(page), _EXTERNAL.search(page)
    assert page.count("<svg ") == 4
    for section in ('id="tradeoff"', 'id="progress"', 'id="importance"', 'id="curves"'):
        assert section in page
    # each plot's ids are its own, so no plot draws another's clip paths or glyphs
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    assert "runs/digits.yaml" in page
    assert "trials: 6 complete, 2 pruned, 1 fail;" in page
    # leaderboard rows in rank order, the pick on top
    ranked = rank_trials(study.get_trials(deepcopy=False), RankSpec())
    rows = re.findall(r"<tr[^>]*><td>(\d+)</td><td>(\d+)</td>", page)
    assert [int(trial) for _, trial in rows] == [r.number for r in ranked]
    assert f"The pick: trial {ranked[0].number}" in page
    for path in written.images:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width >= 800 and image.height >= 400


def test_the_scatter_marks_the_front_and_pruned_trials_and_progress_follows_the_clock(
    study: optuna.Study,
) -> None:
    _study_with_a_search(study)
    trials = study.get_trials(deepcopy=False)
    ranked = rank_trials(trials, RankSpec())

    points = {p.number: p for p in tradeoff_points(trials, ranked)}
    assert {n for n, p in points.items() if p.pareto} == {0, 1, 2, 3, 4}
    assert not points[5].pareto and points[5].ranked  # 0.95 in 15 s: trial 4 has 0.96 in 12 s
    assert points[6].ranked is False and points[6].accuracy == pytest.approx(0.4)
    assert points[7].accuracy == pytest.approx(0.6)  # a pruned trial at its last epoch
    assert 8 not in points  # a failed trial has no accuracy to show

    progress = progress_points(trials)
    assert [p.number for p in progress] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert all(p.seconds >= 0 for p in progress)
    assert progress == sorted(progress, key=lambda p: p.seconds)


def test_importance_finds_what_drives_accuracy_and_what_drives_seconds() -> None:
    """Accuracy follows the learning rate only; seconds follow the batch size only."""
    study = optuna.create_study(direction="maximize")
    rng = random.Random(0)
    for _ in range(24):
        lr, batch = rng.uniform(0.0, 1.0), rng.choice([32, 64, 128, 256])
        accuracy = 0.5 + 0.4 * lr
        seconds = 2000.0 / batch
        study.add_trial(
            optuna.trial.create_trial(
                value=accuracy,
                params={"learning_rate": lr, "batch_size": batch},
                distributions={
                    "learning_rate": FloatDistribution(0.0, 1.0),
                    "batch_size": CategoricalDistribution([32, 64, 128, 256]),
                },
                user_attrs={"accuracy": accuracy, "wall_seconds": seconds},
            )
        )

    importances, why = parameter_importances(study, study.get_trials(deepcopy=False))

    assert why == ""
    assert importances["accuracy"]["learning_rate"] > 0.9
    assert importances["wall seconds"]["batch_size"] > 0.9


def test_a_study_without_completed_trials_still_gets_a_report_saying_so(
    tmp_path: Path, study: optuna.Study, add: AddTrial
) -> None:
    add(None, 2.0, state=TrialState.PRUNED, curve=[[2.0, 0.4]])
    written = write_report(tmp_path, study, RankSpec())
    page = written.html.read_text(encoding="utf-8")
    assert "No trial has completed yet." in page
    assert "Not shown: it needs 5 completed trials" in page
    assert all(path.is_file() for path in written.images)


def test_a_pareto_study_reports_by_its_metric_names(tmp_path: Path) -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.set_metric_names(["accuracy", "wall_seconds"])
    for accuracy, seconds in [(0.9, 5.0), (0.95, 30.0), (0.85, 20.0)]:
        study.add_trial(
            optuna.trial.create_trial(
                values=[accuracy, seconds],
                params={"width": float(seconds)},
                distributions={"width": FloatDistribution(1.0, 100.0)},
                user_attrs={"accuracy": accuracy, "wall_seconds": seconds},
            )
        )
    written = write_report(tmp_path, study, RankSpec(by="accuracy"))
    page = written.html.read_text(encoding="utf-8")
    assert "objective: accuracy, wall_seconds" in page
    assert [r.number for r in written.ranked] == [1, 0, 2]


def test_the_report_is_replaced_atomically(
    tmp_path: Path, study: optuna.Study, add: AddTrial
) -> None:
    add(0.9, 3.0)
    first = write_report(tmp_path, study, RankSpec()).html.read_text(encoding="utf-8")
    add(0.95, 2.0)
    second = write_report(tmp_path, study, RankSpec()).html.read_text(encoding="utf-8")
    assert first != second and "The pick: trial 1" in second
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "accuracy_vs_seconds.png",
        "best_so_far.png",
        "report.html",
    ]


def test_a_running_study_gets_a_report_of_what_has_finished(
    tmp_path: Path, study: optuna.Study, add: AddTrial
) -> None:
    add(0.9, 3.0, curve=[[1.5, 0.8], [3.0, 0.9]])
    running = study.ask()
    running.suggest_float("learning_rate", 0.0, 1.0)
    written = write_report(tmp_path, study, RankSpec())
    page = written.html.read_text(encoding="utf-8")
    assert "trials: 1 complete, 1 running;" in page
    assert [p.number for p in progress_points(study.get_trials(deepcopy=False))] == [0]

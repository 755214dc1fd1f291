"""rewrite: ``autotune report`` re-ranks a stored study by its own run file and re-writes it."""

from __future__ import annotations

import optuna
import pandas as pd
import pytest
import yaml

from autotune.results import rewrite
from autotune.spec import load_run_mapping, space_of

RUN = {
    "study": "digits",
    "data": {"dataset": "digits"},
    "space": {"width": [16, 32, 64]},
    "rank": {"by": "accuracy"},
}


def _stored_study(url: str, name: str = "digits", *, with_spec: bool = True) -> optuna.Study:
    """A study as the engine leaves it: the run file, and trials suggested by the real space."""
    spec = load_run_mapping(RUN)
    space = space_of(spec)
    study = optuna.create_study(study_name=name, storage=url, direction="maximize")
    if with_spec:
        study.set_user_attr("autotune:spec", spec.model_dump(mode="json"))
    for width, accuracy, seconds in [(16, 0.90, 5.0), (64, 0.97, 50.0), (32, 0.965, 20.0)]:
        study.enqueue_trial({"width": width})
        trial = study.ask()
        config = space.suggest(trial)
        trial.set_user_attr("accuracy", accuracy)
        trial.set_user_attr("wall_seconds", seconds)
        trial.set_user_attr("config", config.to_dict())
        study.tell(trial, accuracy)
    return study


def test_report_of_a_results_folder_rewrites_it_in_place(tmp_path) -> None:
    folder = tmp_path / "results" / "digits"
    folder.mkdir(parents=True)
    _stored_study(f"sqlite:///{folder}/study.db")

    written = rewrite(folder, results_dir=tmp_path / "elsewhere")

    assert [path.name for path in written.files] == [
        "trials.csv",
        "leaderboard.csv",
        "best.yaml",
        "report.html",
        "accuracy_vs_seconds.png",
        "best_so_far.png",
    ]
    assert all(path.parent == folder for path in written.files)
    # ranked by the stored run file's rank: by accuracy, not the default accuracy per second
    assert pd.read_csv(folder / "leaderboard.csv")["trial"].tolist() == [1, 2, 0]
    best = yaml.safe_load((folder / "best.yaml").read_text(encoding="utf-8"))
    assert best["study"] == "digits-best"
    assert best["space"]["width"] == 64
    assert load_run_mapping(best).space["width"] == 64


def test_report_of_a_url_writes_under_results_dir(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    _stored_study(url, "digits")
    _stored_study(url, "other")

    written = rewrite(url, study="digits", results_dir=tmp_path / "out")

    assert written.trials_csv == tmp_path / "out" / "digits" / "trials.csv"
    assert len(pd.read_csv(written.trials_csv)) == 3
    with pytest.raises(ValueError, match="choose one"):
        rewrite(url, results_dir=tmp_path / "out")


def test_report_of_a_study_without_a_run_file_uses_the_default_ranking(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/study.db"
    _stored_study(url, with_spec=False)

    written = rewrite(url, results_dir=tmp_path)

    assert written.best_run_file is None
    # accuracy per second with the auto floor 0.97 - 0.01, not the stored rank: by accuracy
    assert [entry.number for entry in written.ranked] == [2, 1, 0]
    assert [entry.above_floor for entry in written.ranked] == [True, True, False]


def test_report_of_a_study_whose_run_file_no_longer_loads_says_so(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/study.db"
    study = _stored_study(url)
    study.set_user_attr("autotune:spec", {**RUN, "data": {"dataset": "imagenet"}})

    with pytest.raises(ValueError, match="run file stored in study 'digits' no longer loads"):
        rewrite(url, results_dir=tmp_path)

"""storage_url and read_study against real SQLite files."""

from __future__ import annotations

import optuna
import pytest

from autotune.results import read_study, storage_url


def _make_db(path, *names: str) -> str:
    url = f"sqlite:///{path}"
    for name in names:
        study = optuna.create_study(study_name=name, storage=url, direction="maximize")
        study.add_trial(optuna.trial.create_trial(value=0.5, user_attrs={"accuracy": 0.5}))
    return url


def test_a_results_folder_maps_to_its_study_db(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "results" / "digits"
    folder.mkdir(parents=True)
    _make_db(folder / "study.db", "digits")
    monkeypatch.chdir(tmp_path)

    assert storage_url("results/digits") == f"sqlite:///{folder.resolve()}/study.db"
    assert storage_url(folder) == f"sqlite:///{folder.resolve()}/study.db"
    assert storage_url("results/digits/study.db") == f"sqlite:///{folder.resolve()}/study.db"


def test_urls_pass_through_unchanged() -> None:
    for url in ("sqlite:///x.db", "postgresql+psycopg2://h/d", "mysql+pymysql://h/d"):
        assert storage_url(url) == url
    # PostgreSQL without a driver gets psycopg 3 (the postgres extra); ${VAR} is expanded
    assert (
        storage_url("postgresql://tuner:secret@db:5432/autotune")
        == "postgresql+psycopg://tuner:secret@db:5432/autotune"
    )


def test_a_missing_folder_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"no such results folder or study file: .*nowhere"):
        storage_url(tmp_path / "nowhere")


def test_a_folder_without_study_db_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"holds no study\.db"):
        storage_url(tmp_path)


def test_read_study_loads_the_only_study_without_a_name(tmp_path) -> None:
    url = _make_db(tmp_path / "study.db", "digits")

    study = read_study(url, None)

    assert study.study_name == "digits"
    assert [trial.user_attrs["accuracy"] for trial in study.get_trials()] == [0.5]
    assert read_study(str(tmp_path), "digits").study_name == "digits"


def test_read_study_needs_a_name_when_the_storage_holds_several(tmp_path) -> None:
    url = _make_db(tmp_path / "study.db", "digits", "fashion")

    with pytest.raises(ValueError, match=r"holds 2 studies \(digits, fashion\): choose one"):
        read_study(url, None)
    assert read_study(url, "fashion").study_name == "fashion"


def test_read_study_names_the_storage_and_its_studies_when_one_is_missing(tmp_path) -> None:
    url = _make_db(tmp_path / "study.db", "digits", "fashion")

    with pytest.raises(ValueError) as raised:
        read_study(url, "cifar")

    message = str(raised.value)
    assert url in message
    assert "'cifar'" in message
    assert "digits, fashion" in message


def test_read_study_of_an_empty_storage_says_so(tmp_path) -> None:
    url = _make_db(tmp_path / "study.db")
    optuna.storages.RDBStorage(url)  # creates the tables, no study

    with pytest.raises(ValueError, match="holds no studies"):
        read_study(url, None)


def test_read_study_does_not_create_a_missing_sqlite_file(tmp_path) -> None:
    missing = tmp_path / "typo.db"

    with pytest.raises(ValueError, match=r"does not exist"):
        read_study(f"sqlite:///{missing}", None)
    assert not missing.exists()

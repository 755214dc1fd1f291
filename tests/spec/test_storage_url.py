"""Storage URLs: ${VAR} references, the PostgreSQL driver, redaction, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotune.cli import main
from autotune.spec import (
    StorageUrlError,
    expand_storage_url,
    is_server_url,
    load_run_file,
    redact,
)


def test_variables_are_expanded_and_postgresql_gets_psycopg() -> None:
    env = {"PGUSER": "tuner", "PGPASSWORD": "p$ss", "PGDATABASE": "tuning"}
    url = expand_storage_url("postgresql://${PGUSER}:${PGPASSWORD}@db:5432/${PGDATABASE}", env)
    assert url == "postgresql+psycopg://tuner:p$ss@db:5432/tuning"
    assert redact(url) == "postgresql+psycopg://tuner:***@db:5432/tuning"
    assert expand_storage_url("sqlite:///$HOME/x.db", {}) == "sqlite:///$HOME/x.db"
    assert expand_storage_url("postgresql+psycopg2://db/x", {}) == "postgresql+psycopg2://db/x"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql://${PGUSER}@db/x", ["PGUSER", "set"]),
        ("postgresql://${PG-USER}@db/x", ["'${PG-USER}'"]),
        ("postgresql://${PGUSER@db/x", ["closed", "'${PGUSER@db/x'"]),
    ],
)
def test_bad_references_say_which(url: str, words: list[str]) -> None:
    with pytest.raises(StorageUrlError) as caught:
        expand_storage_url(url, {})
    for word in words:
        assert word in str(caught.value)


def test_server_urls() -> None:
    assert is_server_url("postgresql+psycopg://db/x")
    assert is_server_url("mysql://db/x")
    assert not is_server_url("sqlite:///study.db")
    assert not is_server_url("results/study.db")


def test_run_file_keeps_the_reference_unexpanded(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("data: {dataset: digits}\nstorage: postgresql://${PGUSER}@db/tuning\n")
    assert load_run_file(path).storage == "postgresql://${PGUSER}@db/tuning"


def test_unset_variable_in_run_file_is_exit_2_with_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AUTOTUNE_NO_SUCH_VAR", raising=False)
    path = tmp_path / "run.yaml"
    path.write_text(
        "data: {dataset: digits, train_size: 100, validation_size: 50}\n"
        "space: {width: [8]}\n"
        "storage: postgresql://${AUTOTUNE_NO_SUCH_VAR}@127.0.0.1/x\n"
    )
    code = main(["run", str(path), "--results-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}:3: storage:" in err.replace("\n", "")
    assert "AUTOTUNE_NO_SUCH_VAR" in err and "Traceback" not in err


def test_unset_variable_in_flag_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AUTOTUNE_NO_SUCH_VAR", raising=False)
    path = tmp_path / "run.yaml"
    path.write_text("data: {dataset: digits, train_size: 100, validation_size: 50}\n")
    url = "postgresql://${AUTOTUNE_NO_SUCH_VAR}@127.0.0.1/x"
    assert main(["run", str(path), "--storage", url]) == 2
    assert "--storage" in capsys.readouterr().err
    assert main(["studies", url]) == 2
    assert "AUTOTUNE_NO_SUCH_VAR" in capsys.readouterr().err


def test_unreachable_server_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("data: {dataset: digits, train_size: 100, validation_size: 50}\n")
    url = "postgresql://nobody@127.0.0.1:1/x"  # port 1: nothing listens
    assert main(["run", str(path), "--storage", url, "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "a database server autotune can reach" in err and "Traceback" not in err


def test_grace_period_must_exceed_the_heartbeat_interval(tmp_path: Path) -> None:
    from autotune.spec import SpecError

    path = tmp_path / "run.yaml"
    path.write_text(
        "data: {dataset: digits}\nsearch:\n  heartbeat_interval: 10\n  grace_period: 10\n"
    )
    with pytest.raises(SpecError) as caught:
        load_run_file(path)
    assert caught.value.key == "search.grace_period"
    assert caught.value.line == 4

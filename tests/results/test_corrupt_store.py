"""A study.db (or a database) that is not an Optuna study: `autotune run`, `worker`, `report`,
`studies` and `tune()` refuse it in one line naming it, exit 2, and leave it as it was.

Real files, real Optuna, and for the database server case a real PostgreSQL (marker
``postgres``).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml

from autotune.cli import main
from autotune.results import StoreError, check_storage
from autotune.spec import SpecError, expand_storage_url, redact
from tests.postgres import fresh_database

RUN: dict[str, Any] = {
    "study": "tiny",
    "seed": 0,
    "data": {"dataset": "digits", "train_size": 200, "validation_size": 100, "test": False},
    "model": "mlp",
    "space": {"width": [8, 16]},
    "train": {"epochs": 1},
    "search": {"sampler": "random", "pruner": "none", "trials": 1},
}


def _optuna_study(path: Path, trials: int = 30) -> None:
    """A real Optuna study file with some trials (several pages, so half of it is damaged)."""
    study = optuna.create_study(study_name="tiny", storage=f"sqlite:///{path}")
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 1, 9), trials)


def _with_table(path: Path, table: str = "customers") -> None:
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, email TEXT)")
        connection.execute(f"INSERT INTO {table} (email) VALUES ('ada@example.com')")


def _random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(0).randbytes(8192))


def _text(path: Path) -> None:
    path.write_text("name,email\nada,ada@example.com\n")


def _truncated(path: Path) -> None:
    _optuna_study(path)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])


def _beside_optuna(path: Path) -> None:
    _optuna_study(path)
    _with_table(path)


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "random_bytes": (_random_bytes, "not an SQLite database"),
    "text_file": (_text, "not an SQLite database"),
    "truncated_study": (_truncated, "a damaged SQLite database"),
    "another_programs_tables": (_with_table, "another program's tables (customers)"),
    "optuna_and_another_programs_tables": (_beside_optuna, "not Optuna's (customers)"),
}


def _fingerprint(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def _one_error(capsys: pytest.CaptureFixture[str], *names: str) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: "), lines[0]
    for name in names:
        assert name in lines[0], lines[0]
    return lines[0]


@pytest.fixture(params=sorted(BROKEN))
def broken(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Path, str]]:
    """``(results dir, its tiny/study.db, what the error says)``, with the run file beside."""
    make, says = BROKEN[request.param]
    out = tmp_path / "out"
    (out / "tiny").mkdir(parents=True)
    database = out / "tiny" / "study.db"
    make(database)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(RUN, sort_keys=False))
    before = _fingerprint(database)
    yield out, database, says
    assert _fingerprint(database) == before, "the file was changed"
    assert sorted(p.name for p in database.parent.iterdir()) == ["study.db"]


def test_run_and_worker_refuse_it_in_one_line(
    broken: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    out, database, says = broken
    run_file = out.parent / "tiny.yaml"
    for command in ("run", "worker"):
        assert main([command, str(run_file), "--results-dir", str(out)]) == 2
        line = _one_error(capsys, str(database.resolve()), says)
        assert "--results-dir or --storage" in line


def test_studies_and_report_refuse_it_in_one_line(
    broken: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _out, database, says = broken
    for target in (database.parent, database):
        assert main(["studies", str(target)]) == 2
        _one_error(capsys, str(database.resolve()), says)
        assert main(["report", str(target)]) == 2
        _one_error(capsys, str(database.resolve()), says)


def test_tune_raises_a_spec_error_naming_the_file(broken: tuple[Path, Path, str]) -> None:
    import autotune

    out, database, says = broken
    with pytest.raises(SpecError) as raised:
        autotune.tune(
            {"width": [8, 16]},
            data=dict(RUN["data"]),
            trials=1,
            epochs=1,
            sampler="random",
            study="tiny",
            results_dir=out,
        )
    assert isinstance(raised.value, StoreError)
    assert str(database.resolve()) in str(raised.value) and says in str(raised.value)


def test_a_named_sqlite_file_may_share_with_other_tables_but_must_hold_a_study(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared.db"
    _beside_optuna(shared)
    before = _fingerprint(shared)
    check_storage(f"sqlite:///{shared}")
    assert _fingerprint(shared) == before

    foreign = tmp_path / "crm.db"
    _with_table(foreign)
    before = _fingerprint(foreign)
    with pytest.raises(StoreError, match=r"crm\.db: holds another program's tables"):
        check_storage(f"sqlite:///{foreign}")
    assert _fingerprint(foreign) == before


def test_a_missing_or_empty_file_and_an_optuna_study_are_accepted(tmp_path: Path) -> None:
    check_storage(f"sqlite:///{tmp_path / 'absent' / 'study.db'}")
    assert not (tmp_path / "absent").exists()
    empty = tmp_path / "empty" / "study.db"
    empty.parent.mkdir()
    empty.touch()
    check_storage(f"sqlite:///{empty}")
    assert empty.stat().st_size == 0
    study = tmp_path / "study.db"
    _optuna_study(study, trials=2)
    before = _fingerprint(study)
    check_storage(f"sqlite:///{study}")
    assert _fingerprint(study) == before
    check_storage("sqlite:///:memory:")


@pytest.mark.slow
def test_run_makes_its_study_in_an_empty_study_db(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "out" / "tiny" / "study.db"
    database.parent.mkdir(parents=True)
    database.touch()
    run_file = tmp_path / "tiny.yaml"
    run_file.write_text(yaml.safe_dump(RUN, sort_keys=False))
    assert main(["run", str(run_file), "--results-dir", str(tmp_path / "out")]) == 0, (
        capsys.readouterr().err
    )
    stored = optuna.load_study(study_name="tiny", storage=f"sqlite:///{database}")
    assert len(stored.trials) == 1


def _tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the database's public schema: its columns and rows."""
    import psycopg

    with psycopg.connect(url) as connection:
        names = [
            name
            for (name,) in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ]
        out: dict[str, list[tuple[Any, ...]]] = {}
        for name in sorted(names):
            columns = connection.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = %s ORDER BY ordinal_position",
                (name,),
            ).fetchall()
            out[name] = columns + connection.execute(f'SELECT * FROM "{name}"').fetchall()
    return out


@pytest.mark.postgres
def test_a_database_with_another_programs_studies_table_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    run_file = tmp_path / "tiny.yaml"
    run_file.write_text(yaml.safe_dump(RUN, sort_keys=False))
    with fresh_database() as url:
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TABLE studies (id SERIAL PRIMARY KEY, course TEXT)")
            connection.execute("INSERT INTO studies (course) VALUES ('algebra')")
        before = _tables(url)
        shown = redact(expand_storage_url(url))
        for command in ("run", "worker"):
            argv = [command, str(run_file), "--storage", url, "--results-dir", str(tmp_path)]
            assert main(argv) == 2
            _one_error(capsys, shown, "named like Optuna's (studies)", "--storage")
        for command in ("studies", "report"):
            assert main([command, url]) == 2
            _one_error(capsys, shown, "named like Optuna's (studies)")
        with pytest.raises(StoreError):
            check_storage(expand_storage_url(url))
        assert _tables(url) == before
    assert not (tmp_path / "tiny").exists()


@pytest.mark.postgres
def test_a_shared_database_with_other_tables_is_accepted() -> None:
    import psycopg

    with fresh_database() as url:
        expanded = expand_storage_url(url)
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TABLE customers (id SERIAL PRIMARY KEY, email TEXT)")
        check_storage(expanded)  # only another program's tables
        optuna.create_study(study_name="tiny", storage=expanded)
        check_storage(expanded)  # Optuna's beside them
        assert "customers" in _tables(url)

"""Every bad run file in the corpus makes `autotune validate` and `autotune run` exit 2 with one
message naming the file and line, no traceback, and nothing created."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotune.cli import main

BAD_RUNS = sorted((Path(__file__).parent / "bad_runs").glob("*.yaml"))


@pytest.mark.parametrize("path", BAD_RUNS, ids=[p.stem for p in BAD_RUNS])
def test_bad_run_file_exits_2_with_one_message(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(path)]) == 2
    validate_err = capsys.readouterr().err
    assert main(["run", str(path), "--results-dir", str(tmp_path / "out")]) == 2
    run_err = capsys.readouterr().err
    for err in (validate_err, run_err):
        assert path.name in err
        assert "Traceback" not in err
    assert validate_err == run_err
    assert not (tmp_path / "out").exists()


def test_a_missing_data_file_is_refused_before_anything_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_file = tmp_path / "run.yaml"
    run_file.write_text(f"data: {{dataset: npz, path: {tmp_path / 'nowhere.npz'}}}\nmodel: mlp\n")
    assert main(["run", str(run_file), "--results-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "run.yaml:1" in err and "nowhere.npz" in err
    assert not (tmp_path / "out").exists()


def test_an_error_holding_text_like_terminal_markup_is_printed_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_file = tmp_path / "run.yaml"
    run_file.write_text("data: {dataset: csv, target: y, path: 'in[/red]/[bold]x.csv'}\n")
    assert main(["validate", str(run_file)]) == 2
    err = capsys.readouterr().err
    assert "got in[/red]/[bold]x.csv does not exist" in err and "Traceback" not in err


def test_unknown_flag_and_missing_file_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "x.yaml", "--no-such-flag"])
    assert exit_info.value.code == 2
    assert main(["validate", str(tmp_path / "absent.yaml")]) == 2
    assert "absent.yaml" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("train: {devices: [3]}\n", "train.devices"),
        ("search: {pruner: median, pruner_options: {n_startup_trials: -1}}\n", "pruner_options"),
    ],
)
def test_values_only_tensorflow_or_optuna_can_judge_are_refused_before_anything_is_created(
    extra: str, key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_file = tmp_path / "run.yaml"
    run_file.write_text("data: {dataset: digits, train_size: 100, validation_size: 50}\n" + extra)
    assert main(["run", str(run_file), "--results-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert key in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_dashboard_serves_the_study_on_localhost(tmp_path: Path) -> None:
    import json
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    import optuna

    study = optuna.create_study(
        study_name="shown", storage=f"sqlite:///{tmp_path / 'study.db'}", direction="maximize"
    )
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "autotune", "dashboard", str(tmp_path), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/api/studies"
                with urllib.request.urlopen(url, timeout=2) as response:
                    body = json.load(response)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.5)
        names = [s["study_name"] for s in body["study_summaries"]]
        assert names == ["shown"]
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("name", ["..", ".", "../esc2", "a/b", "/tmp/abs", "-x", "x" * 101])
def test_a_study_name_that_could_leave_the_results_dir_is_refused_before_anything_is_written(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    run_file = work / "run.yaml"
    run_file.write_text("data: {dataset: digits}\nmodel: mlp\nsearch: {trials: 1}\n")
    for command in ("run", "worker"):
        code = main([command, str(run_file), f"--study={name}", "--results-dir", str(work / "out")])
        assert code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: --study: expected a study name"), err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["run.yaml", "work"]


def test_the_python_api_refuses_the_same_study_names(tmp_path: Path) -> None:
    import autotune as at
    from autotune.spec import SpecError

    with pytest.raises(SpecError, match=r"^study: expected a study name"):
        at.tune(
            at.Space(width=at.Choice([8, 16])),
            data="digits",
            study="../escape",
            results_dir=tmp_path / "out",
            trials=1,
        )
    assert list(tmp_path.iterdir()) == []


def test_report_refuses_a_stored_study_whose_name_would_leave_the_results_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import optuna

    url = f"sqlite:///{tmp_path / 'other.db'}"
    optuna.create_study(study_name="../../outside", storage=url)
    out = tmp_path / "deep" / "out"
    assert main(["report", url, "--results-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert "cannot name a results folder" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]

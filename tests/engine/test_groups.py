"""Groups of processes that train each trial together (``train.processes_per_trial``) under
MultiWorkerMirroredStrategy, on 127.0.0.1 with the CPU: end to end, against one process,
a member killed mid-trial, Ctrl-C, and the same through PostgreSQL with ``autotune worker``."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import optuna
import psutil
import pytest
import yaml
from optuna.trial import TrialState

from autotune.engine import RunOptions, run
from autotune.spec import SpecError, load_run_file
from tests.engine.conftest import BASE_RUN, autotune_cli, merge, start_cli, wait_for_running_trial

pytestmark = pytest.mark.slow

# One fixed configuration (nothing to sample), so that two runs train the same model.
FIXED = {
    "data": {"train_size": 600, "validation_size": 300, "test": False},
    "space": {
        "depth": 1,
        "width": 32,
        "optimizer": "adam",
        "learning_rate": 0.01,
        "batch_size": 64,
    },
    "train": {"epochs": 6, "processes_per_trial": 2},
    "search": {"sampler": "random", "pruner": "none", "trials": 2},
}


@pytest.fixture
def run_file(tmp_path: Path) -> Callable[..., Path]:
    """``run_file(**changes)``: the tiny digits run file with ``FIXED``'s one configuration."""

    def write(**changes: object) -> Path:
        base = {key: value for key, value in BASE_RUN.items() if key != "space"}
        path = tmp_path / "tiny.yaml"
        path.write_text(yaml.safe_dump(merge(merge(base, FIXED), changes), sort_keys=False))
        return path

    return write


def _trials(report_or_db: object) -> list[optuna.trial.FrozenTrial]:
    if isinstance(report_or_db, Path):
        storage = f"sqlite:///{report_or_db}"
        return optuna.load_study(study_name="tiny", storage=storage).trials
    study, storage = report_or_db.study, report_or_db.storage  # type: ignore[attr-defined]
    return optuna.load_study(study_name=study, storage=storage).trials


def _spawned() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if child.is_running() and "spawn_main" in " ".join(child.cmdline())
    ]


def test_a_two_process_group_trains_a_digits_trial_as_one_process_does(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    group = run(load_run_file(run_file()), RunOptions(results_dir=tmp_path / "group"))
    trials = _trials(group)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2, [t.user_attrs for t in trials]
    for trial in trials:
        attrs = trial.user_attrs
        assert attrs["strategy"] == "multi_worker_mirrored" and attrs["replicas"] == 2
        assert attrs["per_replica_batch"] == 32  # batch_size stays the global batch
        assert attrs["group"]["size"] == 2 and attrs["group"]["devices"] == ["cpu", "cpu"]
        hosts = attrs["group"]["hosts"]
        assert len(set(hosts)) == 2 and all(h.startswith("127.0.0.1:") for h in hosts)
        assert attrs["epochs"] == 6 and len(trial.intermediate_values) == 6
    assert group.ranked and not _spawned()  # every process of the group has left

    alone = run(
        load_run_file(run_file(train={"processes_per_trial": 1})),
        RunOptions(results_dir=tmp_path / "alone"),
    )
    together = [t.user_attrs["accuracy"] for t in trials]
    single = [t.user_attrs["accuracy"] for t in _trials(alone)]
    print("validation accuracy, group:", together, "one process:", single)
    # same configuration, seeds, data and global batch; the steps differ only in how the
    # batch is split and summed (300 validation examples: 0.04 is 12 of them)
    for a, b in zip(together, single, strict=True):
        assert abs(a - b) <= 0.04, (together, single)


def test_killing_a_member_mid_trial_fails_it_as_worker_died_and_retries_it(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(train={"epochs": 60})
    db = tmp_path / "out" / "tiny" / "study.db"
    process = start_cli("run", str(path), "--results-dir", "out", cwd=tmp_path)
    try:
        number = wait_for_running_trial(db, timeout=240)
        chief = _owner_pid(db, number)
        spawned = [p for p in psutil.Process(process.pid).children() if p.pid != chief]
        members = [p for p in spawned if "spawn_main" in " ".join(p.cmdline())]
        assert len(members) == 1, members
        time.sleep(2)  # inside the trial's epochs
        members[0].kill()
        stdout, stderr = process.communicate(timeout=400)
    finally:
        process.kill()
    assert process.returncode == 0, stderr[-2000:]
    assert "done: 2/2 trials in study 'tiny'" in stdout  # the exact count, the lost one aside
    trials = _trials(db)
    lost = trials[number]
    assert lost.state == TrialState.FAIL and lost.user_attrs["end"] == "worker_died"
    said = str(lost.user_attrs["reason"])
    assert f"its group's member 1 (pid {members[0].pid}) died (signal 9)" in said
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(done) == 2 and len(trials) == 3
    assert any(t.params == lost.params for t in done)  # the retry: the same values again


def test_ctrl_c_stops_the_whole_group_and_records_its_trial(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(train={"epochs": 400})
    db = tmp_path / "out" / "tiny" / "study.db"
    process = start_cli("run", str(path), "--results-dir", "out", cwd=tmp_path)
    try:
        number = wait_for_running_trial(db, timeout=240)
        children = psutil.Process(process.pid).children(recursive=True)
        time.sleep(2)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=180)
    finally:
        process.kill()
    assert process.returncode == 130, stderr[-2000:]
    stopped = _trials(db)[number]
    assert stopped.state == TrialState.PRUNED and stopped.user_attrs["end"] == "interrupted"
    assert stopped.user_attrs["epochs"] >= 1
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def test_a_group_whose_chief_recycles_forms_anew_and_loses_no_trial(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(train={"epochs": 2, "max_trials_per_worker": 1})
    report = run(load_run_file(path), RunOptions(results_dir=tmp_path / "out"))
    trials = _trials(report)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2, [t.user_attrs for t in trials]
    hosts = [tuple(t.user_attrs["group"]["hosts"]) for t in trials]
    assert hosts[0] != hosts[1]  # each trial had a group of its own (new ports)
    assert report.done == 2 and not _spawned()


def test_more_processes_than_this_machine_can_run_are_refused_with_the_key(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    too_many = min(64, (os.cpu_count() or 1) + 1)
    path = run_file(train={"processes_per_trial": too_many})
    ran = autotune_cli("run", str(path), "--results-dir", "out", cwd=tmp_path)
    assert ran.returncode == 2, ran.stderr
    assert "train.processes_per_trial" in ran.stderr and "cores" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert not (tmp_path / "out" / "tiny" / "study.db").exists()


def test_the_python_api_refuses_groups_by_name(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    from autotune.engine.setup._prepare import given_by_run_file

    spec = load_run_file(run_file())
    with pytest.raises(SpecError, match="processes_per_trial") as caught:
        run(spec, RunOptions(results_dir=tmp_path / "out"), given=given_by_run_file(spec, seed=0))
    assert "Python API" in str(caught.value)


BUILDERS = """
import keras
import keras_tuner as kt


def build(config, input_shape, num_classes):
    return keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Flatten(),
        keras.layers.Dense(config["hidden"], activation="relu"),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])


class Small(kt.HyperModel):
    def build(self, hp):
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(hp.Int("units", 8, 16, step=8)),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model
"""


def test_a_model_builder_trains_in_a_group_and_a_hypermodel_is_refused(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    (tmp_path / "groupmodels.py").write_text(BUILDERS)
    path = run_file(train={"epochs": 2})
    document = yaml.safe_load(path.read_text())
    document["model"] = "groupmodels:build"
    document["space"] = {"hidden": [16, 24], "learning_rate": 0.01, "batch_size": 64}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    ran = autotune_cli("run", str(path), "--results-dir", "out", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr[-2000:]
    trials = _trials(tmp_path / "out" / "tiny" / "study.db")
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
    assert all(t.user_attrs["strategy"] == "multi_worker_mirrored" for t in trials)

    document["model"] = "groupmodels:Small"
    document["space"] = {}
    document["study"] = "hyper"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    refused = autotune_cli("run", str(path), "--results-dir", "out", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "model: expected auto, mlp, cnn or a model builder function" in refused.stderr
    assert "a KerasTuner HyperModel" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.postgres
def test_autotune_worker_runs_group_trials_on_postgresql(
    tmp_path: Path, run_file: Callable[..., Path], postgres_database: str
) -> None:
    path = run_file()
    document = yaml.safe_load(path.read_text())
    document["storage"] = postgres_database
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    ran = autotune_cli("worker", str(path), "--storage", postgres_database, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr[-2000:]
    trials = optuna.load_study(study_name="tiny", storage=postgres_database).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
    assert all(t.user_attrs["strategy"] == "multi_worker_mirrored" for t in trials)
    assert all(t.user_attrs["group"]["size"] == 2 for t in trials)


@pytest.mark.postgres
def test_workers_on_two_machines_join_one_group_and_form_anew_when_one_dies(
    tmp_path: Path, run_file: Callable[..., Path], postgres_database: str
) -> None:
    # Two `autotune worker --join` commands stand for two machines: each runs one process,
    # and the two meet only through the PostgreSQL study.
    path = run_file(train={"epochs": 30})
    args = ("worker", str(path), "--storage", postgres_database, "--join")
    first = start_cli(*args, cwd=tmp_path)
    second = third = None
    try:
        # the first to take a seat in the study's lobby proposes the group: it is the chief
        _wait_for(lambda: _seats(postgres_database) == 1, timeout=240)
        second = start_cli(*args, cwd=tmp_path)
        _wait_for(lambda: _running_on(postgres_database), timeout=240)
        time.sleep(3)  # inside the trial's epochs
        assert second is not None
        second_machine = [psutil.Process(second.pid), *psutil.Process(second.pid).children()]
        for process in second_machine:
            process.kill()  # the whole machine goes
        third = start_cli(*args, cwd=tmp_path)  # another machine takes its place
        for process in (first, third):
            process.communicate(timeout=400)
            assert process.returncode == 0
    finally:
        for process in (first, second, third):
            if process is not None:
                process.kill()
    trials = optuna.load_study(study_name="tiny", storage=postgres_database).trials
    lost = [t for t in trials if t.state == TrialState.FAIL]
    assert len(lost) == 1 and lost[0].user_attrs["end"] == "worker_died", lost
    assert "member 1 (" in str(lost[0].user_attrs["reason"]), lost[0].user_attrs["reason"]
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(done) == 2 and len(trials) == 3  # the exact count: the lost trial was retried
    hosts = {tuple(t.user_attrs["group"]["hosts"]) for t in done}
    assert len(hosts) == 1 and not hosts & {
        tuple(lost[0].user_attrs.get("group", {}).get("hosts", []))
    }


def _seats(url: str) -> int:
    storage = optuna.storages.get_storage(url)
    try:
        attrs = storage.get_study_system_attrs(storage.get_study_id_from_name("tiny"))
    except KeyError:
        return 0
    return sum(key.startswith("autotune:lobby:") for key in attrs)


def _running_on(url: str) -> bool:
    try:
        trials = optuna.load_study(study_name="tiny", storage=url).trials
    except KeyError:
        return False
    return any(t.state == TrialState.RUNNING for t in trials)


@pytest.fixture
def postgres_database() -> Iterator[str]:
    from tests.postgres import fresh_database

    with fresh_database() as url:
        yield url


def _owner_pid(db: Path, number: int) -> int:
    query = (
        "SELECT a.value_json FROM trials t JOIN trial_user_attributes a"
        " ON a.trial_id = t.trial_id WHERE t.number = ? AND a.key = 'owner'"
    )
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        (value,) = conn.execute(query, (number,)).fetchone()
    return int(json.loads(value)["pid"])


def _states(db: Path) -> list[str]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        return [state for (state,) in conn.execute("SELECT state FROM trials ORDER BY number")]


def _wait_for(condition: Callable[[], bool], timeout: float = 180) -> None:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        try:
            if condition():
                return
        except sqlite3.Error:
            pass
        time.sleep(0.3)
    raise AssertionError("timed out")

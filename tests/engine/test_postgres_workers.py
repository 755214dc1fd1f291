"""Many `autotune worker` processes on one real PostgreSQL study: an exact total, a SIGKILLed
worker's trial retried, a database restart ridden out (marker ``postgres``)."""

from __future__ import annotations

import csv
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import optuna
import pytest

from autotune.spec import expand_storage_url
from tests.engine.conftest import autotune_cli, start_cli
from tests.postgres import fresh_database, pg_ctl, wait_until_up

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FINISHED = (
    optuna.trial.TrialState.COMPLETE,
    optuna.trial.TrialState.PRUNED,
    optuna.trial.TrialState.FAIL,
)


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def _study(url: str) -> optuna.Study:
    return optuna.load_study(study_name="tiny", storage=expand_storage_url(url))


def _counted(trials: list[optuna.trial.FrozenTrial]) -> int:
    return sum(
        1
        for t in trials
        if t.state in FINISHED and t.user_attrs.get("end") not in ("abandoned", "worker_died")
    )


def _workers(run_file: Path, url: str, n: int) -> list[subprocess.Popen[str]]:
    return [
        start_cli("worker", str(run_file), "--storage", url, cwd=run_file.parent) for _ in range(n)
    ]


def _finish(workers: list[subprocess.Popen[str]], timeout: float) -> list[str]:
    """Wait for the workers; return their stderr; fail on a non-zero exit."""
    logs = []
    for worker in workers:
        out, err = worker.communicate(timeout=timeout)
        assert worker.returncode == 0, f"worker exited {worker.returncode}:\n{out}\n{err}"
        logs.append(err)
    return logs


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # the study may not exist yet
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_three_workers_run_exactly_the_total(run_file: Callable[..., Path], database: str) -> None:
    path = run_file(train={"epochs": 1}, search={"sampler": "random", "trials": 12})
    workers = _workers(path, database, 3)
    _finish(workers, timeout=400)

    trials = _study(database).get_trials(deepcopy=False)
    assert [t.number for t in trials] == list(range(12))  # unique, no extra trial
    assert all(t.state in FINISHED for t in trials)
    assert _counted(trials) == 12
    owners = {t.user_attrs["owner"]["pid"] for t in trials}
    assert owners <= {w.pid for w in workers}
    assert len(owners) >= 2, "the trials were not shared between the workers"

    # `autotune run` on the finished study runs nothing more and ranks all of it
    ranked = autotune_cli("run", str(path), "--storage", database, cwd=path.parent)
    assert ranked.returncode == 0, ranked.stderr
    assert "done: 12/12 trials" in ranked.stdout
    assert len(_study(database).get_trials(deepcopy=False)) == 12
    with (path.parent / "results" / "tiny" / "leaderboard.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted(int(r["trial"]) for r in rows) == sorted(t.number for t in complete)


def test_a_killed_workers_trial_fails_with_a_reason_and_is_retried(
    run_file: Callable[..., Path], database: str
) -> None:
    path = run_file(
        data={"train_size": 600},
        train={"epochs": 30},
        search={
            "sampler": "random",
            "trials": 4,
            "heartbeat_interval": 1,
            "grace_period": 4,
            "max_retries": 1,
        },
    )
    victim, survivor = _workers(path, database, 2)
    try:
        running: dict[str, optuna.trial.FrozenTrial] = {}

        def victim_mid_trial() -> bool:
            trials = _study(database).get_trials(deepcopy=False)
            for t in trials:
                owner = t.user_attrs.get("owner", {})
                mine = t.state.name == "RUNNING" and owner.get("pid") == victim.pid
                if mine and t.user_attrs.get("config") and 0 < len(t.intermediate_values) < 20:
                    running["trial"] = t
                    return True
            return False

        _wait_for(victim_mid_trial, 300, "the victim worker to be mid-trial")
        before = {
            t.number: t.values
            for t in _study(database).get_trials(deepcopy=False)
            if t.state == optuna.trial.TrialState.COMPLETE
        }
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        _finish([survivor], timeout=400)
    finally:
        for worker in (victim, survivor):
            if worker.poll() is None:
                worker.kill()

    killed = running["trial"]
    trials = _study(database).get_trials(deepcopy=False)
    dead = trials[killed.number]
    assert dead.state == optuna.trial.TrialState.FAIL
    assert dead.user_attrs["end"] == "worker_died"
    assert "no heartbeat" in dead.user_attrs["reason"]
    assert str(victim.pid) in dead.user_attrs["reason"]
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retries) == 1
    assert retries[0].params == killed.params
    assert retries[0].state in FINISHED
    assert _counted(trials) == 4
    for number, values in before.items():  # nothing finished before the kill is lost
        assert trials[number].state == optuna.trial.TrialState.COMPLETE
        assert trials[number].values == values


def test_workers_ride_out_a_database_restart(run_file: Callable[..., Path], database: str) -> None:
    path = run_file(
        data={"train_size": 600},
        train={"epochs": 4},
        search={"sampler": "random", "trials": 4, "heartbeat_interval": 1, "grace_period": 60},
    )
    workers = _workers(path, database, 2)
    try:

        def one_done_one_running() -> bool:
            states = [t.state.name for t in _study(database).get_trials(deepcopy=False)]
            return "COMPLETE" in states and "RUNNING" in states

        _wait_for(one_done_one_running, 300, "a finished and a running trial")
        try:
            pg_ctl("stop")
            time.sleep(4)
        finally:
            pg_ctl("start")
            wait_until_up(timeout=60)
        logs = _finish(workers, timeout=400)
    finally:
        wait_until_up(timeout=60)
        for worker in workers:
            if worker.poll() is None:
                worker.kill()

    trials = _study(database).get_trials(deepcopy=False)
    assert _counted(trials) == 4
    assert all(t.state in FINISHED for t in trials)
    assert any("lost the database connection" in log for log in logs), logs
    assert any("reconnected to the database" in log for log in logs), logs

"""Worker processes: multi-device trials, parallel workers, dead, hung and recycled workers."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import psutil
import pytest
from optuna.trial import TrialState

from autotune.engine import RunEvent, RunOptions, TrialEvent, TrialStarted, run
from autotune.engine.study._study import counted
from autotune.spec import load_run_file
from tests.engine.conftest import start_cli, wait_for_running_trial

pytestmark = pytest.mark.slow

SMALL = {"data": {"train_size": 200, "validation_size": 100, "test": False}}


def _worker_processes() -> list[psutil.Process]:
    """This test process's worker processes still alive (not the resource tracker)."""
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if child.is_running() and "spawn_main" in " ".join(child.cmdline())
    ]


def _study(report: Any) -> optuna.Study:
    return optuna.load_study(study_name=report.study, storage=report.storage)


def test_two_logical_cpus_train_one_trial_under_mirrored_strategy(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(
        **SMALL,
        train={
            "epochs": 2,
            "devices": "cpu",
            "logical_cpus": 2,
            "devices_per_trial": 2,
            "steps_per_execution": 4,
        },
        search={"sampler": "random", "pruner": "none", "trials": 2},
    )
    report = run(load_run_file(path), RunOptions(results_dir=tmp_path / "out"))
    trials = _study(report).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2, [t.user_attrs for t in trials]
    for trial in trials:
        attrs = trial.user_attrs
        assert attrs["strategy"] == "mirrored" and attrs["replicas"] == 2
        assert attrs["devices"] == ["/cpu:0", "/cpu:1"]
        assert attrs["per_replica_batch"] == trial.params["batch_size"] / 2
        assert attrs["pinned"] == {"steps_per_execution": [4, 1]}
        assert attrs["worker"] == 1 and attrs["tensorflow"] and len(attrs["device_names"]) == 2


def test_two_workers_run_trials_concurrently_and_exactly_n(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(
        **SMALL,
        train={"epochs": 3},
        search={"sampler": "tpe", "pruner": "none", "trials": 6},
    )
    events: list[RunEvent] = []
    report = run(
        load_run_file(path),
        RunOptions(results_dir=tmp_path / "out", workers=2),
        on_event=events.append,
    )
    trials = _study(report).trials
    assert len(trials) == 6 and counted(trials) == 6 == report.done
    assert all(t.state == TrialState.COMPLETE for t in trials), [t.user_attrs for t in trials]
    assert {t.user_attrs["worker"] for t in trials} == {1, 2}
    owners = {t.user_attrs["owner"]["pid"] for t in trials}
    assert len(owners) == 2 and os.getpid() not in owners
    overlapping = [
        (a.number, b.number)
        for a in trials
        for b in trials
        if a.user_attrs["worker"] < b.user_attrs["worker"]
        and a.datetime_start < b.datetime_complete
        and b.datetime_start < a.datetime_complete
    ]
    assert overlapping, "the two workers never trained at the same time"
    # Workers never propose the same configuration (own seeds, TPE's constant liar).
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 6
    started = [e for e in events if isinstance(e, TrialStarted)]
    ended = [e for e in events if isinstance(e, TrialEvent)]
    assert sorted(e.number for e in started) == sorted(e.number for e in ended) == list(range(6))
    assert {e.worker for e in started} == {1, 2}
    assert all(e.params == trials[e.number].params for e in started)
    assert max(e.done for e in ended) == 6


def test_a_worker_killed_mid_trial_is_replaced_and_its_trial_retried(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(
        **SMALL,
        train={"epochs": 2, "trial_timeout": "10m"},
        search={"sampler": "random", "pruner": "none", "trials": 3},
    )
    storage = f"sqlite:///{tmp_path / 'out' / 'tiny' / 'study.db'}"
    killed: list[int] = []

    def kill_during_trial_1(event: RunEvent) -> None:
        if isinstance(event, TrialStarted) and event.number == 1 and not killed:
            study = optuna.load_study(study_name="tiny", storage=storage)
            pid = study.trials[1].user_attrs["owner"]["pid"]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    report = run(
        load_run_file(path),
        RunOptions(results_dir=tmp_path / "out"),
        on_event=kill_during_trial_1,
    )
    trials = _study(report).trials
    dead = trials[1]
    assert dead.state == TrialState.FAIL and dead.user_attrs["end"] == "worker_died"
    assert f"pid {killed[0]}" in dead.user_attrs["reason"]
    assert "signal 9" in dead.user_attrs["reason"]
    retries = [t for t in trials if t.system_attrs.get("autotune:retry_of") == 1]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == dead.params
    assert retries[0].user_attrs["owner"]["pid"] != killed[0]  # a new worker ran it
    assert counted(trials) == 3 == report.done and len(trials) == 4


def test_a_hung_trial_is_killed_at_trial_timeout(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    path = run_file(
        **SMALL,
        train={"epochs": 1000, "trial_timeout": "4s"},
        search={"sampler": "random", "pruner": "none", "trials": 1},
    )
    report = run(load_run_file(path), RunOptions(results_dir=tmp_path / "out"))
    (trial,) = _study(report).trials
    assert trial.state == TrialState.FAIL and trial.user_attrs["end"] == "timeout"
    assert "train.trial_timeout (4s)" in trial.user_attrs["reason"]
    assert report.done == 1  # a timeout counts: it is not retried


def test_workers_recycle_at_the_rss_limit(tmp_path: Path, run_file: Callable[..., Path]) -> None:
    # A limit below any TensorFlow process: every worker is replaced after one trial.
    path = run_file(
        **SMALL,
        train={"epochs": 1, "worker_rss_limit": "64MiB"},
        search={"sampler": "random", "pruner": "none", "trials": 2},
    )
    report = run(load_run_file(path), RunOptions(results_dir=tmp_path / "out"))
    trials = _study(report).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
    assert len({t.user_attrs["owner"]["pid"] for t in trials}) == 2


def test_worker_memory_stays_bounded_over_a_longer_study(
    tmp_path: Path, run_file: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    path = run_file(
        **SMALL,
        train={"epochs": 1, "max_trials_per_worker": 3},
        search={"sampler": "random", "pruner": "none", "trials": 9},
    )
    with caplog.at_level(logging.INFO, logger="autotune.engine.workers._pool"):
        report = run(load_run_file(path), RunOptions(results_dir=tmp_path / "out", workers=1))
    # Each replacement was started while its predecessor ran, and took over when it exited.
    log = caplog.text
    assert log.count("started ahead for when worker") == 2, log
    assert log.count("started ahead) takes over") == 2, log
    assert not _worker_processes()
    trials = _study(report).trials
    assert counted(trials) == 9
    pids = [t.user_attrs["owner"]["pid"] for t in trials]
    generations = [pids[i : i + 3] for i in range(0, 9, 3)]
    assert all(len(set(g)) == 1 for g in generations) and len(set(pids)) == 3
    rss = [t.user_attrs["worker_rss_mib"] for t in trials]
    # Each fresh worker starts from the same footprint, so the last trials hold no more than
    # the first worker did (plus noise): nothing accumulates across the study.
    print("worker RSS per trial (MiB):", rss)
    assert max(rss[6:]) < max(rss[:3]) + 40, rss


def test_ctrl_c_stops_every_worker_records_their_trials_and_exits_130(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    # Long enough (minutes) that no trial can finish on its own between the poll and Ctrl-C.
    path = run_file(**SMALL, train={"epochs": 10000}, search={"trials": 4})
    db = tmp_path / "out" / "tiny" / "study.db"
    process = start_cli("run", str(path), "--results-dir", "out", "--workers", "2", cwd=tmp_path)
    try:
        number = wait_for_running_trial(db, timeout=240)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=240)
    finally:
        process.kill()
    assert process.returncode == 130, stderr[-2000:]
    trials = optuna.load_study(study_name="tiny", storage=f"sqlite:///{db}").trials
    assert not [t.number for t in trials if t.state == TrialState.RUNNING]
    stopped = trials[number]
    assert stopped.state == TrialState.PRUNED, stopped.user_attrs
    assert stopped.user_attrs["end"] == "interrupted"
    assert (tmp_path / "out" / "tiny" / "trials.csv").exists()


def test_the_budget_stops_every_workers_trial_with_its_results(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    # The budget includes the workers' start-up (TensorFlow import: ~10 s, 40 s on a loaded CI).
    # 10,000 epochs of 1,000 rows one step at a time cannot finish in 60 s (5,000 epochs of 200
    # rows with 16 steps per execution did, on CI: one execution an epoch).
    path = run_file(
        data={"train_size": 1000, "validation_size": 100, "test": False},
        train={"epochs": 10_000, "steps_per_execution": 1},
        search={"trials": 4, "budget": "60s"},
    )
    report = run(load_run_file(path), RunOptions(results_dir=tmp_path / "out", workers=2))
    ran = [t for t in _study(report).trials if t.state != TrialState.WAITING]
    assert ran, "no trial started within the budget"
    for trial in ran:  # kept with what each reached: ranked, marked partial
        assert trial.state == TrialState.COMPLETE and trial.user_attrs["end"] == "deadline"
        assert trial.user_attrs["partial"] is True
        assert trial.user_attrs["epochs"] >= 1 and trial.intermediate_values
    assert report.done == len(ran) < 4


def test_a_worker_started_ahead_waits_at_its_gate_and_leaves_when_not_needed(
    tmp_path: Path, run_file: Callable[..., Path]
) -> None:
    from autotune.engine.workers._plan import worker_plan
    from autotune.engine.workers._pool import Pool

    spec = load_run_file(run_file(**SMALL, search={"trials": 2}))
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="gate", storage=url)
    plan = worker_plan(spec, 1)
    pool = Pool(
        study,
        spec=spec,
        name="gate",
        storage=url,
        total=2,
        seed=0,
        plan=plan,
        deadline=None,
        directory=tmp_path,
        on_event=None,
        write=lambda trials: [],
    )
    process, messages, gate = pool.spawner.start(plan[0], 1, gated=True)
    assert gate is not None
    # At the gate it has run no trial and said nothing (its "ready" comes after the gate).
    assert not messages.poll(8.0)
    gate.send("stop")
    assert messages.recv() == ("exit", "unused")
    process.join(timeout=30)
    assert process.exitcode == 0
    assert study.trials == []

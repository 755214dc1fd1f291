"""autotune's local SQLite storage: reads never wait for a writer, writers queue and never
leave the queue held, several attrs go in one commit, stale pops still claim each trial once."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import threading
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.exceptions import UpdateFinishedTrialError

from autotune.engine.reserved._claim import claim, reserve_shared
from autotune.engine.reserved._tickets import TICKET, WINDOW, pop, reserve
from autotune.engine.storages._local import LocalSQLiteStorage, set_user_attrs, storage_for


def _open(path: Path, **options: Any) -> LocalSQLiteStorage:
    storage = storage_for(f"sqlite:///{path}", **options)
    assert isinstance(storage, LocalSQLiteStorage)
    return storage


def _in_thread(work: Any, timeout: float) -> Any:
    """Run ``work`` in a thread; fail the test if it has not returned within ``timeout``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as error:  # re-raised in the test's thread
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still waiting after {timeout}s"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def test_a_reader_does_not_wait_for_another_process_holding_the_write_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "study.db"
    study = optuna.create_study(study_name="s", storage=_open(path))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process mid-write (Optuna Dashboard, a worker)
    writer.execute("UPDATE studies SET study_name = study_name")
    try:
        reader = optuna.load_study(study_name="s", storage=_open(path, busy_timeout=30.0))
        trials = _in_thread(lambda: reader.get_trials(deepcopy=False), timeout=10.0)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3


def test_a_failed_write_gives_the_writers_queue_back(tmp_path: Path) -> None:
    path = tmp_path / "study.db"
    first = optuna.create_study(study_name="s", storage=_open(path))
    trial = first.ask()
    first.tell(trial, 1.0)
    with pytest.raises(UpdateFinishedTrialError):  # fails inside its transaction
        first._storage.set_trial_user_attr(trial._trial_id, "late", 1)
    # A second opener (another process would do the same) writes at once: nothing held.
    second = optuna.load_study(study_name="s", storage=_open(path, busy_timeout=5.0))
    _in_thread(lambda: second.tell(second.ask(), 2.0), timeout=10.0)
    _in_thread(lambda: first.tell(first.ask(), 3.0), timeout=10.0)
    assert [t.value for t in second.get_trials(deepcopy=False)] == [1.0, 2.0, 3.0]


def test_user_attrs_are_written_together_and_refused_after_the_trial_ends(
    tmp_path: Path,
) -> None:
    study = optuna.create_study(storage=_open(tmp_path / "study.db"))
    trial = study.ask()
    set_user_attrs(study, trial, {"a": 1, "b": [1.5, "x"], "c": {"k": None}})
    set_user_attrs(study, trial, {"a": 2, "d": "new"})  # overwrites one, adds one
    study.tell(trial, 0.5)
    assert study.trials[0].user_attrs == {"a": 2, "b": [1.5, "x"], "c": {"k": None}, "d": "new"}
    with pytest.raises(UpdateFinishedTrialError):
        set_user_attrs(study, trial, {"e": 1})


def test_pop_from_a_stale_read_claims_the_next_free_ticket_and_then_reads_again(
    tmp_path: Path,
) -> None:
    storage = _open(tmp_path / "study.db")
    study = optuna.create_study(study_name="s", storage=storage)
    other = optuna.load_study(study_name="s", storage=_open(tmp_path / "study.db"))
    reserve(study, 3)
    known = study.get_trials(deepcopy=False)  # all three tickets free when read
    taken = pop(other)  # another worker takes trial 0 meanwhile
    assert taken is not None and taken.number == 0
    mine = pop(study, known)
    assert mine is not None and mine.number == 1
    for trial in (taken, mine):
        study.tell(trial, 1.0)
    # A ticket given out after the read (a retry, a raised total) is found by the fresh read.
    known = study.get_trials(deepcopy=False)
    study._storage.set_trial_system_attr(known[2]._trial_id, TICKET, True)
    reserve(study, 4)
    numbers = []
    while (trial := pop(study, known)) is not None:
        numbers.append(trial.number)
        study.tell(trial, 1.0)
        known = study.get_trials(deepcopy=False)
    assert numbers == [2, 3]
    assert [t.state.name for t in study.get_trials(deepcopy=False)] == ["COMPLETE"] * 4


def _pop_all(path: str, queue: Any) -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name="s", storage=storage_for(f"sqlite:///{path}"))
    popped, known, most_waiting = [], None, 0
    while (trial := claim(study, known, total=40)) is not None:
        popped.append(trial.number)
        trial.suggest_float("x", 0, 1)
        set_user_attrs(study, trial, {"worker": path, "n": len(popped)})
        trial.report(0.5, 0)
        study.tell(trial, 1.0)
        known = study.get_trials(deepcopy=False)
        most_waiting = max(most_waiting, sum(t.state.name == "WAITING" for t in known))
    queue.put((popped, most_waiting))


@pytest.mark.slow
def test_three_processes_share_a_study_without_errors_or_double_runs(tmp_path: Path) -> None:
    # Each process tops the tickets up when it finds none (under the study lock): the study
    # still ends with exactly its total, and never holds more than a window of waiting trials.
    path = str(tmp_path / "study.db")
    study = optuna.create_study(study_name="s", storage=_open(Path(path)))
    assert reserve_shared(study, 40) == list(range(WINDOW))
    context = mp.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_pop_all, args=(path, queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    reports = [queue.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert sorted(n for popped, _ in reports for n in popped) == list(range(40))
    assert max(most for _, most in reports) <= WINDOW
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    assert states == ["COMPLETE"] * 40

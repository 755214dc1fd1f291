"""--trials is an exact study-wide total: reserved trials, popped atomically, retried once."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from autotune.engine.reserved._claim import claim
from autotune.engine.reserved._tickets import (
    RETRY_OF,
    TICKET,
    WINDOW,
    outstanding,
    pop,
    reserve,
    retry,
    to_start,
)
from autotune.engine.storages._local import storage_for
from autotune.engine.study._study import counted


@pytest.fixture(params=["memory", "sqlite"])
def study(request: pytest.FixtureRequest, tmp_path: Path) -> optuna.Study:
    storage = None if request.param == "memory" else storage_for(f"sqlite:///{tmp_path}/s.db")
    return optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))


def _run_all(study: optuna.Study) -> list[int]:
    numbers = []
    while (trial := pop(study)) is not None:
        study.tell(trial, trial.suggest_float("x", 0.0, 1.0))
        numbers.append(trial.number)
    return numbers


def test_reserved_trials_run_exactly_once(study: optuna.Study) -> None:
    assert reserve(study, 4) == [0, 1, 2, 3]
    assert outstanding(study) == 4
    assert _run_all(study) == [0, 1, 2, 3]
    assert counted(study.trials) == 4 and pop(study) is None
    # Re-running with the same total reserves nothing; a higher total reserves the difference.
    assert reserve(study, 4) == []
    assert reserve(study, 6) == [4, 5]


def test_start_with_trials_get_tickets_first_and_extras_wait(study: optuna.Study) -> None:
    for x in (0.1, 0.2, 0.3):
        study.enqueue_trial({"x": x})
    assert reserve(study, 2) == [0, 1]
    trials = study.trials
    assert [t.system_attrs.get(TICKET) for t in trials] == [True, True, None]
    _run_all(study)
    assert [t.params.get("x") for t in study.trials[:2]] == [0.1, 0.2]
    assert study.trials[2].state == TrialState.WAITING  # kept for a later, larger run
    assert reserve(study, 3) == [2]
    _run_all(study)
    assert study.trials[2].params["x"] == 0.3 and len(study.trials) == 3


def test_a_lowered_total_takes_tickets_back(study: optuna.Study) -> None:
    reserve(study, 5)
    assert reserve(study, 2) == []
    assert _run_all(study) == [0, 1]
    assert counted(study.trials) == 2
    assert [t.state for t in study.trials[2:]] == [TrialState.WAITING] * 3


def test_a_trial_lost_to_a_dead_worker_is_retried_once_then_replaced(
    study: optuna.Study,
) -> None:
    reserve(study, 2)
    lost = pop(study)
    assert lost is not None
    x = lost.suggest_float("x", 0.0, 1.0)
    lost.set_user_attr("end", "worker_died")
    study.tell(lost, state=TrialState.FAIL)
    frozen = study.trials[lost.number]
    again = retry(study, frozen)
    assert again == 2 and reserve(study, 2) == []  # the retry holds the lost trial's slot
    assert _run_all(study) == [1, 2]
    assert study.trials[2].params["x"] == x and study.trials[2].system_attrs[RETRY_OF] == 0
    assert counted(study.trials) == 2

    # The retry dies too: it is not retried again; its slot goes to a newly sampled trial.
    reserve(study, 3)
    second = pop(study)
    assert second is not None
    second.set_user_attr("end", "worker_died")
    study.tell(second, state=TrialState.FAIL)
    assert retry(study, study.trials[second.number]) is not None  # first death of this one
    dead_retry = pop(study)
    assert dead_retry is not None
    dead_retry.set_user_attr("end", "worker_died")
    study.tell(dead_retry, state=TrialState.FAIL)
    assert retry(study, study.trials[dead_retry.number]) is None
    assert len(reserve(study, 3)) == 1
    _run_all(study)
    assert counted(study.trials) == 3


def test_a_window_holds_at_most_its_tickets_and_takes_none_back(study: optuna.Study) -> None:
    assert reserve(study, 10, window=4) == [0, 1, 2, 3]
    assert reserve(study, 10, window=4) == []  # the window is full
    assert reserve(study, 10, window=2) == []  # over a smaller window: nothing taken back
    assert outstanding(study) == 4
    assert to_start(study.get_trials(deepcopy=False), 10) == 10
    assert reserve(study, 3, window=4) == []  # a lowered total still takes tickets back
    assert outstanding(study) == 3


def test_claim_tops_tickets_up_until_every_trial_of_the_total_has_started(
    study: optuna.Study,
) -> None:
    total = 2 * WINDOW + 3
    assert reserve(study, total, window=WINDOW) == list(range(WINDOW))
    numbers, most_waiting = [], 0
    while (trial := claim(study, total=total)) is not None:
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        most_waiting = max(most_waiting, len(waiting))
        study.tell(trial, trial.suggest_float("x", 0.0, 1.0))
        numbers.append(trial.number)
    # Exactly the total ran, and no read ever met more than a window of waiting tickets.
    assert numbers == list(range(total))
    assert most_waiting < WINDOW
    assert counted(study.get_trials(deepcopy=False)) == total
    assert claim(study, total=total) is None
    assert len(study.get_trials(deepcopy=False)) == total


def test_claim_without_a_total_takes_only_the_tickets_given_out(study: optuna.Study) -> None:
    reserve(study, 5, window=2)
    taken = []
    while (trial := claim(study)) is not None:
        study.tell(trial, 0.5)
        taken.append(trial.number)
    assert taken == [0, 1]

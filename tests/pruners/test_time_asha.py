"""TimeASHAPruner on real Optuna studies: trials compared at equal seconds, not epochs."""

from __future__ import annotations

import time

import optuna
import pytest

from autotune.pruners import CURVE_ATTR, RUNGS_ATTR, TimeASHAPruner, front_ranks


def _study(*, directions: list[str] | None = None) -> tuple[optuna.Study, TimeASHAPruner]:
    pruner = TimeASHAPruner(min_seconds=2.0, reduction_factor=3.0)
    study = optuna.create_study(directions=directions or ["maximize"], pruner=pruner)
    return study, pruner


def _run(
    study: optuna.Study,
    pruner: TimeASHAPruner,
    curve: list[tuple[float, float]],
    *,
    cost: float | None = None,
    complete: bool = True,
) -> tuple[optuna.trial.Trial, bool]:
    """Report ``curve`` (seconds, value) until pruned; tell the study how the trial ended."""
    trial = study.ask()
    for seconds, value in curve:
        if pruner.report(study, trial, value, seconds=seconds, cost=cost):
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return trial, True
    if complete:
        values = curve[-1][1] if cost is None else [curve[-1][1], cost]
        study.tell(trial, values)
    return trial, False


def test_rungs_lie_on_a_geometric_grid_of_seconds() -> None:
    pruner = TimeASHAPruner(min_seconds=2.0, reduction_factor=3.0)
    assert [pruner.rung(s) for s in (1.9, 2.0, 5.9, 6.0, 17.9, 18.0)] == [-1, 0, 0, 1, 1, 2]
    assert [pruner.rung_seconds(r) for r in range(3)] == [2.0, 6.0, 18.0]


def test_a_slow_trial_is_judged_against_what_fast_ones_reached_in_the_same_seconds() -> None:
    study, pruner = _study()
    # a fast configuration: 9 epochs in 9 s, 0.88 at the end
    _run(study, pruner, [(float(s), 0.80 + 0.01 * s) for s in range(1, 10)])
    # a slow one: its first epoch ends at 20 s with 0.75; equal *epochs* would compare it with
    # the fast trial's first epoch (0.81) only; at 18 s the fast trial had reached 0.89
    _, pruned = _run(study, pruner, [(20.0, 0.75), (40.0, 0.86), (60.0, 0.90)])
    assert pruned
    slow = study.trials[1]
    assert slow.state == optuna.trial.TrialState.PRUNED
    assert slow.user_attrs[RUNGS_ATTR] == {"18s": "0.75, pruned, place 2 of 2"}
    assert slow.system_attrs[CURVE_ATTR] == [[20.0, 0.75, None]]


def test_a_slow_trial_that_is_ahead_at_equal_seconds_goes_on() -> None:
    study, pruner = _study()
    _run(study, pruner, [(float(s), 0.80 + 0.01 * s) for s in range(1, 10)])
    _, pruned = _run(study, pruner, [(20.0, 0.90), (40.0, 0.91), (60.0, 0.92)])
    assert not pruned
    rungs = study.trials[1].user_attrs[RUNGS_ATTR]
    assert list(rungs) == ["18s", "54s"]
    assert all("kept" in text for text in rungs.values())


def test_a_fast_trial_is_not_judged_against_a_slow_trials_later_report() -> None:
    study, pruner = _study()
    # a slow trial whose first report (0.86) came at 40 s, rungs after the 2 s one
    _run(study, pruner, [(40.0, 0.86)], complete=False)
    # a fast trial had nothing to compare with at its rungs (2-6 s, 6-18 s): it goes on
    _, pruned = _run(study, pruner, [(2.5, 0.80), (6.5, 0.84)])
    assert not pruned
    # at 40 s (rung 18-54 s) the slow trial's 0.86 does compete: 0.85 there is pruned
    _, pruned = _run(study, pruner, [(19.0, 0.85)])
    assert pruned


def test_one_pruner_serves_several_studies_apart() -> None:
    pruner = TimeASHAPruner(min_seconds=1.0)
    first = optuna.create_study(direction="maximize", pruner=pruner)
    second = optuna.create_study(direction="maximize", pruner=pruner)
    _run(first, pruner, [(5.0, 0.9)], complete=False)  # trial id 0 of its storage, running
    _run(second, pruner, [(0.5, 0.1)])  # trial id 0 of another storage
    assert second.trials[0].system_attrs[CURVE_ATTR] == [[0.5, 0.1, None]]


def test_about_one_in_reduction_factor_goes_on_at_each_rung() -> None:
    study, pruner = _study()
    ends = [_run(study, pruner, [(2.5, value), (7.0, value)])[1] for value in (0.5, 0.6, 0.7, 0.4)]
    # 0.5 alone goes on; 0.6 beats it; 0.7 is first of 3; 0.4 is last of 4 (2 of 4 go on)
    assert ends == [False, False, False, True]


def test_a_trial_is_not_pruned_before_min_trials_reached_its_rung() -> None:
    pruner = TimeASHAPruner(min_seconds=1.0, min_trials=3)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    _run(study, pruner, [(1.5, 0.9)])
    _, pruned = _run(study, pruner, [(1.5, 0.1), (2.0, 0.1)])
    assert not pruned  # only two trials reached the first rung
    _, pruned = _run(study, pruner, [(1.5, 0.05)])
    assert pruned


def test_a_trial_that_stopped_early_does_not_compete_at_later_rungs() -> None:
    study, pruner = _study()
    # pruned at 2.5 s: it never reached 6 s
    _run(study, pruner, [(2.5, 0.95)], complete=False)
    study.tell(study.trials[0].number, state=optuna.trial.TrialState.PRUNED)
    _, pruned = _run(study, pruner, [(7.0, 0.5)])
    assert not pruned


def test_minimize_studies_keep_the_lowest_values() -> None:
    pruner = TimeASHAPruner(min_seconds=1.0)
    study = optuna.create_study(direction="minimize", pruner=pruner)
    _run(study, pruner, [(1.5, 0.2)])
    assert _run(study, pruner, [(1.5, 0.1)])[1] is False
    assert _run(study, pruner, [(1.5, 0.9)])[1] is True


def test_pareto_studies_are_pruned_by_non_dominated_rank() -> None:
    study, pruner = _study(directions=["maximize", "minimize"])
    with pytest.raises(NotImplementedError):  # what Optuna does for several objectives
        study.ask().report(0.5, 1)
    study.tell(study.trials[0].number, state=optuna.trial.TrialState.FAIL)
    # (accuracy at 3 s, projected seconds in all)
    _run(study, pruner, [(3.0, 0.90)], cost=30.0)
    _run(study, pruner, [(3.0, 0.80)], cost=10.0)
    # worse on both than the first: dominated, last of 3, 1 of 3 goes on
    _, dominated = _run(study, pruner, [(3.0, 0.70)], cost=40.0)
    # the least accurate so far but the cheapest: an end of the front, kept (2 of 4 go on)
    _, cheap = _run(study, pruner, [(3.0, 0.60)], cost=5.0)
    assert dominated
    assert not cheap
    assert front_ranks([(0.9, 30.0), (0.8, 10.0), (0.7, 40.0), (0.6, 5.0)]) == [0, 0, 1, 0]


def test_optuna_users_prune_with_should_prune_and_wall_clock_seconds() -> None:
    pruner = TimeASHAPruner(min_seconds=0.05, reduction_factor=2.0)
    study = optuna.create_study(
        direction="maximize", pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0)
    )

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        for step in range(1, 5):
            time.sleep(0.03)
            trial.report(x, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return x

    study.optimize(objective, n_trials=12)
    states = [t.state for t in study.trials]
    assert optuna.trial.TrialState.PRUNED in states
    assert all("rungs" in t.user_attrs for t in study.trials[1:])
    # a pruned trial was worse than the best one finished before it
    for trial in study.trials:
        if trial.state == optuna.trial.TrialState.PRUNED:
            earlier = [t.value for t in study.trials[: trial.number] if t.value is not None]
            assert earlier and trial.params["x"] < max(earlier)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"min_seconds": 0}, "min_seconds"),
        ({"reduction_factor": 1}, "reduction_factor"),
        ({"min_trials": 0}, "min_trials"),
    ],
)
def test_bad_options_are_refused_by_name(options: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        TimeASHAPruner(**options)  # type: ignore[arg-type]

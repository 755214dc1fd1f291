"""study_note: the Markdown Optuna Dashboard shows for an autotune study."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from autotune.results import describe_rank, rank_trials, study_note
from autotune.spec import RankSpec
from tests.results.conftest import AddTrial


def _note(study: optuna.Study, rank: RankSpec) -> str:
    trials = study.get_trials(deepcopy=False)
    return study_note(
        study_name="digits",
        run_file="runs/digits.yaml",
        machine="host lab-3, 16 CPUs",
        objective=["accuracy"],
        rank=rank,
        ranked=rank_trials(trials, rank),
        trials=trials,
    )


def test_note_names_the_run_the_machine_the_rule_and_the_top_5_in_rank_order(
    study: optuna.Study, add: AddTrial
) -> None:
    for accuracy, seconds in [(0.90, 5), (0.97, 50), (0.965, 20), (0.5, 1), (0.96, 10), (0.95, 9)]:
        add(accuracy, seconds, params={"learning_rate": seconds / 100, "optimizer": "adam"})
    add(0.3, 2.0, state=TrialState.PRUNED)
    add(None, 1.0, state=TrialState.FAIL, reason="boom")

    note = _note(study, RankSpec(by="accuracy"))

    assert note.startswith("## autotune study `digits`")
    assert "`runs/digits.yaml`" in note and "host lab-3, 16 CPUs" in note
    assert "most accurate first" in note
    assert "| trials | 6 complete, 1 pruned, 1 fail |" in note
    rows = [line for line in note.splitlines() if line.startswith("| ") and "|---" not in line]
    top = [line for line in rows if line.split("|")[1].strip().isdigit()]
    assert [line.split("|")[2].strip() for line in top] == ["1", "2", "4", "5", "0"]
    assert "learning_rate=0.5, optimizer=adam" in top[0]
    assert "6 ranked in all" in note


def test_note_of_a_study_without_completed_trials_says_so(
    study: optuna.Study, add: AddTrial
) -> None:
    add(0.3, 2.0, state=TrialState.PRUNED)
    note = _note(study, RankSpec())
    assert "No trial has completed yet." in note
    assert "| trials | 1 pruned |" in note


def test_the_same_trials_give_the_same_note(study: optuna.Study, add: AddTrial) -> None:
    add(0.9, 3.0)
    assert _note(study, RankSpec()) == _note(study, RankSpec())


def test_rank_rule_in_words_gives_the_floor_it_uses(study: optuna.Study, add: AddTrial) -> None:
    add(0.97, 10.0)
    ranked = rank_trials(study.get_trials(deepcopy=False), RankSpec(tolerance=0.02))
    assert "the best accuracy minus 0.02 = 0.9500" in describe_rank(
        RankSpec(tolerance=0.02), ranked
    )
    assert "floor (0.9)" in describe_rank(RankSpec(min_accuracy=0.9), ranked)
    words = describe_rank(RankSpec(by="time_to_target", target=0.85))
    assert "first reached 0.85" in words

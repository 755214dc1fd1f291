"""The study note Optuna Dashboard shows: run file, machine, ranking rule and the top trials.

A pure function of plain values; the engine stores the Markdown with ``optuna_dashboard``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from autotune.results._ranking import RankedTrial
    from autotune.spec import RankSpec

TOP = 5
"""How many ranked trials the note lists."""


def describe_rank(rank: RankSpec, ranked: Sequence[RankedTrial] = ()) -> str:
    """The ``rank:`` rule in words, with the accuracy floor it gives for these trials.

    Example:
        >>> describe_rank(RankSpec(by="accuracy"))  # doctest: +SKIP
        'most accurate first, then fewest wall-clock seconds'
    """
    if rank.by == "accuracy":
        return "most accurate first, then fewest wall-clock seconds"
    if rank.by == "time_to_target":
        return (
            f"fewest seconds until the validation accuracy first reached {rank.target:g}; "
            "trials that never reached it follow, most accurate first"
        )
    if rank.min_accuracy == "auto":
        floor = f"the best accuracy minus {rank.tolerance:g}"
        value = accuracy_floor(rank, ranked)
        if value is not None:
            floor += f" = {value:.4f}"
    else:
        floor = f"{float(rank.min_accuracy):g}"
    return (
        f"accuracy per wall-clock second among trials at or above the accuracy floor ({floor}); "
        "trials under the floor follow, most accurate first"
    )


def accuracy_floor(rank: RankSpec, ranked: Sequence[RankedTrial]) -> float | None:
    """The accuracy floor of ``by: accuracy_per_second`` for these trials (None for other rules,
    and for ``auto`` before any trial ranked)."""
    if rank.by != "accuracy_per_second":
        return None
    if rank.min_accuracy != "auto":
        return float(rank.min_accuracy)
    if not ranked:
        return None
    return max(r.accuracy for r in ranked) - rank.tolerance


def study_note(
    *,
    study_name: str,
    run_file: str | None,
    machine: str,
    objective: Sequence[str],
    rank: RankSpec,
    ranked: Sequence[RankedTrial],
    trials: Sequence[FrozenTrial],
) -> str:
    """The Markdown note of a study: what ran where, how trials rank, and the current top 5.

    Args:
        study_name: the study's name.
        run_file: the run file's path, or None when the study was started from Python.
        machine: a one-line description of the machine the trials run on.
        objective: the names of the values told to Optuna (the study's metric names).
        rank: the run file's ``rank:`` section.
        ranked: ``rank_trials`` of ``trials``.
        trials: every trial of the study, in any state.

    Returns:
        Markdown, the same for the same inputs (so an unchanged note need not be re-written).

    Example:
        >>> note = study_note(study_name="digits", run_file="digits.yaml", machine="laptop",
        ...                   objective=["accuracy"], rank=RankSpec(), ranked=[], trials=[])
        >>> note.splitlines()[0]
        '## autotune study `digits`'
    """
    lines = [
        f"## autotune study `{study_name}`",
        "",
        "| | |",
        "|---|---|",
        f"| run file | {_code(run_file) if run_file else 'none (started from Python)'} |",
        f"| machine | {_cell(machine)} |",
        f"| objective | {_cell(', '.join(objective))} |",
        f"| ranking | {_cell(describe_rank(rank, ranked))} |",
        f"| trials | {count_states(trials)} |",
        "",
        f"### Top {TOP}",
        "",
    ]
    if not ranked:
        lines.append("No trial has completed yet.")
        return "\n".join(lines) + "\n"
    lines += [
        "| rank | trial | accuracy | seconds | accuracy/s | Pareto | parameters |",
        "|---:|---:|---:|---:|---:|:---:|---|",
    ]
    for row in ranked[:TOP]:
        lines.append(
            f"| {row.rank} | {row.number} | {row.accuracy:.4f} | {row.wall_seconds:.1f} | "
            f"{row.accuracy_per_second:.4f} | {'yes' if row.pareto else ''} | "
            f"{_cell(format_params(row.params))} |"
        )
    lines += ["", f"{len(ranked)} ranked in all; `autotune report` writes the full leaderboard."]
    return "\n".join(lines) + "\n"


_STATE_ORDER = ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")


def count_states(trials: Sequence[FrozenTrial]) -> str:
    """How many trials are in each state, finished ones first (WAITING: reserved, not started).

    Example:
        >>> count_states(study.get_trials(deepcopy=False))  # doctest: +SKIP
        '6 complete, 2 pruned, 1 fail, 1 running, 2 waiting'
    """
    states = Counter(trial.state.name for trial in trials)
    order = [*_STATE_ORDER, *sorted(set(states) - set(_STATE_ORDER))]
    return ", ".join(f"{states[s]} {s.lower()}" for s in order if states[s]) or "none yet"


def format_params(params: Mapping[str, Any]) -> str:
    """``name=value`` pairs, floats to 3 significant digits.

    Example:
        >>> format_params({"learning_rate": 0.0031622, "optimizer": "adam"})
        'learning_rate=0.00316, optimizer=adam'
    """
    return ", ".join(f"{name}={_value(value)}" for name, value in sorted(params.items()))


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")

"""The report's figures, drawn with matplotlib from plain values (no study, no files).

Each function returns a ``matplotlib.figure.Figure`` made without pyplot, so drawing keeps no
global state and needs no display.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes

PICK_COLOR = "#d62728"
FRONT_COLOR = "#1f77b4"
OTHER_COLOR = "#9a9a9a"
PRUNED_COLOR = "#c7a16b"
_SIZE = (7.0, 4.2)


@dataclass(frozen=True)
class Point:
    """One trial on a plot.

    Attributes:
        number: the trial number.
        accuracy: validation accuracy (for a pruned trial: at its last epoch).
        seconds: the trial's wall-clock seconds, or for the progress plot the seconds since the
            study's first trial started until this trial finished.
        pareto: on the accuracy-vs-seconds Pareto front.
        ranked: a COMPLETE trial (ranked); False for a pruned one.
    """

    number: int
    accuracy: float
    seconds: float
    pareto: bool = False
    ranked: bool = True


def tradeoff_figure(
    points: Sequence[Point],
    *,
    pick: int | None,
    floor: float | None = None,
    per_second_line: bool = False,
) -> Figure:
    """Accuracy against wall-clock seconds: every trial, the Pareto front, the ranking's pick.

    Args:
        points: ranked trials, plus pruned ones (``ranked=False``), drawn apart.
        pick: the top-ranked trial's number, highlighted; None when nothing ranked.
        floor: the ranking's accuracy floor, drawn as a dashed line. Defaults to None.
        per_second_line: draw the pick's accuracy-per-second as a line through the origin
            (the ranking ``accuracy_per_second`` picks the steepest such line above the floor).
    """
    figure, axes = _figure()
    axes.set_title("Accuracy vs wall-clock seconds")
    axes.set_xlabel("trial wall-clock seconds")
    axes.set_ylabel("validation accuracy")
    ranked = [p for p in points if p.ranked]
    pruned = [p for p in points if not p.ranked]
    # The view frames the completed trials, where the trade-off lies; pruned trials (stopped
    # early, mostly far less accurate) are drawn where they fall inside it and counted below it.
    low, high = _accuracy_range(ranked or points)
    if pruned:
        below = sum(1 for p in pruned if p.accuracy < low)
        axes.scatter(
            [p.seconds for p in pruned],
            [p.accuracy for p in pruned],
            marker="x",
            s=22,
            color=PRUNED_COLOR,
            label="pruned (accuracy when stopped)" + (f"; {below} below the view" if below else ""),
        )
    off = [p for p in ranked if not p.pareto]
    if off:
        axes.scatter(
            [p.seconds for p in off],
            [p.accuracy for p in off],
            s=26,
            color=OTHER_COLOR,
            label="completed",
        )
    front = sorted((p for p in ranked if p.pareto), key=lambda p: (p.seconds, p.accuracy))
    if front:
        axes.step(
            [p.seconds for p in front],
            [p.accuracy for p in front],
            where="post",
            color=FRONT_COLOR,
            linewidth=1.2,
            alpha=0.7,
        )
        axes.scatter(
            [p.seconds for p in front],
            [p.accuracy for p in front],
            s=34,
            color=FRONT_COLOR,
            label="Pareto front",
            zorder=3,
        )
    chosen = next((p for p in ranked if p.number == pick), None)
    if floor is not None and ranked:
        axes.axhline(floor, color=OTHER_COLOR, linestyle="--", linewidth=0.9)
        axes.annotate(
            f"accuracy floor {floor:.4f}",
            (0.0, floor),
            xycoords=("axes fraction", "data"),
            xytext=(4, 3),
            textcoords="offset points",
            ha="left",
            fontsize=8,
            color="#555555",
        )
    if chosen is not None:
        if per_second_line and chosen.seconds > 0:
            right = max(p.seconds for p in points) * 1.05
            slope = chosen.accuracy / chosen.seconds
            axes.plot(
                [0.0, right],
                [0.0, slope * right],
                color=PICK_COLOR,
                linestyle=":",
                linewidth=1.0,
                label=f"accuracy/s of the pick ({slope:.4g})",
            )
        axes.scatter(
            [chosen.seconds],
            [chosen.accuracy],
            s=190,
            marker="*",
            color=PICK_COLOR,
            edgecolors="white",
            linewidths=0.6,
            label=f"pick: trial {chosen.number}",
            zorder=4,
        )
    if not points:
        _empty(axes, "no trial has finished yet")
    else:
        axes.set_xlim(0.0, max(p.seconds for p in points) * 1.05 or 1.0)
        axes.set_ylim(low, high)
        axes.legend(loc="best", fontsize=8, framealpha=0.85)
    figure.tight_layout()
    return figure


def progress_figure(points: Sequence[Point], *, minutes: bool | None = None) -> Figure:
    """The best accuracy found so far against wall-clock time since the study started.

    Args:
        points: one per finished trial; ``seconds`` is when it finished, since the first trial
            started. Pruned trials (``ranked=False``) are drawn as crosses and never raise the
            best.
        minutes: label the time axis in minutes. Defaults to None: minutes past ten minutes.
    """
    figure, axes = _figure()
    axes.set_title("Best accuracy so far")
    span = max((p.seconds for p in points), default=0.0)
    minutes = span > 600 if minutes is None else minutes
    scale = 60.0 if minutes else 1.0
    axes.set_xlabel(f"wall-clock {'minutes' if minutes else 'seconds'} since the study started")
    axes.set_ylabel("validation accuracy")
    ordered = sorted(points, key=lambda p: p.seconds)
    done = [p for p in ordered if p.ranked]
    pruned = [p for p in ordered if not p.ranked]
    if pruned:
        axes.scatter(
            [p.seconds / scale for p in pruned],
            [p.accuracy for p in pruned],
            marker="x",
            s=22,
            color=PRUNED_COLOR,
            label="pruned",
        )
    if done:
        axes.scatter(
            [p.seconds / scale for p in done],
            [p.accuracy for p in done],
            s=22,
            color=OTHER_COLOR,
            label="completed trial",
        )
        xs, ys, best = [], [], -math.inf
        for p in done:
            best = max(best, p.accuracy)
            xs.append(p.seconds / scale)
            ys.append(best)
        xs.append(span / scale)
        ys.append(best)
        axes.step(xs, ys, where="post", color=FRONT_COLOR, linewidth=1.8, label="best so far")
    if not points:
        _empty(axes, "no trial has finished yet")
    else:
        axes.set_xlim(left=0.0)
        axes.legend(loc="best", fontsize=8, framealpha=0.85)
    figure.tight_layout()
    return figure


def importance_figure(
    importances: Mapping[str, Mapping[str, float]], *, trials: int = 0, note: str = ""
) -> Figure:
    """Horizontal bars: each parameter's importance for each target (e.g. accuracy, seconds).

    Args:
        importances: ``{target: {parameter: importance}}``, importances summing to 1 per target.
        trials: how many completed trials the importances come from (shown in the title).
        note: shown instead of bars when there are no importances (why they could not be had).
    """
    names = sorted({name for values in importances.values() for name in values})
    targets = list(importances)
    height = max(2.4, (0.16 + 0.12 * len(targets)) * len(names) + 1.2)
    figure, axes = _figure((_SIZE[0], height))
    over = f" over {trials} completed trials" if trials else ""
    axes.set_title(f"Parameter importance (fANOVA{over})")
    if not names:
        _empty(axes, note or "not enough completed trials")
        figure.tight_layout()
        return figure
    first = importances[targets[0]]
    names.sort(key=lambda name: first.get(name, 0.0))
    band = 0.8 / len(targets)
    colors = (FRONT_COLOR, "#ff7f0e", "#2ca02c", "#9467bd")
    for index, target in enumerate(targets):
        values = [importances[target].get(name, 0.0) for name in names]
        offsets = [i - 0.4 + band * (index + 0.5) for i in range(len(names))]
        axes.barh(offsets, values, height=band * 0.9, color=colors[index % 4], label=target)
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("share of the variance explained")
    axes.set_xlim(0.0, 1.0)
    axes.legend(loc="best", fontsize=8, framealpha=0.85)
    figure.tight_layout()
    return figure


def curves_figure(curves: Mapping[str, Sequence[Sequence[float]]]) -> Figure:
    """Validation accuracy after each epoch against seconds since each trial started.

    Args:
        curves: ``{label: [(seconds, accuracy), ...]}``, one line each, in legend order.
    """
    figure, axes = _figure()
    axes.set_title("Per-epoch validation accuracy of the top trials")
    axes.set_xlabel("seconds since the trial started (one marker per epoch)")
    axes.set_ylabel("validation accuracy")
    drawn = 0
    for label, curve in curves.items():
        points = [(float(p[0]), float(p[1])) for p in curve if len(p) >= 2]
        if not points:
            continue
        axes.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker="o",
            markersize=3.5,
            linewidth=1.3,
            label=label,
        )
        drawn += 1
    if drawn:
        axes.set_xlim(left=0.0)
        axes.legend(loc="best", fontsize=8, framealpha=0.85)
    else:
        _empty(axes, "no per-epoch curve recorded")
    figure.tight_layout()
    return figure


def _figure(size: tuple[float, float] = _SIZE) -> tuple[Figure, Axes]:
    figure = Figure(figsize=size, dpi=100)
    axes = figure.add_subplot()
    axes.grid(True, color="#e5e5e5", linewidth=0.7)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def _accuracy_range(points: Sequence[Point]) -> tuple[float, float]:
    """Accuracy limits that hold these points with a little margin (0 to 1 when none)."""
    if not points:
        return 0.0, 1.0
    low = min(p.accuracy for p in points)
    high = max(p.accuracy for p in points)
    margin = max(0.01, (high - low) * 0.1)
    return max(0.0, low - margin), min(1.0, high + margin) + 0.005


def _empty(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="#777")
    axes.set_xticks([])
    axes.set_yticks([])

"""``report.html``: one self-contained page with the leaderboard and the plots people look at.

The page needs no network to open: its plots are inline SVG, its style is inline, it has no
script. PNG copies of the two main plots are written next to it for READMEs and papers.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna.trial import TrialState

from autotune._stored import TEST_ATTR
from autotune.results._html import render_report
from autotune.results._ranking import rank_trials, wall_seconds

if TYPE_CHECKING:
    import optuna
    from matplotlib.figure import Figure
    from optuna.trial import FrozenTrial

    from autotune.results._plots import Point
    from autotune.results._ranking import RankedTrial
    from autotune.spec import RankSpec

_logger = logging.getLogger(__name__)

REPORT_FILE = "report.html"
TRADEOFF_PNG = "accuracy_vs_seconds.png"
PROGRESS_PNG = "best_so_far.png"
TOP_CURVES = 5
"""How many of the top-ranked trials the per-epoch plot shows."""
MIN_IMPORTANCE_TRIALS = 5
"""Fewer completed trials than this give importances that are mostly noise: none are shown."""


@dataclass(frozen=True)
class WrittenReport:
    """What ``write_report`` wrote.

    Attributes:
        html: ``report.html``.
        images: the PNG copies of the accuracy-vs-seconds and best-so-far plots.
        ranked: the ranked trials the report shows, best first.
    """

    html: Path
    images: tuple[Path, ...]
    ranked: list[RankedTrial]

    @property
    def files(self) -> list[Path]:
        """The files written."""
        return [self.html, *self.images]


def write_report(
    directory: Path,
    study: optuna.Study,
    rank: RankSpec,
    *,
    run_file: str | None = None,
) -> WrittenReport:
    """Write ``report.html`` and the PNG copies of its two main plots into ``directory``.

    The report holds the leaderboard, accuracy against wall-clock seconds with the Pareto front
    and the ranking's pick, the best accuracy so far over the study's wall-clock time, each
    parameter's importance for accuracy and for seconds (fANOVA, from ``optuna.importance``),
    and the per-epoch validation curves of the top trials. It works on a running study too.
    Each file is replaced atomically.

    Args:
        directory: the results folder; created when missing.
        study: the study to report on.
        rank: the ``rank:`` section that orders its trials.
        run_file: the run file's path, shown in the header. Defaults to None.

    Returns:
        The paths written and the ranked trials.

    Example:
        >>> written = write_report(Path("results/digits"), study, RankSpec())  # doctest: +SKIP
        >>> [path.name for path in written.files]  # doctest: +SKIP
        ['report.html', 'accuracy_vs_seconds.png', 'best_so_far.png']
    """
    from autotune.results import _plots as plots

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    trials = study.get_trials(deepcopy=False)
    ranked = rank_trials(trials, rank)
    importances, importance_note = parameter_importances(study, trials)
    from autotune.results._note import accuracy_floor

    tradeoff = plots.tradeoff_figure(
        tradeoff_points(trials, ranked),
        pick=ranked[0].number if ranked else None,
        floor=accuracy_floor(rank, ranked),
        per_second_line=rank.by == "accuracy_per_second",
    )
    progress = plots.progress_figure(progress_points(trials))
    figures = {
        "tradeoff": tradeoff,
        "progress": progress,
        "importance": plots.importance_figure(
            importances,
            trials=sum(1 for t in trials if t.state == TrialState.COMPLETE),
            note=importance_note,
        ),
        "curves": plots.curves_figure(top_curves(trials, ranked)),
    }
    svgs = {name: _svg(figure, name) for name, figure in figures.items()}
    images = (directory / TRADEOFF_PNG, directory / PROGRESS_PNG)
    for figure, path in zip((tradeoff, progress), images, strict=True):
        write_bytes_atomic(path, _png(figure))
    test = study.user_attrs.get(TEST_ATTR)
    page = render_report(
        study_name=study.study_name,
        run_file=run_file,
        metric_names=list(study.metric_names or []),
        rank=rank,
        ranked=ranked,
        trials=trials,
        svgs=svgs,
        images=[path.name for path in images],
        importance_note=importance_note,
        test=test if isinstance(test, Mapping) else None,
    )
    html = directory / REPORT_FILE
    write_bytes_atomic(html, page.encode("utf-8"))
    _logger.debug("wrote %s and %d images", html, len(images))
    return WrittenReport(html=html, images=images, ranked=ranked)


def tradeoff_points(trials: Sequence[FrozenTrial], ranked: Sequence[RankedTrial]) -> list[Point]:
    """Ranked trials at (wall seconds, accuracy), and pruned ones at their last epoch."""
    from autotune.results._plots import Point

    points = [Point(r.number, r.accuracy, r.wall_seconds, r.pareto) for r in ranked]
    points = [p for p in points if math.isfinite(p.seconds)]
    for trial in trials:
        if trial.state != TrialState.PRUNED:
            continue
        last = _last_accuracy(trial)
        seconds = wall_seconds(trial)
        if last is not None and seconds is not None and math.isfinite(seconds):
            points.append(Point(trial.number, last, seconds, ranked=False))
    return points


def progress_points(trials: Sequence[FrozenTrial]) -> list[Point]:
    """Finished trials at (seconds from the study's first trial start to their end, accuracy)."""
    from autotune.results._plots import Point

    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    if not starts:
        return []
    origin = min(starts)
    points = []
    for trial in trials:
        if trial.datetime_complete is None:
            continue
        seconds = (trial.datetime_complete - origin).total_seconds()
        if trial.state == TrialState.COMPLETE:
            accuracy = _finite(trial.user_attrs.get("accuracy"))
            if accuracy is not None:
                points.append(Point(trial.number, accuracy, seconds))
        elif trial.state == TrialState.PRUNED:
            last = _last_accuracy(trial)
            if last is not None:
                points.append(Point(trial.number, last, seconds, ranked=False))
    return points


def top_curves(
    trials: Sequence[FrozenTrial], ranked: Sequence[RankedTrial], top: int = TOP_CURVES
) -> dict[str, list[list[float]]]:
    """``{"trial N (rank r)": curve}`` for the top-ranked trials that recorded a curve."""
    by_number = {trial.number: trial for trial in trials}
    curves: dict[str, list[list[float]]] = {}
    for row in ranked[:top]:
        curve = by_number[row.number].user_attrs.get("curve")
        if isinstance(curve, list) and curve:
            curves[f"trial {row.number} (rank {row.rank})"] = curve
    return curves


def parameter_importances(
    study: optuna.Study, trials: Sequence[FrozenTrial]
) -> tuple[dict[str, dict[str, float]], str]:
    """Each searched parameter's importance for accuracy and for wall-clock seconds.

    fANOVA (``optuna.importance``, seeded) over the COMPLETE trials (at least
    ``MIN_IMPORTANCE_TRIALS``), on the parameters every one of them has (a conditional
    parameter such as ``momentum``, which only some trials use, is left out, as Optuna does).

    Returns:
        ``{"accuracy": {...}, "wall seconds": {...}}``, or ``{}`` and the reason none could be
        had.
    """
    import optuna

    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    usable = [t for t in complete if _finite(t.user_attrs.get("accuracy")) is not None]
    if len(usable) < MIN_IMPORTANCE_TRIALS or len(usable) < len(complete):
        return {}, (
            f"it needs {MIN_IMPORTANCE_TRIALS} completed trials with an accuracy "
            f"(this study has {len(usable)})"
        )
    targets: dict[str, Callable[[FrozenTrial], float]] = {
        "accuracy": lambda t: float(t.user_attrs["accuracy"]),
        "wall seconds": lambda t: float(wall_seconds(t) or 0.0),
    }
    out: dict[str, dict[str, float]] = {}
    for name, target in targets.items():
        try:
            values = optuna.importance.get_param_importances(
                study,
                evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0),
                target=target,
            )
        except (ValueError, RuntimeError, ZeroDivisionError) as error:
            return {}, f"could not be computed: {error}"
        if values and all(math.isfinite(v) for v in values.values()):
            out[name] = dict(values)
    if not out:
        return {}, "no parameter varies across the completed trials"
    return out, ""


def _last_accuracy(trial: FrozenTrial) -> float | None:
    curve = trial.user_attrs.get("curve")
    if isinstance(curve, list) and curve and isinstance(curve[-1], list) and len(curve[-1]) > 1:
        return _finite(curve[-1][1])
    if trial.intermediate_values:
        return _finite(trial.intermediate_values[max(trial.intermediate_values)])
    return None


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _svg(figure: Figure, name: str) -> str:
    """The figure as an inline ``<svg>`` element: text drawn as paths, ids made unique."""
    from matplotlib import rc_context

    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "path", "svg.hashsalt": f"autotune-{name}"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    # Several SVGs share one HTML document: prefix every id so none collides with another's.
    text = re.sub(r'id="([^"]+)"', rf'id="{name}-\1"', text)
    text = re.sub(r'(xlink:href|href)="#([^"]+)"', rf'\1="#{name}-\2"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{name} plot" ', 1)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150)
    return buffer.getvalue()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` through a temporary file in the same folder."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise

"""The HTML of ``report.html``: a pure function of plain values and ready-made SVG plots."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from autotune.results._note import count_states, describe_rank, format_params

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from autotune.results._ranking import RankedTrial
    from autotune.spec import RankSpec

LEADERBOARD_ROWS = 20
"""Rows of the leaderboard the page shows; leaderboard.csv holds them all."""

_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       margin: 0; background: #fafafa; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 32px 0 8px; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f2f2f2;
       padding: 1px 4px; border-radius: 3px; }
.meta { color: #555; margin: 0 0 2px; }
.pick { border-left: 4px solid #d62728; background: #fff6f6; padding: 8px 12px; margin: 16px 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e6e6e6; text-align: right;
         vertical-align: top; }
th { background: #f5f5f5; font-weight: 600; }
td.params, th.params { text-align: left; font-size: 12px; color: #333; }
tr.top td { background: #fff6f6; font-weight: 600; }
figure { margin: 8px 0 0; } figcaption { color: #555; font-size: 13px; margin-top: 2px; }
svg { display: block; max-width: 100%; width: 820px; height: auto; }
footer { color: #777; font-size: 12px; margin-top: 32px; }
"""


def render_report(
    *,
    study_name: str,
    run_file: str | None,
    metric_names: Sequence[str],
    rank: RankSpec,
    ranked: Sequence[RankedTrial],
    trials: Sequence[FrozenTrial],
    svgs: Mapping[str, str],
    images: Sequence[str],
    importance_note: str = "",
    test: Mapping[str, Any] | None = None,
) -> str:
    """The whole page: header, the pick, leaderboard, then the four plots.

    Args:
        study_name: the study's name.
        run_file: the run file's path, or None.
        metric_names: the study's objective names.
        rank: the ``rank:`` section the leaderboard follows.
        ranked: the ranked trials, best first.
        trials: every trial, any state.
        svgs: inline ``<svg>`` elements keyed ``tradeoff``, ``progress``, ``importance``,
            ``curves``.
        images: file names of the PNG copies written next to the page.
        importance_note: why parameter importance is missing, when it is.
        test: the study's ``autotune:test`` attribute (``{"trial": n, "accuracy": x}``).
    """
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>autotune report: {esc(study_name)}</title>",
        f"<style>{_STYLE}</style></head><body><main>",
        f"<h1>autotune study <code>{esc(study_name)}</code></h1>",
    ]
    if run_file:
        parts.append(f'<p class="meta">run file <code>{esc(run_file)}</code></p>')
    parts += [
        f'<p class="meta">trials: {esc(count_states(trials))}; '
        f"objective: {esc(', '.join(metric_names) or 'unnamed')}</p>",
        f'<p class="meta">ranking: {esc(describe_rank(rank, ranked))}</p>',
    ]
    parts.append(_pick(ranked, test))
    parts += ['<section id="leaderboard"><h2>Leaderboard</h2>', _leaderboard(ranked, test)]
    if len(ranked) > LEADERBOARD_ROWS:
        parts.append(
            f'<p class="meta">The top {LEADERBOARD_ROWS} of {len(ranked)}; '
            "<code>leaderboard.csv</code> holds them all.</p>"
        )
    parts.append("</section>")
    parts += [
        '<section id="plots"><h2>Plots</h2>',
        _figure(
            "tradeoff",
            svgs,
            "Each completed trial's validation accuracy against its wall-clock seconds. "
            "The blue staircase is the Pareto front (no trial is both more accurate and faster); "
            "the red star is the ranking's pick.",
        ),
        _figure(
            "progress",
            svgs,
            "The best validation accuracy among completed trials as the study went on "
            "(crosses: pruned trials, at their accuracy when stopped).",
        ),
        _figure(
            "importance",
            svgs,
            "How much of the variation in accuracy and in wall-clock seconds each searched "
            "parameter explains (fANOVA over the completed trials; parameters only some trials "
            "use are left out)." + (f" Not shown: {importance_note}." if importance_note else ""),
        ),
        _figure(
            "curves",
            svgs,
            "Validation accuracy after each epoch of the top-ranked trials, against the "
            "seconds since each trial started (data pipeline and compilation included).",
        ),
        "</section>",
        "<footer>Written by autotune; <code>autotune report</code> writes it again. "
        "PNG copies of the first two plots: "
        + ", ".join(f"<code>{esc(name)}</code>" for name in images)
        + ". Every trial: <code>trials.csv</code>.</footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _pick(ranked: Sequence[RankedTrial], test: Mapping[str, Any] | None) -> str:
    if not ranked:
        return '<p class="pick">No trial has completed yet.</p>'
    top = ranked[0]
    tested = ""
    if test is not None and test.get("trial") == top.number:
        tested = f", test accuracy {float(test['accuracy']):.4f}"
    return (
        f'<p class="pick"><strong>The pick: trial {top.number}</strong> — validation accuracy '
        f"{top.accuracy:.4f} in {top.wall_seconds:.1f} s ({top.accuracy_per_second:.4f} "
        f"accuracy/s){tested}.<br><code>{html.escape(format_params(top.params))}</code>"
        "<br><code>best.yaml</code> runs it again.</p>"
    )


def _leaderboard(ranked: Sequence[RankedTrial], test: Mapping[str, Any] | None) -> str:
    if not ranked:
        return "<p>No trial has completed yet.</p>"
    tested = test is not None
    head = ["rank", "trial", "accuracy", "seconds", "accuracy/s", "Pareto"]
    if tested:
        head.append("test accuracy")
    rows = ["<table>", "<thead><tr>"]
    rows += [f"<th>{name}</th>" for name in head]
    rows.append('<th class="params">parameters</th></tr></thead><tbody>')
    for row in ranked[:LEADERBOARD_ROWS]:
        cells = [
            str(row.rank),
            str(row.number) + (" (partial)" if row.partial else ""),
            f"{row.accuracy:.4f}",
            f"{row.wall_seconds:.1f}",
            f"{row.accuracy_per_second:.4f}",
            "yes" if row.pareto else "",
        ]
        if test is not None:
            hit = test.get("trial") == row.number
            cells.append(f"{float(test['accuracy']):.4f}" if hit else "")
        css = ' class="top"' if row.rank == 1 else ""
        rows.append(f"<tr{css}>" + "".join(f"<td>{cell}</td>" for cell in cells))
        rows.append(f'<td class="params">{html.escape(format_params(row.params))}</td></tr>')
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _figure(name: str, svgs: Mapping[str, str], caption: str) -> str:
    return (
        f'<figure id="{name}">{svgs.get(name, "")}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )

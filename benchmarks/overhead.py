"""Benchmark 3: per-trial overhead of autotune vs a plain Keras + Optuna loop.

The same 100 tiny trials (digits MLP, 2 epochs, the same 4-dimension space, TPE) run in each
competitor's own process. Overhead per trial = the loop's time per trial minus the time the
trial's training steps need at its steady speed (epochs x examples / steady examples/second):
sampling, building, tracing/compiling, validation, storage and exports. ``outside fit`` is the
trial's time minus the seconds inside ``fit`` (what the plain loop spends around ``fit``).

    python -m benchmarks.overhead                # full: 100 trials x 3 seeds
    python -m benchmarks.overhead --smoke        # seconds
"""

from __future__ import annotations

import sys
from typing import Any

from benchmarks._common import (
    emit,
    finish,
    machine,
    ordered,
    parser,
    run_child,
    spread,
    summary,
    table,
)

NAME = "overhead"
COMPETITORS = ("autotune", "keras_optuna")
GOAL_SECONDS = 0.2


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__ or NAME)
    p.add_argument("--trials", type=int, default=None, help="trials per run (default 100)")
    p.add_argument("--competitor", help="(child) competitor")
    p.add_argument("--seed", type=int, default=0, help="(child) seed")
    args = p.parse_args(argv)
    trials = args.trials or (4 if args.smoke else 100)
    if args.child:
        from benchmarks._tiny import run_autotune, run_plain

        runner = run_autotune if args.competitor == "autotune" else run_plain
        emit(runner(trials, args.seed))
        return 0
    seeds = args.seeds or (1 if args.smoke else 3)
    runs = collect(NAME, COMPETITORS, trials, seeds)
    rows, stats = [], {}
    for competitor in COMPETITORS:
        mine = [r for r in runs if r["competitor"] == competitor and "error" not in r]
        overhead = summary(_median(r["overhead_seconds"]) for r in mine)
        outside = summary(_median(r["outside_fit_seconds"]) for r in mine)
        per_trial = summary(r["total_seconds"] / max(r["trials"], 1) for r in mine)
        share = summary(
            _median(r["overhead_seconds"]) / (r["total_seconds"] / r["trials"])
            for r in mine
            if r["trials"]
        )
        stats[competitor] = {
            "overhead_seconds": overhead,
            "outside_fit_seconds": outside,
            "seconds_per_trial": per_trial,
            "overhead_share": share,
        }
        rows.append(
            [
                competitor,
                spread(per_trial, 2),
                spread(overhead, 3),
                spread(outside, 3),
                spread({**share, **{k: (v or 0) * 100 for k, v in share.items() if k != "n"}}, 0)
                + "%",
            ]
        )
    a, k = stats["autotune"]["overhead_seconds"], stats["keras_optuna"]["overhead_seconds"]
    ratio = (a["median"] / k["median"]) if a["median"] and k["median"] else None
    text = table(
        ["loop", "s/trial", "overhead s/trial", "outside fit s/trial", "overhead share"], rows
    )
    text += f"\n\nautotune/plain overhead ratio: {ratio:.2f}" if ratio else ""
    text += f" · goal: autotune <= {GOAL_SECONDS} s per tiny trial"
    print(text)
    return finish(
        NAME,
        {
            "benchmark": NAME,
            "smoke": args.smoke,
            "trials": trials,
            "seeds": seeds,
            "machine": machine(),
            "stats": stats,
            "overhead_ratio": ratio,
            "runs": runs,
            "table": text,
        },
        runs,
        out=args.out,
        smoke=args.smoke,
    )


def collect(
    module: str, competitors: tuple[str, ...], trials: int, seeds: int
) -> list[dict[str, Any]]:
    """One child per competitor and seed, order alternating across seeds."""
    runs: list[dict[str, Any]] = []
    for seed in range(seeds):
        for competitor in ordered(competitors, seed):
            result = run_child(
                "benchmarks." + module,
                ["--competitor", competitor, "--seed", str(seed), "--trials", str(trials)],
                timeout=3600,
            )
            runs.append({"competitor": competitor, "seed": seed, **result})
            print(
                f"seed {seed} {competitor}: {result.get('total_seconds', result.get('error'))}",
                file=sys.stderr,
            )
    return runs


def _median(values: list[float | None]) -> float | None:
    return summary(values)["median"]


if __name__ == "__main__":
    sys.exit(main())

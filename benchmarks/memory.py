"""Benchmark 4: resident memory after 10 and after 100 tiny trials in one worker process.

autotune and a plain Keras + Optuna loop (``keras.backend.clear_session()`` every trial, as
Optuna's Keras example does) each run the same tiny trials (digits MLP, 2 epochs) in a process
of their own; the RSS is read after every trial. Growth = RSS after the last trial minus RSS
after trial 10.

    python -m benchmarks.memory                # full: 100 trials x 2 seeds
    python -m benchmarks.memory --smoke        # seconds
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks._common import emit, finish, machine, parser, spread, summary, table
from benchmarks.overhead import collect

NAME = "memory"
COMPETITORS = ("autotune", "keras_optuna")
GOAL_MB = 100.0


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__ or NAME)
    p.add_argument("--trials", type=int, default=None, help="trials per run (default 100)")
    p.add_argument("--competitor", help="(child) competitor")
    p.add_argument("--seed", type=int, default=0, help="(child) seed")
    p.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="read the runs of an overhead benchmark JSON (the same tiny trials, RSS recorded "
        "after each) instead of running them again",
    )
    args = p.parse_args(argv)
    trials = args.trials or (4 if args.smoke else 100)
    early = min(10, trials // 2 or 1)
    if args.child:
        from benchmarks._tiny import run_autotune, run_plain

        runner = run_autotune if args.competitor == "autotune" else run_plain
        result = runner(trials, args.seed)
        emit({"rss_mb": result["rss_mb"], "trials": result["trials"]})
        return 0
    seeds = args.seeds or (1 if args.smoke else 2)
    if args.reuse is not None:
        reused = json.loads(args.reuse.read_text())
        runs = [
            {k: r[k] for k in ("competitor", "seed", "rss_mb", "trials")} for r in reused["runs"]
        ]
        trials, seeds = reused["trials"], reused["seeds"]
        early = min(10, trials // 2 or 1)
    else:
        runs = collect(NAME, COMPETITORS, trials, seeds)
    rows, stats = [], {}
    for competitor in COMPETITORS:
        mine = [r for r in runs if r["competitor"] == competitor and r.get("rss_mb")]
        at_early = summary(r["rss_mb"][early - 1] for r in mine)
        at_end = summary(r["rss_mb"][-1] for r in mine)
        growth = summary(r["rss_mb"][-1] - r["rss_mb"][early - 1] for r in mine)
        stats[competitor] = {
            f"rss_after_{early}": at_early,
            f"rss_after_{trials}": at_end,
            "growth_mb": growth,
        }
        rows.append([competitor, spread(at_early), spread(at_end), spread(growth)])
    text = table(
        [
            "loop",
            f"RSS MB after {early}",
            f"RSS MB after {trials}",
            f"growth MB ({early} -> {trials})",
        ],
        rows,
    )
    text += f"\n\ngoal: autotune grows < {GOAL_MB:g} MB"
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
            "runs": runs,
            "table": text,
        },
        runs,
        out=args.out,
        smoke=args.smoke,
    )


if __name__ == "__main__":
    sys.exit(main())

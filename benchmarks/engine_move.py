"""Benchmark: autotune's per-trial overhead and memory before and after a change to the engine.

Issue 16 moved the engine into folders, made one trial step and one prepare, and sent Optuna's
private attributes through an adapter, with "no regression beyond noise" as the bar. For each
seed, in alternating order, the old version (``--before REV``, checked out in a temporary git
worktree) and this tree each run the autotune child of ``benchmarks.overhead``: N tiny digits
trials (MLP, 2 epochs, TPE) in one process. Reported per version: seconds per trial, overhead
per trial (the trial's time minus its training steps at steady speed) and RSS growth from
trial 10 to trial N, with the after/before ratios of the medians::

    python -m benchmarks.engine_move --before HEAD~1 --seeds 3
    python -m benchmarks.engine_move --before HEAD --smoke
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks._common import (
    RESULT_PREFIX,
    ROOT,
    child_env,
    finish,
    machine,
    ordered,
    parser,
    spread,
    summary,
    table,
    worktree,
)

NAME = "engine_move"
VERSIONS = ("before", "after")


def _child(tree: Path, seed: int, trials: int) -> dict[str, Any]:
    env = child_env()
    env["PYTHONPATH"] = str(tree)
    command = [sys.executable, "-m", "benchmarks.overhead", "--child", "--competitor", "autotune"]
    done = subprocess.run(
        [*command, "--seed", str(seed), "--trials", str(trials)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line.removeprefix(RESULT_PREFIX))
            return result
    return {"error": f"exit {done.returncode}: " + done.stderr.strip()[-400:]}


def _measures(result: dict[str, Any], early: int) -> dict[str, float]:
    overhead = [v for v in result["overhead_seconds"] if v is not None]
    rss = result["rss_mb"]
    return {
        "seconds_per_trial": result["total_seconds"] / max(result["trials"], 1),
        "overhead_seconds": statistics.median(overhead) if overhead else float("nan"),
        "rss_growth_mb": rss[-1] - rss[early - 1],
    }


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__ or NAME)
    p.add_argument("--before", required=True, help="git revision of the old version")
    p.add_argument("--trials", type=int, default=None, help="trials per run (default 100)")
    args = p.parse_args(argv)
    trials = args.trials or (4 if args.smoke else 100)
    early = min(10, trials // 2 or 1)
    seeds = args.seeds or 1
    runs: list[dict[str, Any]] = []
    with worktree(args.before) as old:
        trees = {"before": old, "after": ROOT}
        for seed in range(seeds):
            for version in ordered(VERSIONS, seed):
                result = _child(trees[version], seed, trials)
                if "error" not in result:
                    result = {**result, **_measures(result, early)}
                runs.append({"version": version, "seed": seed, **result})
                shown = {k: result.get(k) for k in ("seconds_per_trial", "overhead_seconds")}
                print(f"seed {seed} {version}: {shown or result}", file=sys.stderr)
    measures = ("seconds_per_trial", "overhead_seconds", "rss_growth_mb")
    stats: dict[str, Any] = {}
    rows = []
    for version in VERSIONS:
        mine = [r for r in runs if r["version"] == version and "error" not in r]
        stats[version] = {m: summary(r[m] for r in mine) for m in measures}
        rows.append([version, *(spread(stats[version][m], 3) for m in measures)])
    ratios = {
        m: stats["after"][m]["median"] / stats["before"][m]["median"]
        for m in measures[:2]
        if stats["before"][m] and stats["after"][m] and stats["before"][m]["median"]
    }
    text = table(["version", "s/trial", "overhead s/trial", f"RSS MB {early}->{trials}"], rows)
    text += "\n\nafter/before (medians): " + ", ".join(f"{m} {r:.3f}" for m, r in ratios.items())
    print(text)
    return finish(
        NAME,
        {
            "benchmark": NAME,
            "smoke": args.smoke,
            "before": args.before,
            "trials": trials,
            "seeds": seeds,
            "machine": machine(),
            "stats": stats,
            "ratios": ratios,
            "runs": [{k: v for k, v in r.items() if k != "rss_mb"} for r in runs],
            "table": text,
            "load_average_at_end": list(os.getloadavg()),
        },
        runs,
        out=args.out,
        smoke=args.smoke,
    )


if __name__ == "__main__":
    sys.exit(main())

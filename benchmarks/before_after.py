"""Benchmark: the same run files with autotune before and after a change (does it fit one space?).

Two run files a user would write, each run by the ``autotune run`` command of two versions of
this repository, in alternating order, once per seed:

- ``quickstart``: ``search_spaces/quickstart.yaml`` as the README gives it (digits CNN, 16
  trials, 150 s budget);
- ``digits_mlp``: a plain MLP run file on digits with a 60 s budget and no ``start_with``,
  sampler, pruner or knob set.

``--before REV`` (a git revision, checked out in a temporary worktree) is the old version; the
working tree is the new one. Reported per file and version: the best validation accuracy by
20 %, 50 % and 100 % of the budget (from every trial's per-epoch curve, measured from the
command's start, TensorFlow's import included), the trials run, and the test accuracy of the
pick. Run::

    python -m benchmarks.before_after --before ace0b2f --seeds 3
    python -m benchmarks.before_after --before HEAD --smoke
    python -m benchmarks.before_after --before ace0b2f --files quickstart --seeds 8
    python -m benchmarks.before_after --before ace0b2f --files quickstart --only after \
        --first-seed 3 --seeds 5
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks._common import (
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

NAME = "before_after"
VERSIONS = ("before", "after")
DIGITS_MLP: dict[str, Any] = {
    "study": "digits-mlp",
    "seed": 0,
    "data": {"dataset": "digits", "validation_split": 0.2, "test": True},
    "model": "mlp",
    "space": {
        "normalization": ["unit", "standardize"],
        "depth": {"low": 1, "high": 3},
        "width": [32, 64, 128, 256],
        "dropout": {"low": 0.0, "high": 0.5, "step": 0.1},
        "l2": {"low": 1.0e-6, "high": 1.0e-2, "log": True},
        "optimizer": ["adam", "sgd", "rmsprop"],
        "learning_rate": {"low": 1.0e-4, "high": 1.0e-1, "log": True},
        "batch_size": [16, 32, 64, 128],
    },
    "train": {"epochs": 20},
    "search": {"trials": 100, "budget": "60s"},
}


FILES = ("quickstart", "digits_mlp")


def _run_files(folder: Path, smoke: bool) -> dict[str, tuple[Path, float]]:
    quick = yaml.safe_load((ROOT / "search_spaces" / "quickstart.yaml").read_text())
    mlp = dict(DIGITS_MLP)
    if smoke:
        quick["search"].update(trials=3, budget="20s")
        quick["train"]["epochs"] = 2
        mlp = {**mlp, "search": {"trials": 3, "budget": "15s"}, "train": {"epochs": 2}}
    files: dict[str, tuple[Path, float]] = {}
    for name, document in (("quickstart", quick), ("digits_mlp", mlp)):
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        files[name] = (path, _seconds(document["search"]["budget"]))
    return files


def _seconds(text: str) -> float:
    number = float(str(text).rstrip("sm"))
    return number * 60 if str(text).endswith("m") else number


def _one(tree: Path, run_file: Path, seed: int, out: Path) -> dict[str, Any]:
    import optuna

    env = child_env()
    env["PYTHONPATH"] = str(tree)
    began_wall = time.time()
    command = [sys.executable, "-m", "autotune", "run", str(run_file), "--seed", str(seed)]
    done = subprocess.run(
        [*command, "--results-dir", str(out)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: " + done.stderr.strip()[-400:]}
    study_name = yaml.safe_load(run_file.read_text())["study"]
    study = optuna.load_study(
        study_name=study_name, storage=f"sqlite:///{out / study_name / 'study.db'}"
    )
    events: list[tuple[float, float]] = []
    for trial in study.get_trials(deepcopy=False):
        if trial.datetime_start is None:
            continue
        start = trial.datetime_start.timestamp() - began_wall
        events.extend((start + t, a) for t, a in trial.user_attrs.get("curve", []))
    test = study.user_attrs.get("autotune:test") or {}
    return {
        "events": sorted(events),
        "trials": sum(t.datetime_start is not None for t in study.get_trials(deepcopy=False)),
        "test_accuracy": test.get("accuracy"),
    }


def _marks(events: list[tuple[float, float]], budget: float) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for fraction in (0.2, 0.5, 1.0):
        seen = [a for t, a in events if t <= fraction * budget]
        out[f"best_at_{round(fraction * budget)}s"] = max(seen) if seen else None
    out["best"] = max((a for _, a in events), default=None)
    return out


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__ or NAME)
    p.add_argument("--before", required=True, help="git revision of the old version")
    p.add_argument(
        "--files", nargs="*", choices=FILES, default=None, help="a subset of the run files"
    )
    p.add_argument(
        "--only",
        choices=VERSIONS,
        default=None,
        help="run one version (the old one is deterministic on the quickstart: its rows of an "
        "earlier run stand)",
    )
    p.add_argument("--first-seed", type=int, default=0, help="seeds start here (default 0)")
    args = p.parse_args(argv)
    seeds = list(range(args.first_seed, args.first_seed + (args.seeds or 1)))
    versions = (args.only,) if args.only else VERSIONS
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch, worktree(args.before) as old:
        folder = Path(scratch)
        trees = {"before": old, "after": ROOT}
        files = {
            name: value
            for name, value in _run_files(folder, args.smoke).items()
            if name in (args.files or FILES)
        }
        for seed in seeds:
            for name, (path, budget) in files.items():
                for version in ordered(versions, seed):
                    out = folder / f"out-{version}-{name}-{seed}"
                    result = _one(trees[version], path, seed, out)
                    if "events" in result:
                        result.update(_marks(result["events"], budget))
                    runs.append({"file": name, "version": version, "seed": seed, **result})
                    shown = {k: v for k, v in result.items() if k != "events"}
                    print(f"seed {seed} {name} {version}: {shown}", file=sys.stderr)
    text, stats = "", {}
    for name, (_, budget) in files.items():
        marks = [f"best_at_{round(f * budget)}s" for f in (0.2, 0.5, 1.0)]
        rows = []
        for version in versions:
            mine = [r for r in runs if r["file"] == name and r["version"] == version]
            entry = {m: summary(r.get(m) for r in mine) for m in (*marks, "test_accuracy")}
            entry["trials"] = summary(r.get("trials") for r in mine)
            stats[f"{name}/{version}"] = entry
            rows.append(
                [version]
                + [spread(entry[m], 4) for m in (*marks, "test_accuracy")]
                + [spread(entry["trials"], 0)]
            )
        headers = ["version", *(m.replace("best_at_", "best val @") for m in marks)]
        text += f"\n{name} (budget {budget:g} s):\n\n"
        text += table([*headers, "test acc of pick", "trials"], rows) + "\n"
    print(text)
    return finish(
        NAME,
        {
            "benchmark": NAME,
            "smoke": args.smoke,
            "before": args.before,
            "seeds": seeds,
            "files": list(files),
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

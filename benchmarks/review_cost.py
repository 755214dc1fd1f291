"""Benchmark: what reviewing a study costs a run, next to the exports it already pays for.

Per trial the engine refreshes the Optuna Dashboard study note; it already rewrites trials.csv,
leaderboard.csv and best.yaml (``write_results``), the reference here. At the end of a run it
writes report.html and its two PNGs (``write_report``), of which fANOVA parameter importance is
one part. Each is timed on the same SQLite study, built with the trial attributes the engine
stores, at several study sizes; medians over repeats, alternating which competitor goes first.

    python -m benchmarks.review_cost             # 20, 100 and 300 trials, 7 repeats
    python -m benchmarks.review_cost --smoke     # seconds: 8 trials, 2 repeats
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import psutil
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

RESULTS = Path(__file__).resolve().parent / "results"
SPEC = {
    "study": "bench",
    "data": {"dataset": "digits"},
    "model": "mlp",
    "space": {"width": [16, 32, 64], "depth": {"low": 1, "high": 3}},
}


def build_study(storage: str, trials: int, seed: int) -> optuna.Study:
    """A study shaped like the engine's: 8 parameters, curves, some pruned trials."""
    rng = random.Random(seed)
    study = optuna.create_study(study_name="bench", storage=storage, direction="maximize")
    study.set_metric_names(["accuracy"])  # as the engine does (an "experimental" Optuna API)
    distributions = {
        "learning_rate": FloatDistribution(1e-4, 1e-1, log=True),
        "batch_size": CategoricalDistribution([32, 64, 128, 256]),
        "depth": IntDistribution(1, 3),
        "width": CategoricalDistribution([16, 32, 64]),
        "dropout": FloatDistribution(0.0, 0.5),
        "optimizer": CategoricalDistribution(["adam", "sgd", "rmsprop"]),
        "l2": FloatDistribution(1e-6, 1e-2, log=True),
        "normalization": CategoricalDistribution(["unit", "symmetric", "standardize"]),
    }
    for _ in range(trials):
        params = {name: _sample(dist, rng) for name, dist in distributions.items()}
        seconds = 2.0 + 400.0 / params["batch_size"] + rng.random()
        accuracy = 0.7 + 0.25 * rng.random()
        epochs = 6 if rng.random() < 0.6 else 2
        curve = [
            [seconds * (e + 1) / epochs, accuracy - 0.03 * (epochs - e - 1)] for e in range(epochs)
        ]
        pruned = epochs < 6
        study.add_trial(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState.PRUNED
                if pruned
                else optuna.trial.TrialState.COMPLETE,
                value=None if pruned else accuracy,
                params=params,
                distributions=distributions,
                intermediate_values={e + 1: p[1] for e, p in enumerate(curve)},
                user_attrs={
                    "accuracy": curve[-1][1],
                    "wall_seconds": seconds,
                    "train_seconds": seconds * 0.8,
                    "first_epoch_seconds": seconds * 0.3,
                    "examples_per_second": 5000.0,
                    "epochs": epochs,
                    "curve": curve,
                    "devices": ["/cpu:0"],
                    "end": "pruned" if pruned else "complete",
                    "config": params,
                },
            )
        )
    return study


def _sample(dist: Any, rng: random.Random) -> Any:
    if isinstance(dist, CategoricalDistribution):
        return rng.choice(dist.choices)
    if isinstance(dist, IntDistribution):
        return rng.randint(dist.low, dist.high)
    return rng.uniform(dist.low, dist.high)


def _timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def measure(trials: int, repeats: int) -> dict[str, Any]:
    """Median seconds of each competitor on one study of ``trials`` trials."""
    from autotune.engine.output._review import machine_summary, refresh_note
    from autotune.results import rank_trials, write_report, write_results
    from autotune.results._report import parameter_importances
    from autotune.spec import load_run_mapping

    spec = load_run_mapping(SPEC, source="bench.yaml")
    machine_summary()  # imports TensorFlow once, as a run already has
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        study = build_study(f"sqlite:///{directory / 'study.db'}", trials, seed=trials)
        frozen = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))

        rng = random.Random(trials)

        def finish_a_trial() -> None:
            # a trial better than all before it: the top 5 changes, so the note is written
            best = max(t.value or 0.0 for t in study.get_trials(deepcopy=False))
            template = frozen[0]
            study.add_trial(
                optuna.trial.create_trial(
                    value=min(1.0, best + 1e-4),
                    params=template.params,
                    distributions=template.distributions,
                    user_attrs={**template.user_attrs, "accuracy": min(1.0, best + 1e-4)},
                )
            )
            rng.random()

        def note() -> None:
            ranked = rank_trials(study.get_trials(deepcopy=False), spec.rank)
            assert refresh_note(study, spec, ranked), "the note was not rewritten"

        setups: dict[str, Callable[[], object]] = {"refresh_note (per trial)": finish_a_trial}
        competitors: dict[str, Callable[[], object]] = {
            "write_results (per trial, existing)": lambda: write_results(
                directory, study, spec.rank, best_run_file="study: x\n"
            ),
            "refresh_note (per trial)": note,
            "write_report (end of run)": lambda: write_report(directory, study, spec.rank),
            "  of which importance": lambda: parameter_importances(
                study, study.get_trials(deepcopy=False)
            ),
        }
        write_report(directory, study, spec.rank)  # matplotlib's first import and font cache
        seconds: dict[str, list[float]] = {name: [] for name in competitors}
        for repeat in range(repeats):
            order = list(competitors) if repeat % 2 == 0 else list(reversed(competitors))
            for name in order:
                if name in setups:
                    setups[name]()
                seconds[name].append(_timed(competitors[name]))
    return {name: statistics.median(values) for name, values in seconds.items()} | {
        "trials": trials,
        "repeats": repeats,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds: 8 trials")
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 100, 300])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS / "review_cost.json")
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    sizes, repeats = ([8], 2) if args.smoke else (args.sizes, args.repeats)
    rows = [measure(size, repeats) for size in sizes]
    names = [key for key in rows[0] if key not in ("trials", "repeats")]
    print(f"{'median seconds':38}" + "".join(f"{r['trials']:>10} trials" for r in rows))
    for name in names:
        print(f"{name:38}" + "".join(f"{r[name]:>17.4f}" for r in rows))
    reference = "write_results (per trial, existing)"
    print(
        f"{'note / write_results':38}"
        + "".join(f"{r['refresh_note (per trial)'] / r[reference]:>17.2f}" for r in rows)
    )
    document = {
        "benchmark": "review_cost",
        "smoke": args.smoke,
        "machine": {
            "system": f"{platform.system()} {platform.machine()}",
            "cpus": psutil.cpu_count(),
            "load_average_1m": os.getloadavg()[0],
            "python": sys.version.split()[0],
            "optuna": optuna.__version__,
        },
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

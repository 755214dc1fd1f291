"""Tiny trials (digits MLP, 2 epochs) run by autotune and by a plain Keras + Optuna loop.

Shared by the overhead and memory benchmarks. Each side runs N trials in one process and
returns, per trial: wall seconds (the loop's whole time divided evenly is reported too),
seconds inside ``fit``, steady-state training examples/second (the second epoch's training
phase) and the process RSS after the trial.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import rss_mb

EPOCHS = 2
SPACE: dict[str, Any] = {
    "depth": {"low": 1, "high": 2},
    "width": [16, 32, 64],
    "learning_rate": {"low": 1.0e-3, "high": 1.0e-2, "log": True},
    "batch_size": [32, 64, 128],
}


def run_autotune(trials: int, seed: int) -> dict[str, Any]:
    """N tiny trials through ``autotune.engine.run`` (SQLite storage, results rewritten)."""
    from autotune.engine import RunOptions, run
    from autotune.spec import load_run_mapping

    spec = load_run_mapping(
        {
            "study": "tiny",
            "seed": seed,
            "data": {"dataset": "digits", "validation_split": 0.2},
            "model": "mlp",
            "space": SPACE,
            "train": {"epochs": EPOCHS, "devices": "cpu"},
            "search": {"sampler": "tpe", "pruner": "none", "trials": trials},
        }
    )
    rss: list[float] = []
    ends: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        report = run(
            spec,
            RunOptions(results_dir=Path(folder)),
            on_event=lambda event: _ended(event, rss, ends),
        )
        total = time.perf_counter() - began
        import optuna

        study = optuna.load_study(study_name=report.study, storage=report.storage)
        frozen = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
        examples = int(frozen[0].user_attrs.get("train_examples", 0)) if frozen else 0
        per_trial = [
            {
                "wall_seconds": t.user_attrs.get("wall_seconds"),
                "fit_seconds": t.user_attrs.get("train_seconds"),
                "examples_per_second": t.user_attrs.get("examples_per_second"),
                "state": t.state.name,
            }
            for t in frozen
        ]
    return _finish(per_trial, rss, ends, began, total, examples or _digits_train_size(seed))


def _ended(event: Any, rss: list[float], ends: list[float]) -> None:
    """Record RSS and time when a trial ends (the run also reports trials starting)."""
    if type(event).__name__ == "TrialEvent":
        rss.append(rss_mb())
        ends.append(time.perf_counter())


def _digits_train_size(seed: int) -> int:
    from autotune.data import load_dataset
    from autotune.spec import DataSpec

    return len(load_dataset(DataSpec(dataset="digits", validation_split=0.2), seed=seed).x_train)


def run_plain(trials: int, seed: int) -> dict[str, Any]:
    """N tiny trials the way Optuna's Keras example writes them (clear_session, fit, evaluate)."""
    import keras
    import numpy as np
    import optuna
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=0.2, random_state=seed, stratify=y
    )
    per_trial: list[dict[str, Any]] = []
    rss: list[float] = []
    ends: list[float] = []

    class Timer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.train_phase: list[float] = []
            self._began = 0.0
            self._test = 0.0

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._began = time.perf_counter()
            self._test = 0.0

        def on_test_begin(self, logs: Any = None) -> None:
            self._test = self._test or time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.train_phase.append((self._test or time.perf_counter()) - self._began)

    def objective(trial: optuna.Trial) -> float:
        started = time.perf_counter()
        keras.backend.clear_session()
        depth = trial.suggest_int("depth", 1, 2)
        width = trial.suggest_categorical("width", [16, 32, 64])
        lr = trial.suggest_float("learning_rate", 1e-3, 1e-2, log=True)
        batch_size = trial.suggest_categorical("batch_size", [32, 64, 128])
        model = keras.Sequential([keras.Input(shape=(64,))])
        for _ in range(depth):
            model.add(keras.layers.Dense(width, activation="relu"))
        model.add(keras.layers.Dense(10, activation="softmax"))
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=lr),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        timer = Timer()
        fit_began = time.perf_counter()
        model.fit(
            x_train,
            y_train,
            validation_data=(x_val, y_val),
            batch_size=batch_size,
            epochs=EPOCHS,
            verbose=0,
            callbacks=[timer],
        )
        fit_seconds = time.perf_counter() - fit_began
        accuracy = float(model.evaluate(x_val, y_val, verbose=0)[1])
        steady = timer.train_phase[1:] or timer.train_phase
        per_trial.append(
            {
                "wall_seconds": time.perf_counter() - started,
                "fit_seconds": fit_seconds,
                "examples_per_second": len(x_train) * len(steady) / float(np.sum(steady)),
                "state": "COMPLETE",
            }
        )
        return accuracy

    def after(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        rss.append(rss_mb())
        ends.append(time.perf_counter())

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    began = time.perf_counter()
    study.optimize(objective, n_trials=trials, callbacks=[after])
    total = time.perf_counter() - began
    return _finish(per_trial, rss, ends, began, total, len(x_train))


def _finish(
    per_trial: list[dict[str, Any]],
    rss: list[float],
    ends: list[float],
    began: float,
    total: float,
    examples: int,
) -> dict[str, Any]:
    """Per-trial overhead: loop time per trial minus the time its training steps need.

    Training-step time of a trial = epochs x examples / its steady examples/second, so
    tracing, compiling, building, validation, storage and exports all count as overhead.
    """
    loop = [end - start for start, end in zip([began, *ends[:-1]], ends, strict=True)]
    overhead, outside_fit = [], []
    for trial, seconds in zip(per_trial, loop, strict=False):
        eps = trial.get("examples_per_second") or 0.0
        steps = EPOCHS * examples / eps if eps else None
        overhead.append(None if steps is None else seconds - steps)
        fit_seconds = trial.get("fit_seconds")
        outside_fit.append(None if fit_seconds is None else seconds - fit_seconds)
        trial["loop_seconds"] = seconds
    return {
        "trials": len(per_trial),
        "total_seconds": total,
        "per_trial": per_trial,
        "overhead_seconds": overhead,
        "outside_fit_seconds": outside_fit,
        "rss_mb": rss,
        "examples": examples,
    }

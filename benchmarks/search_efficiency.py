"""Benchmark 2: search efficiency on Fashion-MNIST at equal wall-clock budgets.

The same joint space (CNN depth 1-3, width 16/32/64, dropout, L2, optimizer adam/sgd/rmsprop,
learning rate, batch size 32-256; at most 9 epochs a trial) on the same split (12k train / 3k
validation, test on the 10k test set), each tuner in a process of its own with the same budget:

- ``autotune``: ``search_spaces/fashion_speed.yaml`` through ``autotune.engine.run``;
- ``kt_hyperband``: ``keras_tuner.Hyperband(max_epochs=9, factor=3)``, batch size tuned in
  ``HyperModel.fit`` as KerasTuner's guide shows;
- ``kt_random``: ``keras_tuner.RandomSearch``, 9 epochs a trial;
- ``optuna``: plain Optuna, ``TPESampler`` + ``HyperbandPruner`` with
  ``KerasPruningCallback`` as Optuna's Keras example writes it.

The budget starts just before the tuner is called (competitors get their arrays loaded before;
autotune's budget also covers loading its data). KerasTuner has no time budget: a callback stops
the running fit at the deadline and lets no new trial start. Every epoch's validation accuracy
is logged with its time; reported: the best validation accuracy reached by 20 %, 50 % and 100 %
of the budget (60/150/300 s for the full run), the time to reach 0.88, and the test accuracy of
each tuner's final pick. Run::

    python -m benchmarks.search_efficiency --budget 300 --seeds 3     # full
    python -m benchmarks.search_efficiency --smoke                    # seconds
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    FASHION,
    ROOT,
    emit,
    machine,
    ordered,
    parser,
    run_child,
    spread,
    summary,
    table,
    write,
)

NAME = "search_efficiency"
COMPETITORS = ("autotune", "kt_hyperband", "kt_random", "optuna")
TARGET = 0.88
RUN_FILE = ROOT / "search_spaces" / "fashion_speed.yaml"


def _sizes(smoke: bool) -> tuple[int, int, int]:
    return (600, 300, 2) if smoke else (12000, 3000, 9)


def _arrays(smoke: bool, seed: int) -> dict[str, Any]:
    import numpy as np

    from autotune.data import load_dataset
    from autotune.spec import DataSpec

    train, val, _ = _sizes(smoke)
    dataset = load_dataset(
        DataSpec(
            dataset="fashion_mnist", path=FASHION, train_size=train, validation_size=val, test=True
        ),
        seed=seed,
    )
    assert dataset.x_test is not None and dataset.y_test is not None
    scale = lambda x: (x.astype("float32") / 255.0).reshape(-1, 28, 28, 1)  # noqa: E731
    test_n = 1000 if smoke else len(dataset.x_test)
    return {
        "x": scale(dataset.x_train),
        "y": dataset.y_train.astype(np.int32),
        "xv": scale(dataset.x_val),
        "yv": dataset.y_val.astype(np.int32),
        "xt": scale(dataset.x_test[:test_n]),
        "yt": dataset.y_test[:test_n].astype(np.int32),
    }


def keras_cnn(depth: int, width: int, dropout: float, l2: float) -> Any:
    """The competitors' CNN: autotune's plain ``cnn`` family written as a Keras Sequential."""
    import keras

    reg = keras.regularizers.L2(l2)
    layers: list[Any] = [keras.Input(shape=(28, 28, 1))]
    side = 28
    for i in range(depth):
        layers.append(
            keras.layers.Conv2D(
                width * 2**i, 3, padding="same", activation="relu", kernel_regularizer=reg
            )
        )
        layers.append(keras.layers.MaxPooling2D(2, padding="same"))
        side = -(-side // 2)
        if dropout > 0:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(
        keras.layers.Flatten() if side * side <= 16 else keras.layers.GlobalAveragePooling2D()
    )
    layers.append(keras.layers.Dense(10, activation="softmax", kernel_regularizer=reg))
    return keras.Sequential(layers)


def _optimizer(name: str, lr: float) -> Any:
    import keras

    return {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }[name](learning_rate=lr)


class _Log:
    """Epoch log shared by the Keras-side competitors: (seconds since start, val_accuracy)."""

    def __init__(self, budget: float) -> None:
        self.began = time.perf_counter()
        self.deadline = self.began + budget
        self.events: list[tuple[float, float]] = []
        self.on_deadline: list[Any] = []

    def callback(self) -> Any:
        import keras

        log = self

        class Recorder(keras.callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                if time.perf_counter() >= log.deadline:
                    self.model.stop_training = True
                    for stop in log.on_deadline:
                        stop()

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                accuracy = (logs or {}).get("val_accuracy")
                if accuracy is not None:
                    log.events.append((time.perf_counter() - log.began, float(accuracy)))

        return Recorder()


def run_keras_tuner(
    kind: str, data: dict[str, Any], budget: float, seed: int, epochs: int
) -> dict[str, Any]:
    import keras
    import keras_tuner as kt

    class CNN(kt.HyperModel):
        def build(self, hp: Any) -> Any:
            model = keras_cnn(
                hp.Int("depth", 1, 3),
                hp.Choice("width", [16, 32, 64]),
                hp.Float("dropout", 0.0, 0.5, step=0.1),
                hp.Float("l2", 1e-6, 1e-2, sampling="log"),
            )
            model.compile(
                optimizer=_optimizer(
                    hp.Choice("optimizer", ["adam", "sgd", "rmsprop"]),
                    hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"),
                ),
                loss="sparse_categorical_crossentropy",
                metrics=["accuracy"],
            )
            return model

        def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
            return model.fit(
                *args, batch_size=hp.Choice("batch_size", [32, 64, 128, 256]), **kwargs
            )

    with tempfile.TemporaryDirectory() as folder:
        keras.utils.set_random_seed(seed)
        common = {
            "objective": "val_accuracy",
            "seed": seed,
            "directory": folder,
            "project_name": kind,
            "overwrite": True,
        }
        if kind == "kt_hyperband":
            tuner = kt.Hyperband(CNN(), max_epochs=epochs, factor=3, **common)
            extra: dict[str, Any] = {}
        else:
            tuner = kt.RandomSearch(CNN(), max_trials=10_000, **common)
            extra = {"epochs": epochs}
        log = _Log(budget)

        def stop() -> None:
            tuner.oracle.max_trials = 1  # no new trial: the oracle reports STOPPED

        log.on_deadline.append(stop)
        tuner.search(
            data["x"],
            data["y"],
            validation_data=(data["xv"], data["yv"]),
            callbacks=[log.callback()],
            verbose=0,
            **extra,
        )
        searched = time.perf_counter() - log.began
        best = tuner.get_best_models(1)[0]
        test = float(best.evaluate(data["xt"], data["yt"], verbose=0)[1])
        trials = len(tuner.oracle.trials)
    return {
        "events": log.events,
        "test_accuracy": test,
        "trials": trials,
        "search_seconds": searched,
    }


def run_optuna(data: dict[str, Any], budget: float, seed: int, epochs: int) -> dict[str, Any]:
    import keras
    import optuna
    from optuna_integration import KerasPruningCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    log = _Log(budget)
    best = {"value": -1.0}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "best.keras"

        def objective(trial: optuna.Trial) -> float:
            keras.backend.clear_session()
            model = keras_cnn(
                trial.suggest_int("depth", 1, 3),
                trial.suggest_categorical("width", [16, 32, 64]),
                trial.suggest_float("dropout", 0.0, 0.5, step=0.1),
                trial.suggest_float("l2", 1e-6, 1e-2, log=True),
            )
            model.compile(
                optimizer=_optimizer(
                    trial.suggest_categorical("optimizer", ["adam", "sgd", "rmsprop"]),
                    trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
                ),
                loss="sparse_categorical_crossentropy",
                metrics=["accuracy"],
            )
            history = model.fit(
                data["x"],
                data["y"],
                validation_data=(data["xv"], data["yv"]),
                batch_size=trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
                epochs=epochs,
                verbose=0,
                callbacks=[KerasPruningCallback(trial, "val_accuracy"), log.callback()],
            )
            accuracy = float(history.history["val_accuracy"][-1])
            if accuracy > best["value"]:
                best["value"] = accuracy
                model.save(path)
            return accuracy

        study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=seed),
            pruner=optuna.pruners.HyperbandPruner(
                min_resource=1, max_resource=epochs, reduction_factor=3
            ),
        )
        log.on_deadline.append(study.stop)
        study.optimize(objective, timeout=budget)
        searched = time.perf_counter() - log.began
        test = None
        if path.exists():
            model = keras.models.load_model(path)
            test = float(model.evaluate(data["xt"], data["yt"], verbose=0)[1])
    return {
        "events": log.events,
        "test_accuracy": test,
        "trials": len(study.trials),
        "search_seconds": searched,
    }


def run_autotune(smoke: bool, budget: float, seed: int) -> dict[str, Any]:
    import optuna
    import yaml

    from autotune.engine import RunOptions, run
    from autotune.spec import load_run_mapping

    document = yaml.safe_load(RUN_FILE.read_text())
    train, val, epochs = _sizes(smoke)
    document["data"].update(train_size=train, validation_size=val)
    document["train"]["epochs"] = epochs
    document["seed"] = seed
    spec = load_run_mapping(document)
    with tempfile.TemporaryDirectory() as folder:
        wall0 = time.time()
        began = time.perf_counter()
        report = run(spec, RunOptions(results_dir=Path(folder), budget=budget))
        searched = time.perf_counter() - began
        study = optuna.load_study(study_name=report.study, storage=report.storage)
        events: list[tuple[float, float]] = []
        overhead: list[float] = []
        validating: list[float] = []
        for trial in study.get_trials(deepcopy=False):
            if trial.datetime_start is None:
                continue
            start = trial.datetime_start.timestamp() - wall0
            events.extend((start + t, a) for t, a in trial.user_attrs.get("curve", []))
            attrs = trial.user_attrs
            if attrs.get("end") == "complete" and attrs.get("examples_per_second"):
                steps = attrs["epochs"] * train / attrs["examples_per_second"]
                # validation passes are neither training steps nor overhead: counted apart
                validation = float(attrs.get("validation_seconds", 0.0))
                overhead.append(1.0 - (steps + validation) / attrs["wall_seconds"])
                validating.append(validation / attrs["wall_seconds"])
        trials = sum(t.datetime_start is not None for t in study.get_trials(deepcopy=False))
    return {
        "events": sorted(events),
        "test_accuracy": report.test_accuracy,
        "trials": trials,
        "search_seconds": searched,
        "overhead_share": summary(overhead)["median"],
        "validation_share": summary(validating)["median"],
    }


def child(competitor: str, seed: int, budget: float, smoke: bool) -> None:
    _, _, epochs = _sizes(smoke)
    if competitor == "autotune":
        emit(run_autotune(smoke, budget, seed))
        return
    data = _arrays(smoke, seed)
    if competitor == "optuna":
        emit(run_optuna(data, budget, seed, epochs))
    else:
        emit(run_keras_tuner(competitor, data, budget, seed, epochs))


def metrics(events: list[list[float]], budget: float) -> dict[str, Any]:
    """Best validation accuracy by 20/50/100 % of the budget and the time to reach TARGET."""
    marks = {f"best_at_{round(budget * f)}s": f * budget for f in (0.2, 0.5, 1.0)}
    out: dict[str, Any] = {}
    for name, limit in marks.items():
        seen = [a for t, a in events if t <= limit]
        out[name] = max(seen) if seen else None
    reached = [t for t, a in sorted(events) if a >= TARGET and t <= budget]
    out["time_to_target"] = reached[0] if reached else None
    return out


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__ or NAME)
    p.add_argument("--budget", type=float, default=None, help="seconds per tuner (default 300)")
    p.add_argument("--competitors", nargs="*", default=None, help="subset of the tuners")
    p.add_argument("--competitor", help="(child) competitor")
    p.add_argument("--seed", type=int, default=0, help="(child) seed")
    args = p.parse_args(argv)
    budget = args.budget or (10.0 if args.smoke else 300.0)
    if args.child:
        child(args.competitor, args.seed, budget, args.smoke)
        return 0
    if not Path(FASHION).exists():
        print(f"needs Fashion-MNIST in {FASHION} (apt-get install dataset-fashion-mnist)")
        return 2
    seeds = args.seeds or 1
    competitors = tuple(args.competitors or COMPETITORS)
    runs: list[dict[str, Any]] = []
    for seed in range(seeds):
        for competitor in ordered(competitors, seed):
            child_args = ["--competitor", competitor, "--seed", str(seed), "--budget", str(budget)]
            result = run_child(
                "benchmarks." + NAME,
                child_args + (["--smoke"] if args.smoke else []),
                timeout=budget * 3 + 600,
            )
            if "events" in result:
                result.update(metrics(result["events"], budget))
            runs.append({"competitor": competitor, "seed": seed, **result})
            print(
                f"seed {seed} {competitor}: "
                f"{json.dumps({k: v for k, v in result.items() if k != 'events'})[:300]}",
                file=sys.stderr,
            )
    marks = [f"best_at_{round(budget * f)}s" for f in (0.2, 0.5, 1.0)]
    rows, stats = [], {}
    for competitor in competitors:
        mine = [r for r in runs if r["competitor"] == competitor and "events" in r]
        entry = {m: summary(r.get(m) for r in mine) for m in marks}
        entry["time_to_target"] = summary(r.get("time_to_target") for r in mine)
        entry["reached_target"] = sum(r.get("time_to_target") is not None for r in mine)
        entry["test_accuracy"] = summary(r.get("test_accuracy") for r in mine)
        entry["trials"] = summary(r.get("trials") for r in mine)
        stats[competitor] = entry
        rows.append(
            [
                competitor,
                *(spread(entry[m], 4) for m in marks),
                spread(entry["time_to_target"], 0) + f" ({entry['reached_target']}/{len(mine)})",
                spread(entry["test_accuracy"], 4),
                spread(entry["trials"], 0),
            ]
        )
    text = table(
        [
            "tuner",
            *(m.replace("best_at_", "best val @") for m in marks),
            f"s to {TARGET} (reached)",
            "test acc of pick",
            "trials",
        ],
        rows,
    )
    text += _overhead_line(runs)
    print(text)
    path = write(
        NAME,
        {
            "benchmark": NAME,
            "smoke": args.smoke,
            "budget": budget,
            "seeds": seeds,
            "target": TARGET,
            "machine": machine(),
            "stats": stats,
            "runs": runs,
            "table": text,
        },
        out=args.out,
        smoke=args.smoke,
    )
    print(f"wrote {path}")
    return 0 if all("error" not in r for r in runs) else 1


def _overhead_line(runs: list[dict[str, Any]]) -> str:
    """autotune's complete trials: share of wall time outside training steps and validation."""
    mine = [r for r in runs if r["competitor"] == "autotune"]
    overhead = summary(r.get("overhead_share") for r in mine)
    validation = summary(r.get("validation_share") for r in mine)
    if overhead["median"] is None:
        return ""
    percent = {k: (v or 0) * 100 if k != "n" else v for k, v in overhead.items()}
    line = f"\n\nautotune's complete trials: overhead {spread(percent, 1)}% of wall time"
    line += " (goal < 5%)"
    if validation["median"] is not None:
        percent = {k: (v or 0) * 100 if k != "n" else v for k, v in validation.items()}
        line += f", validation passes {spread(percent, 1)}%"
    return line


if __name__ == "__main__":
    sys.exit(main())

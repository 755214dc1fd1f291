"""Benchmark 2: search efficiency on Fashion-MNIST at equal wall-clock budgets.

Each tuner runs in a process of its own with the same budget, on the same split (12k train /
3k validation, test on the 10k test set), at most 9 epochs a trial. Two modes:

``plain`` (the default): autotune as a user writes it from the README, against the three
competitors on the same joint space.

- ``autotune``: ``search_spaces/fashion_cnn.yaml`` through ``autotune.engine.run`` with
  ``search.start_with`` and ``search.pruner`` removed (autotune's default pruner) and
  ``search.budget`` set to the benchmark's budget; every other key as the file has it.
- the competitors search that file's space (normalization, augmentation flip/translate/
  contrast/noise with a shared strength, depth, width, plain/residual, initializer, L2, dropout,
  optimizer adam/adamw/sgd/rmsprop, momentum for sgd only, learning rate, batch size) on
  autotune's own cnn family (``benchmarks._plain_space``): normalization applied to the numpy
  arrays before ``fit``, augmentation as Keras preprocessing layers at the model's start, a
  constant learning rate as each tool's guide writes it (autotune's ``lr_schedule`` default,
  cosine decay, is part of what its user gets and stays on).
- reported: the best validation accuracy at 60, 150 and 300 s whatever the budget (a mark
  past the budget is empty), written to ``results/search_efficiency_plain.json``.

``tuned``: autotune runs ``search_spaces/fashion_speed.yaml`` (known-good first
configurations, speed knobs fixed) and the competitors a smaller space (CNN depth 1-3, width
16/32/64, dropout, L2, optimizer adam/sgd/rmsprop, learning rate, batch size 32-256: the file's
space before it gained the residual connection and standardization); reported at 20 %, 50 %
and 100 % of the budget, written to ``results/search_efficiency.json``.

The competitors:

- ``kt_hyperband``: ``keras_tuner.Hyperband(max_epochs=9, factor=3)``, batch size (and in
  plain mode normalization) tuned in ``HyperModel.fit`` as KerasTuner's guide shows;
- ``kt_random``: ``keras_tuner.RandomSearch``, 9 epochs a trial;
- ``optuna``: plain Optuna, ``TPESampler`` + ``HyperbandPruner`` with
  ``KerasPruningCallback`` as Optuna's Keras example writes it.

The budget starts just before the tuner is called (competitors get their arrays loaded before;
autotune's budget also covers loading its data). KerasTuner has no time budget: a callback stops
the running fit at the deadline and lets no new trial start. Every epoch's validation accuracy
is logged with its time; reported: the best validation accuracy reached by each mark, the time
to reach 0.88, and the test accuracy of each tuner's final pick; for autotune also its trials by
end reason. ``--budgets`` runs every competitor at each budget (each seed). Run::

    python -m benchmarks.search_efficiency --budgets 150 300 --seeds 3       # plain, full
    python -m benchmarks.search_efficiency --mode tuned --budget 300 --seeds 3
    python -m benchmarks.search_efficiency --smoke [--mode tuned]            # a minute or so
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import _plain_space as plain
from benchmarks._common import (
    FASHION,
    ROOT,
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

NAME = "search_efficiency"
COMPETITORS = ("autotune", "kt_hyperband", "kt_random", "optuna")
MODES = ("plain", "tuned")
TARGET = 0.88
RUN_FILES = {
    "plain": ROOT / "search_spaces" / "fashion_cnn.yaml",
    "tuned": ROOT / "search_spaces" / "fashion_speed.yaml",
}
RUN_FILE = RUN_FILES["tuned"]
PLAIN_MARKS = (60.0, 150.0, 300.0)
"""plain mode: seconds at which the best validation accuracy is read, whatever the budget."""
SMOKE_PLAIN_MARKS = (2.0, 5.0, 10.0)
"""plain mode's marks in a smoke run (a budget of seconds)."""


def result_name(mode: str) -> str:
    """The JSON's name: ``search_efficiency`` (tuned, as before) or ``search_efficiency_plain``."""
    return NAME if mode == "tuned" else f"{NAME}_{mode}"


def _sizes(smoke: bool) -> tuple[int, int, int]:
    return (600, 300, 2) if smoke else (12000, 3000, 9)


def _split(smoke: bool, seed: int, prepare: Any) -> tuple[Any, dict[str, Any]]:
    """The Fashion-MNIST split every tuner gets, images passed through ``prepare``."""
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
    test_n = 1000 if smoke else len(dataset.x_test)
    return dataset, {
        "x": prepare(dataset.x_train),
        "y": dataset.y_train.astype(np.int32),
        "xv": prepare(dataset.x_val),
        "yv": dataset.y_val.astype(np.int32),
        "xt": prepare(dataset.x_test[:test_n]),
        "yt": dataset.y_test[:test_n].astype(np.int32),
    }


def _plain_arrays(smoke: bool, seed: int) -> dict[str, Any]:
    """Raw pixel values (uint8, N x 28 x 28 x 1): plain mode normalizes them per trial."""
    dataset, arrays = _split(smoke, seed, lambda x: x.reshape(-1, *plain.INPUT_SHAPE))
    arrays["moments"] = plain.train_moments(arrays["x"])
    arrays["value_range"] = tuple(float(v) for v in dataset.value_range)
    return arrays


def _arrays(smoke: bool, seed: int) -> dict[str, Any]:
    return _split(smoke, seed, lambda x: (x.astype("float32") / 255.0).reshape(-1, 28, 28, 1))[1]


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


def _normalized(data: dict[str, Any], key: str, how: str) -> Any:
    """plain mode: ``data[key]`` scaled by normalization ``how`` (training statistics)."""
    return plain.normalize(data[key], how, data["moments"], data["value_range"])


def run_keras_tuner(
    kind: str, data: dict[str, Any], budget: float, seed: int, epochs: int, mode: str = "tuned"
) -> dict[str, Any]:
    import keras
    import keras_tuner as kt

    class PlainCNN(kt.HyperModel):
        """plain mode: fashion_cnn.yaml's space; normalization and batch size reach ``fit``."""

        def build(self, hp: Any) -> Any:
            return plain.compiled_model(plain.model_values(plain.KerasTunerSuggest(hp)))

        def fit(
            self,
            hp: Any,
            model: Any,
            x: Any,
            y: Any,
            validation_data: Any = None,
            **kwargs: Any,
        ) -> Any:
            how = hp.Choice("normalization", list(plain.NORMALIZATIONS))
            xv, yv = validation_data
            return model.fit(
                plain.normalize(x, how, data["moments"], data["value_range"]),
                y,
                validation_data=(
                    plain.normalize(xv, how, data["moments"], data["value_range"]),
                    yv,
                ),
                batch_size=hp.Choice("batch_size", list(plain.BATCH_SIZES)),
                **kwargs,
            )

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
        hypermodel = PlainCNN() if mode == "plain" else CNN()
        if kind == "kt_hyperband":
            tuner = kt.Hyperband(hypermodel, max_epochs=epochs, factor=3, **common)
            extra: dict[str, Any] = {}
        else:
            tuner = kt.RandomSearch(hypermodel, max_trials=10_000, **common)
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
        xt = data["xt"]
        if mode == "plain":
            how = tuner.get_best_hyperparameters(1)[0].get("normalization")
            xt = _normalized(data, "xt", how)
        test = float(best.evaluate(xt, data["yt"], verbose=0)[1])
        trials = len(tuner.oracle.trials)
    return {
        "events": log.events,
        "test_accuracy": test,
        "trials": trials,
        "search_seconds": searched,
    }


def run_optuna(
    data: dict[str, Any], budget: float, seed: int, epochs: int, mode: str = "tuned"
) -> dict[str, Any]:
    import keras
    import optuna
    from optuna_integration import KerasPruningCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    log = _Log(budget)
    best: dict[str, Any] = {"value": -1.0, "normalization": None}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "best.keras"

        def plain_objective(trial: optuna.Trial) -> float:
            keras.backend.clear_session()
            values = plain.model_values(plain.OptunaSuggest(trial))
            batch_size = trial.suggest_categorical("batch_size", list(plain.BATCH_SIZES))
            model = plain.compiled_model(values)
            how = values["normalization"]
            history = model.fit(
                _normalized(data, "x", how),
                data["y"],
                validation_data=(_normalized(data, "xv", how), data["yv"]),
                batch_size=batch_size,
                epochs=epochs,
                verbose=0,
                # the log first: the pruning callback raises at the end of the epoch it prunes
                callbacks=[log.callback(), KerasPruningCallback(trial, "val_accuracy")],
            )
            accuracy = float(history.history["val_accuracy"][-1])
            if accuracy > best["value"]:
                best.update(value=accuracy, normalization=how)
                model.save(path)
            return accuracy

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
                callbacks=[log.callback(), KerasPruningCallback(trial, "val_accuracy")],
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
        study.optimize(plain_objective if mode == "plain" else objective, timeout=budget)
        searched = time.perf_counter() - log.began
        test = None
        if path.exists():
            model = keras.models.load_model(path)
            xt = data["xt"] if mode != "plain" else _normalized(data, "xt", best["normalization"])
            test = float(model.evaluate(xt, data["yt"], verbose=0)[1])
    return {
        "events": log.events,
        "test_accuracy": test,
        "trials": len(study.trials),
        "search_seconds": searched,
    }


def autotune_document(smoke: bool, budget: float, seed: int, mode: str) -> dict[str, Any]:
    """The run file autotune runs, as a mapping.

    plain: ``fashion_cnn.yaml`` without ``search.start_with`` and ``search.pruner`` (autotune's
    default pruner) and with ``search.budget`` set to the budget; every other key as written.
    Both modes: the seed, and (smoke runs) smaller data and fewer epochs.
    """
    import yaml

    document: dict[str, Any] = yaml.safe_load(RUN_FILES[mode].read_text())
    train, val, epochs = _sizes(smoke)
    document["data"].update(train_size=train, validation_size=val)
    document["train"]["epochs"] = epochs
    document["seed"] = seed
    if mode == "plain":
        search = document["search"]
        search.pop("start_with", None)
        search.pop("pruner", None)
        search["budget"] = budget
    return document


def run_autotune(smoke: bool, budget: float, seed: int, mode: str = "tuned") -> dict[str, Any]:
    import optuna

    from autotune.engine import RunOptions, run
    from autotune.spec import load_run_mapping

    train, _, _ = _sizes(smoke)
    spec = load_run_mapping(autotune_document(smoke, budget, seed, mode))
    with tempfile.TemporaryDirectory() as folder:
        # plain: the budget is the run file's search.budget, as a user writes it
        options = RunOptions(results_dir=Path(folder), budget=None if mode == "plain" else budget)
        wall0 = time.time()
        began = time.perf_counter()
        report = run(spec, options)
        searched = time.perf_counter() - began
        study = optuna.load_study(study_name=report.study, storage=report.storage)
        events: list[tuple[float, float]] = []
        overhead: list[float] = []
        validating: list[float] = []
        ends: Counter[str] = Counter()
        partial = 0
        partial_attr = False
        first_error: str | None = None
        for trial in study.get_trials(deepcopy=False):
            attrs = trial.user_attrs or {}
            if trial.datetime_start is not None or "end" in attrs:  # not a reserved slot
                ends[str(attrs.get("end") or trial.state.name.lower())] += 1
            if first_error is None and attrs.get("end") == "error":
                first_error = str(attrs.get("reason"))[:500]
            partial_attr = partial_attr or "partial" in attrs
            partial += bool(attrs.get("partial"))
            if trial.datetime_start is None:
                continue
            start = trial.datetime_start.timestamp() - wall0
            events.extend((start + t, a) for t, a in attrs.get("curve", []))
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
        "ends": dict(sorted(ends.items())),
        "partial_trials": partial,
        "partial_attr_present": partial_attr,
        "first_error": first_error,
    }


def child(competitor: str, seed: int, budget: float, smoke: bool, mode: str = "tuned") -> None:
    _, _, epochs = _sizes(smoke)
    if competitor == "autotune":
        emit(run_autotune(smoke, budget, seed, mode))
        return
    data = _plain_arrays(smoke, seed) if mode == "plain" else _arrays(smoke, seed)
    if competitor == "optuna":
        emit(run_optuna(data, budget, seed, epochs, mode))
    else:
        emit(run_keras_tuner(competitor, data, budget, seed, epochs, mode))


def marks_for(mode: str, budget: float, smoke: bool = False) -> dict[str, float]:
    """``best_at_<s>s`` names and their seconds: tuned 20/50/100 % of the budget; plain 60, 150
    and 300 s whatever the budget (2, 5 and 10 s in a smoke run)."""
    if mode == "tuned":
        return {f"best_at_{round(budget * f)}s": f * budget for f in (0.2, 0.5, 1.0)}
    seconds = SMOKE_PLAIN_MARKS if smoke else PLAIN_MARKS
    return {f"best_at_{round(m)}s": m for m in seconds}


def metrics(
    events: list[list[float]], budget: float, marks: dict[str, float] | None = None
) -> dict[str, Any]:
    """Best validation accuracy by each mark and the time to reach TARGET within the budget.

    ``marks`` defaults to 20/50/100 % of the budget; a mark past the budget gives None.
    """
    if marks is None:
        marks = marks_for("tuned", budget)
    out: dict[str, Any] = {}
    for name, limit in marks.items():
        seen = [a for t, a in events if t <= limit]
        out[name] = max(seen) if seen and limit <= budget else None
    reached = [t for t, a in sorted(events) if a >= TARGET and t <= budget]
    out["time_to_target"] = reached[0] if reached else None
    return out


def _label(budget: float) -> str:
    return f"{budget:g}"


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__ or NAME)
    p.add_argument("--mode", choices=MODES, default="plain", help="plain (default) or tuned")
    p.add_argument("--budget", type=float, default=None, help="seconds per tuner (default 300)")
    p.add_argument(
        "--budgets", type=float, nargs="+", default=None, help="several budgets, each in turn"
    )
    p.add_argument("--competitors", nargs="*", default=None, help="subset of the tuners")
    p.add_argument("--competitor", help="(child) competitor")
    p.add_argument("--seed", type=int, default=0, help="(child) seed")
    args = p.parse_args(argv)
    if args.budget is not None and args.budgets is not None:
        p.error("give --budget or --budgets, not both")
    budgets = args.budgets or [args.budget or (10.0 if args.smoke else 300.0)]
    if args.child:
        child(args.competitor, args.seed, budgets[0], args.smoke, args.mode)
        return 0
    if not Path(FASHION).exists():
        print(f"needs Fashion-MNIST in {FASHION} (apt-get install dataset-fashion-mnist)")
        return 2
    seeds = args.seeds or 1
    mode = args.mode
    competitors = tuple(args.competitors or COMPETITORS)
    runs: list[dict[str, Any]] = []
    for seed in range(seeds):
        for budget in ordered(budgets, seed):
            for competitor in ordered(competitors, seed):
                child_args = [
                    *("--competitor", competitor, "--seed", str(seed)),
                    *("--budget", str(budget), "--mode", mode),
                ]
                result = run_child(
                    "benchmarks." + NAME,
                    child_args + (["--smoke"] if args.smoke else []),
                    timeout=budget * 3 + 600,
                )
                if "events" in result:
                    result.update(
                        metrics(result["events"], budget, marks_for(mode, budget, args.smoke))
                    )
                runs.append({"competitor": competitor, "seed": seed, "budget": budget, **result})
                shown = json.dumps({k: v for k, v in result.items() if k != "events"})
                print(f"seed {seed} {_label(budget)}s {competitor}: {shown[:400]}", file=sys.stderr)
    stats: dict[str, dict[str, Any]] = {competitor: {} for competitor in competitors}
    blocks = []
    for budget in budgets:
        at_budget = [r for r in runs if r["budget"] == budget]
        text, by_competitor = _block(at_budget, competitors, mode, budget, args.smoke)
        for competitor, entry in by_competitor.items():
            stats[competitor][_label(budget)] = entry
        blocks.append(text)
    text = "\n\n".join(blocks)
    print(text)
    return finish(
        result_name(mode),
        {
            "benchmark": NAME,
            "mode": mode,
            "run_file": str(RUN_FILES[mode].relative_to(ROOT)),
            "smoke": args.smoke,
            "budget": budgets[0] if len(budgets) == 1 else None,
            "budgets": budgets,
            "marks": {_label(b): marks_for(mode, b, args.smoke) for b in budgets},
            "seeds": seeds,
            "target": TARGET,
            "machine": machine(),
            "stats": stats,
            "runs": runs,
            "table": text,
        },
        runs,
        out=args.out,
        smoke=args.smoke,
    )


def _block(
    runs: list[dict[str, Any]], competitors: tuple[str, ...], mode: str, budget: float, smoke: bool
) -> tuple[str, dict[str, dict[str, Any]]]:
    """The table of one budget (with autotune's overhead and trial-end lines) and its stats."""
    marks = list(marks_for(mode, budget, smoke))
    rows, stats = [], {}
    for competitor in competitors:
        mine = [r for r in runs if r["competitor"] == competitor and "events" in r]
        entry = {m: summary(r.get(m) for r in mine) for m in marks}
        entry["time_to_target"] = summary(r.get("time_to_target") for r in mine)
        entry["reached_target"] = sum(r.get("time_to_target") is not None for r in mine)
        entry["test_accuracy"] = summary(r.get("test_accuracy") for r in mine)
        entry["trials"] = summary(r.get("trials") for r in mine)
        if competitor == "autotune":
            ends: Counter[str] = Counter()
            for r in mine:
                ends.update(r.get("ends") or {})
            entry["ends"] = dict(sorted(ends.items()))
            entry["partial_trials"] = sum(int(r.get("partial_trials") or 0) for r in mine)
            entry["partial_attr_present"] = any(r.get("partial_attr_present") for r in mine)
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
    text = f"{mode} mode, budget {_label(budget)} s:\n\n" + table(
        [
            "tuner",
            *(m.replace("best_at_", "best val @") for m in marks),
            f"s to {TARGET} (reached)",
            "test acc of pick",
            "trials",
        ],
        rows,
    )
    overhead = _overhead_line(runs)
    ends = _ends_line(stats.get("autotune"))
    text += overhead + (("\n" if overhead else "\n\n") + ends if ends else "")
    return text, stats


def _ends_line(entry: dict[str, Any] | None) -> str:
    """autotune's trials by end reason (summed over seeds) and its partial trials."""
    if not entry or not entry.get("ends"):
        return ""
    ends = ", ".join(f"{end} {count}" for end, count in entry["ends"].items())
    partial = entry["partial_trials"] if entry["partial_attr_present"] else "0 (attr absent)"
    return f"autotune's trials by end (all seeds): {ends}; partial trials: {partial}"


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

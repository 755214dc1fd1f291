"""Custom objectives: autotune times, prunes, ranks and stores; the objective trains."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import optuna
import pytest
from sklearn.datasets import load_digits

import autotune as at


def test_what_an_objective_returns_decides_how_its_trial_ends(tmp_path: Path) -> None:
    @at.objective
    def answer(config: at.TrialConfig, ctx: at.TrialContext) -> Any:
        mode = config["mode"]
        if mode == "raise":
            raise RuntimeError("the objective broke")
        return {
            "float": 0.75,
            "dict": {"accuracy": 0.8, "latency_ms": 3.5, "note": "fast"},
            "nan": float("nan"),
            "string": "great",
            "missing": {"loss": 0.2},
            "none": None,
        }[mode]

    modes = ["float", "dict", "nan", "string", "missing", "raise", "none"]
    study = at.tune(
        at.Space(mode=modes),
        objective=answer,
        trials=len(modes),
        sampler="grid",
        results_dir=tmp_path,
    )
    ends = {t.params["mode"]: t for t in study.optuna.trials}
    assert len(ends) == len(modes)  # one failing trial never ends the study
    assert ends["float"].state.name == "COMPLETE" and ends["float"].value == 0.75
    assert ends["dict"].value == 0.8
    assert (
        ends["dict"].user_attrs["latency_ms"] == 3.5 and ends["dict"].user_attrs["note"] == "fast"
    )
    assert ends["nan"].state.name == "PRUNED" and ends["nan"].user_attrs["end"] == "nan"
    assert "accuracy=nan" in ends["nan"].user_attrs["reason"]
    for mode, words in {
        "string": "returned 'great' (a str)",
        "missing": "no 'accuracy' key (keys: loss)",
        "raise": "the objective raised RuntimeError: the objective broke",
        "none": "returned None",
    }.items():
        assert ends[mode].state.name == "FAIL", mode
        assert words in ends[mode].user_attrs["reason"], ends[mode].user_attrs["reason"]
    # the reasons reach trials.csv and the leaderboard ranks the two that completed
    table = study.trials()
    assert table.set_index("number").loc[ends["raise"].number, "reason"].startswith("error: ")
    assert study.leaderboard()["params_mode"].tolist()[0] in ("float", "dict")
    assert study.best_result is not None


def test_report_prunes_and_the_deadline_stops_a_trial(tmp_path: Path) -> None:
    @at.objective
    def steady(config: at.TrialConfig, ctx: at.TrialContext) -> float:
        for epoch in range(1, 4):
            if ctx.report(config["x"], epoch):
                break
        return config["x"]

    study = at.tune(
        at.Space(x=at.Float(0.0, 1.0)),
        objective=steady,
        trials=2,
        start_with=[{"x": 0.9}, {"x": 0.1}],
        pruner="median",
        pruner_options={"n_startup_trials": 1, "n_warmup_steps": 0},
        results_dir=tmp_path,
    )
    first, second = study.optuna.trials
    assert first.state.name == "COMPLETE" and first.intermediate_values == {1: 0.9, 2: 0.9, 3: 0.9}
    assert second.state.name == "PRUNED" and second.user_attrs["reason"] == "pruned after epoch 1"

    @at.objective
    def endless(config: at.TrialConfig, ctx: at.TrialContext) -> float:
        epoch = 0
        while not ctx.report(0.5, epoch := epoch + 1):
            time.sleep(0.05)
        assert ctx.seconds_left() == 0.0
        return 0.5

    study = at.tune(
        at.Space(x=at.Float(0.0, 1.0)),
        objective=endless,
        trials=5,
        budget="1s",
        results_dir=tmp_path,
    )
    (only,) = [t for t in study.optuna.trials if t.state.is_finished()]  # the rest never ran
    # what the objective returned when the budget stopped it is kept, marked partial
    assert only.state.name == "COMPLETE" and only.user_attrs["end"] == "deadline"
    assert only.user_attrs["partial"] is True and only.value == 0.5

    @at.objective
    def endless_loss(config: at.TrialConfig, ctx: at.TrialContext) -> dict[str, float]:
        epoch = 0
        while not ctx.report(0.25, epoch := epoch + 1):
            time.sleep(0.05)
        return {"loss": 0.25, "accuracy": 0.75}

    study = at.tune(
        at.Space(x=at.Float(0.0, 1.0)),
        objective=endless_loss,
        metric="loss",
        direction="minimize",
        trials=2,
        budget="1s",
        results_dir=tmp_path / "loss",
    )
    (only,) = [t for t in study.optuna.trials if t.state.is_finished()]
    # the study minimizes loss: the partial trial is told its loss, never its accuracy
    assert only.state.name == "COMPLETE" and only.value == 0.25


def test_keras_callback_reports_each_epoch_and_keeps_the_model(tmp_path: Path) -> None:
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")

    @at.objective
    def train(config: at.TrialConfig, ctx: at.TrialContext) -> dict[str, float]:
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
        model.compile(
            keras.optimizers.Adam(config["lr"]),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        (xt, yt), (xv, yv) = ctx.train, ctx.validation
        model.fit(
            xt,
            yt,
            validation_data=(xv, yv),
            epochs=ctx.epochs,
            verbose=0,
            callbacks=[ctx.keras_callback()],
        )
        start = time.perf_counter()
        model.predict(xv[:64], verbose=0)
        _, accuracy = model.evaluate(xv, yv, verbose=0)
        return {"accuracy": accuracy, "latency_ms": 1000 * (time.perf_counter() - start)}

    study = at.tune(
        at.Space(lr=at.Float(1e-3, 1e-1, log=True)),
        objective=train,
        data=(x[:300], y[:300]),
        trials=2,
        epochs=3,
        pruner="none",
        sampler="random",
        results_dir=tmp_path,
    )
    result = study.best_result
    assert result is not None and result.epochs == 3 and len(result.curve) == 3
    assert result.train_seconds > 0 and result.first_epoch_seconds > 0
    assert result.examples_per_second > 0 and result.extras["latency_ms"] > 0
    assert study.best_model().output_shape == (None, 10)


def test_directions_make_several_objectives_without_pruning(tmp_path: Path) -> None:
    seen: list[bool] = []

    @at.objective
    def two(config: at.TrialConfig, ctx: at.TrialContext) -> dict[str, float]:
        ctx.report(config["x"], 1)
        seen.append(ctx.should_prune())
        return {"accuracy": config["x"], "latency_ms": 10 * config["x"], "size": 3.0}

    directions = {"accuracy": "maximize", "latency_ms": "minimize"}
    study = at.tune(
        at.Space(x=at.Float(0.0, 1.0)),
        objective=two,
        directions=directions,
        trials=4,
        sampler="nsga2",
        results_dir=tmp_path,
    )
    assert [d.name for d in study.optuna.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert study.optuna.metric_names == ["accuracy", "latency_ms"]
    assert all(len(t.values) == 2 for t in study.optuna.trials)
    assert seen == [False] * 4 and all(not t.intermediate_values for t in study.optuna.trials)
    assert study.optuna.trials[0].user_attrs["size"] == 3.0
    with pytest.raises(at.SpecError, match="multi-objective"):
        at.tune(
            at.Space(x=at.Float(0.0, 1.0)),
            objective=two,
            directions=directions,
            pruner="median",
            results_dir=tmp_path,
        )


def test_metric_and_direction_name_what_optuna_optimises(tmp_path: Path) -> None:
    @at.objective
    def loss(config: at.TrialConfig, ctx: at.TrialContext) -> dict[str, float]:
        assert ctx.train is None  # no data given: the objective brings its own
        return {"loss": (config["x"] - 0.25) ** 2, "accuracy": 1 - config["x"]}

    study = at.tune(
        at.Space(x=at.Float(0.0, 1.0)),
        objective=loss,
        metric="loss",
        direction="minimize",
        trials=6,
        sampler="random",
        results_dir=tmp_path,
    )
    assert study.optuna.direction == optuna.study.StudyDirection.MINIMIZE
    assert study.optuna.metric_names == ["loss"]
    best = study.optuna.best_trial
    assert best.value == min(t.value for t in study.optuna.trials)
    assert math.isclose(best.user_attrs["loss"], best.value)
    # ranked by the metric it optimised: the smallest loss first, shown in its own column
    board = study.leaderboard()
    assert board["trial"][0] == best.number and board["loss"].is_monotonic_increasing
    assert study.best is not None and study.best["x"] == best.params["x"]
    assert np.isfinite(board["accuracy"]).all()

    # any returned key ranks, as a rank: section says
    @at.objective
    def sized(config: at.TrialConfig, ctx: at.TrialContext) -> dict[str, float]:
        return {"accuracy": 0.9, "size": round(100 * config["x"])}

    study = at.tune(
        at.Space(x=at.Float(0.0, 1.0)),
        objective=sized,
        trials=4,
        sampler="random",
        rank={"by": "metric", "metric": "size", "direction": "minimize"},
        results_dir=tmp_path,
    )
    board = study.leaderboard()
    assert len(board) == 4 and board["size"].is_monotonic_increasing
    assert study.best["x"] == min(t.params["x"] for t in study.optuna.trials)

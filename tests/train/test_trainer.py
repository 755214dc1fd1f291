"""The trainer ends every trial with a result that says how it ended, and measures it."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from autotune.space import TrialConfig
from autotune.train import fit, make_optimizer

CONFIG = TrialConfig({"optimizer": "adam", "learning_rate": 0.01})


def _data(n: int = 256, *, nan: bool = False) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    if nan:
        x[3, 2] = np.nan
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    return train, train


def _model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(8, activation="tanh"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )


def _fit(**kwargs: object):  # type: ignore[no-untyped-def]
    train, val = _data(nan=bool(kwargs.pop("nan", False)))
    options: dict = {
        "build_model": _model,
        "train": train,
        "validation": val,
        "train_examples": 256,
        "epochs": 3,
    }
    options.update(kwargs)
    return fit(CONFIG, **options)


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("adam", "Adam"),
        ("adamw", "AdamW"),
        ("sgd", "SGD"),
        ("rmsprop", "RMSprop"),
        ("nadam", "Nadam"),
        ("adagrad", "Adagrad"),
    ],
)
def test_each_optimizer_is_built_with_the_learning_rate(name: str, cls: str) -> None:
    optimizer = make_optimizer(
        TrialConfig({"optimizer": name, "learning_rate": 0.02, "momentum": 0.5})
    )
    assert type(optimizer).__name__ == cls
    assert float(optimizer.learning_rate) == pytest.approx(0.02)


def test_sgd_momentum_comes_from_the_config() -> None:
    assert (
        make_optimizer(
            TrialConfig({"optimizer": "sgd", "learning_rate": 0.1, "momentum": 0.9})
        ).momentum
        == 0.9
    )
    assert make_optimizer(TrialConfig({"optimizer": "sgd", "learning_rate": 0.1})).momentum == 0.0


def test_a_complete_trial_is_measured() -> None:
    started = time.perf_counter()
    outcome = _fit(started_at=started)
    result = outcome.result
    assert result.end == "complete" and result.reason is None
    assert result.epochs == 3 and len(result.curve) == 3
    assert 0.0 <= result.accuracy <= 1.0 and result.accuracy == result.curve[-1][1]
    times = [t for t, _ in result.curve]
    assert times == sorted(times) and times[-1] <= result.wall_seconds
    assert 0 < result.first_epoch_seconds <= result.train_seconds <= result.wall_seconds
    assert result.examples_per_second > 0
    # the epochs' validation passes are timed apart from training
    assert 0 < result.extras["validation_seconds"] < result.train_seconds
    assert result.devices == ("/cpu:0",)
    assert outcome.model is not None
    attrs = result.user_attrs()
    assert attrs["accuracy_per_second"] == pytest.approx(result.accuracy / result.wall_seconds)
    assert attrs["curve"] == [list(p) for p in result.curve]


def test_report_can_prune_after_an_epoch() -> None:
    seen: list[tuple[int, float]] = []

    def report(epoch: int, accuracy: float) -> bool:
        seen.append((epoch, accuracy))
        return epoch == 2

    result = _fit(report=report).result
    assert result.end == "pruned" and result.epochs == 2
    assert [e for e, _ in seen] == [1, 2]


def test_a_passed_deadline_stops_training() -> None:
    result = _fit(epochs=50, deadline=time.perf_counter() + 0.3).result
    assert result.end == "deadline"
    assert result.epochs < 50
    assert "budget" in (result.reason or "")


def test_a_nan_loss_ends_the_trial_as_nan() -> None:
    result = _fit(nan=True).result
    assert result.end == "nan"
    assert "NaN" in (result.reason or "")


def test_out_of_memory_is_reported_as_oom() -> None:
    def huge() -> keras.Model:
        return keras.Sequential(
            [keras.Input((8,)), keras.layers.Dense(2**34), keras.layers.Dense(2)]
        )

    result = _fit(build_model=huge).result
    assert result.end == "oom"
    assert "memory" in (result.reason or "")


def test_an_exception_in_the_trial_is_an_error_with_its_message() -> None:
    def broken() -> keras.Model:
        raise RuntimeError("user code exploded")

    outcome = _fit(build_model=broken)
    assert outcome.result.end == "error"
    assert "user code exploded" in (outcome.result.reason or "")
    assert outcome.model is None


def test_ctrl_c_during_training_is_an_interrupted_result() -> None:
    def report(epoch: int, accuracy: float) -> bool:
        raise KeyboardInterrupt

    result = _fit(report=report).result
    assert result.end == "interrupted"


def test_a_trial_that_trained_every_epoch_is_complete_even_past_the_deadline() -> None:
    from autotune.train import TrialMonitor

    model = _model()
    monitor = TrialMonitor(started_at=time.perf_counter(), deadline=time.perf_counter() - 1)
    monitor.set_model(model)
    monitor.set_params({"epochs": 2})
    monitor.on_epoch_begin(0)
    monitor.on_epoch_end(0, {"loss": 0.5, "val_accuracy": 0.7})
    assert monitor.stopped == "deadline"
    monitor.stopped = None
    monitor.on_epoch_begin(1)
    monitor.on_epoch_end(1, {"loss": 0.4, "val_accuracy": 0.8})
    assert monitor.stopped is None and len(monitor.curve) == 2


def test_a_prune_after_the_last_epoch_leaves_the_trial_complete() -> None:
    # Hyperband pruned trials after their 9th and last epoch (issue 14): the pruner still
    # hears the last epoch, but the training it judged is kept
    seen: list[int] = []

    def report(epoch: int, accuracy: float) -> bool:
        seen.append(epoch)
        return True

    result = _fit(epochs=1, report=report).result
    assert seen == [1]
    assert result.end == "complete" and result.epochs == 1


def test_the_budget_stopping_an_epoch_keeps_what_the_model_reached() -> None:
    # one long epoch (many small batches), stopped by the deadline inside it
    train, val = _data(16384)
    result = fit(
        CONFIG,
        build_model=_model,
        train=train.unbatch().batch(4),
        validation=val.take(8),
        train_examples=16384,
        epochs=3,
        deadline=time.perf_counter() + 1.0,
        steps_per_execution=1,
    ).result
    assert result.end == "deadline" and result.epochs == 0
    assert result.partial
    assert result.accuracy is not None and 0.0 <= result.accuracy <= 1.0
    assert result.curve[-1][1] == result.accuracy  # measured when the budget stopped it
    assert result.user_attrs()["partial"] is True


@pytest.mark.parametrize(
    ("schedule", "rates"), [("cosine", [0.01, 0.0075, 0.0025]), ("constant", [0.01] * 3)]
)
def test_the_learning_rate_follows_the_schedule_epoch_by_epoch(
    schedule: str, rates: list[float]
) -> None:
    built: list[keras.Model] = []
    seen: list[float] = []

    def build() -> keras.Model:
        built.append(_model())
        return built[-1]

    def report(epoch: int, accuracy: float) -> bool:
        seen.append(float(built[-1].optimizer.learning_rate))  # the rate the epoch trained at
        return False

    train, val = _data()
    config = TrialConfig({"optimizer": "adam", "learning_rate": 0.01, "lr_schedule": schedule})
    outcome = fit(
        config,
        build_model=build,
        train=train,
        validation=val,
        train_examples=256,
        epochs=3,
        report=report,
    )
    assert outcome.result.end == "complete"
    assert seen == pytest.approx(rates, rel=1e-5)


def test_a_config_without_a_schedule_decays_by_cosine_the_catalogue_default() -> None:
    outcome = _fit(epochs=2)  # CONFIG names no lr_schedule
    assert float(outcome.model.optimizer.learning_rate) == pytest.approx(0.005, rel=1e-5)


def test_an_unknown_schedule_is_an_error_naming_it() -> None:
    config = TrialConfig({"optimizer": "adam", "learning_rate": 0.01, "lr_schedule": "step"})
    train, val = _data()
    result = fit(
        config, build_model=_model, train=train, validation=val, train_examples=256, epochs=2
    ).result
    assert result.end == "error"
    assert "lr_schedule: expected one of cosine, constant, got 'step'" in result.reason

"""A kept compiled model trains a new trial exactly like a freshly built one, only sooner."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest

from autotune.data import load_dataset, make_datasets
from autotune.models import build_model
from autotune.space import CATALOGUE, TrialConfig
from autotune.spec import DataSpec
from autotune.train import CompiledModels, CompileKnobs, compiled_key, fit, seed_trial
from autotune.train._compiled import Compiled

DIGITS = load_dataset(DataSpec(dataset="digits", validation_split=0.2), seed=0)


def _config(**values: Any) -> TrialConfig:
    base = {k: e.default for k, e in CATALOGUE.items()}
    base.update(values)
    return TrialConfig(base)


def _trial(config: TrialConfig, seed: int, models: CompiledModels | None, family: str = "mlp"):  # type: ignore[no-untyped-def]
    dataset = DIGITS  # 8x8 images: the mlp flattens them
    seed_trial(seed)
    data = make_datasets(dataset, config, seed=seed)

    def build() -> keras.Model:
        return build_model(
            config,
            family=family,
            input_shape=dataset.input_shape,
            num_classes=dataset.num_classes,
            seed=seed,
            augment=None if data.model_augment is None else data.model_augment(),
        )

    return fit(
        config,
        build_model=build,
        train=data.train,
        validation=data.validation,
        train_examples=data.train_examples,
        epochs=2,
        compiled=models,
        model_key=(family, dataset.input_shape, dataset.num_classes),
    )


@pytest.mark.parametrize(
    ("family", "shape"),
    [
        ("mlp", {"depth": 2, "width": 32, "dropout": 0.2, "l2": 1e-4}),
        ("mlp", {"depth": 1, "width": 16, "optimizer": "sgd", "momentum": 0.9}),
        ("mlp", {"depth": 2, "width": 16, "connection": "residual", "optimizer": "rmsprop"}),
        ("cnn", {"depth": 1, "width": 8, "augment_on": "model", "flip": True}),
        ("mlp", {"depth": 1, "width": 16, "precision": "mixed_float16"}),  # loss scaling
    ],
)
def test_a_kept_model_trains_the_next_trial_like_a_fresh_model(
    family: str, shape: dict[str, Any]
) -> None:
    first = _config(**shape, learning_rate=0.01, batch_size=64)
    second = _config(**shape, learning_rate=0.003, batch_size=32, initializer="he_normal")
    models = CompiledModels()
    warm = _trial(first, 1, models, family)
    assert warm.result.end == "complete"
    assert warm.result.extras["reused_compiled"] is False
    assert len(models) == 1

    reused = _trial(second, 2, models, family)
    reused_weights = [w.copy() for w in reused.model.get_weights()]
    fresh = _trial(second, 2, None, family)

    assert reused.result.extras["reused_compiled"] is True
    assert fresh.result.extras["reused_compiled"] is False
    assert reused.model is warm.model  # the same compiled object, reset
    assert reused.result.accuracy == pytest.approx(fresh.result.accuracy, abs=1e-6)
    for got, want in zip(reused_weights, fresh.model.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # the optimizer started from scratch with the new trial's rate, decayed like the fresh one's
    # (cosine over 2 epochs: the second trains at half the rate)
    assert float(reused.model.optimizer.learning_rate.numpy()) == pytest.approx(0.0015)
    assert float(fresh.model.optimizer.learning_rate.numpy()) == pytest.approx(0.0015)
    assert int(reused.model.optimizer.iterations.numpy()) == int(
        fresh.model.optimizer.iterations.numpy()
    )


def test_a_different_architecture_or_speed_knob_compiles_anew() -> None:
    models = CompiledModels()
    assert _trial(_config(width=16), 1, models).result.extras["reused_compiled"] is False
    assert _trial(_config(width=32), 2, models).result.extras["reused_compiled"] is False
    assert (
        _trial(_config(width=16, steps_per_execution=4), 3, models).result.extras["reused_compiled"]
        is False
    )
    assert _trial(_config(width=16, batch_size=128), 4, models).result.extras["reused_compiled"]
    assert models.hits == 1 and len(models) == 3


def test_without_a_cache_every_trial_compiles() -> None:
    assert _trial(_config(), 1, None).result.extras["reused_compiled"] is False
    assert _trial(_config(), 2, None).result.extras["reused_compiled"] is False


def test_keys_ignore_what_the_traced_step_never_sees() -> None:
    model = ("mlp", (64,), 10)
    key = compiled_key(_config(), CompileKnobs(), model=model, devices=["/cpu:0"])
    same = {"learning_rate": 0.5, "initializer": "he_uniform", "batch_size": 7, "cache": False}
    assert compiled_key(_config(**same), CompileKnobs(), model=model, devices=["/cpu:0"]) == key
    # host augmentation is the pipeline's; in the model it changes the graph
    assert compiled_key(_config(flip=True), CompileKnobs(), model=model, devices=["/cpu:0"]) == key
    assert (
        compiled_key(
            _config(flip=True, augment_on="model"), CompileKnobs(), model=model, devices=["/cpu:0"]
        )
        != key
    )
    for other in (
        {"dropout": 0.1},
        {"optimizer": "sgd"},
        {"l2": 0.01},
    ):
        assert (
            compiled_key(_config(**other), CompileKnobs(), model=model, devices=["/cpu:0"]) != key
        )
    assert (
        compiled_key(_config(), CompileKnobs(jit_compile=True), model=model, devices=["/cpu:0"])
        != key
    )
    assert (
        compiled_key(_config(), CompileKnobs(), model=("mlp", (64,), 3), devices=["/cpu:0"]) != key
    )
    assert compiled_key(_config(), CompileKnobs(), model=model, devices=["/cpu:0", "/cpu:1"]) != key


def test_the_cache_keeps_the_most_recently_used_models_within_its_bounds() -> None:
    def entry(nbytes: int) -> Compiled:
        return Compiled(
            model=None, strategy=None, strategy_name="", optimizer_state=[], nbytes=nbytes
        )  # type: ignore[arg-type]

    models = CompiledModels(capacity=2, max_bytes=100)
    models.put("a", entry(10))
    models.put("b", entry(10))
    assert models.take("a") is not None  # taken out while its trial trains
    assert models.take("a") is None
    models.put("a", entry(10))
    models.put("c", entry(10))  # b is the least recently used
    assert models.take("b") is None
    assert len(models) == 2
    models.put("huge", entry(1000))  # over max_bytes: never kept
    assert models.take("huge") is None
    assert CompiledModels(capacity=0).take("a") is None

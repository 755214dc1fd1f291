"""The contract both families keep: shapes, dtypes, every config dimension, seeds, errors."""

from __future__ import annotations

import gc
import math
import weakref
from collections.abc import Callable

import keras
import numpy as np
import pytest

from autotune.models import FAMILIES, build_model
from autotune.space import TrialConfig

MakeConfig = Callable[..., TrialConfig]
INPUT_SHAPES = {"mlp": (64,), "cnn": (8, 8, 1)}
"""Digits-sized inputs: 64 flat features, or 8x8 grey images."""


def build(config: TrialConfig, family: str, seed: int | None = 0) -> keras.Model:
    return build_model(
        config, family=family, input_shape=INPUT_SHAPES[family], num_classes=10, seed=seed
    )


def batch(family: str, n: int = 5) -> np.ndarray:
    return np.random.default_rng(0).random((n, *INPUT_SHAPES[family]), dtype=np.float32)


def kernels(model: keras.Model) -> list[keras.Layer]:
    return [layer for layer in model.layers if hasattr(layer, "kernel")]


def layers_of(model: keras.Model, kind: type) -> list[keras.Layer]:
    return [layer for layer in model.layers if isinstance(layer, kind)]


@pytest.mark.parametrize("family", FAMILIES)
def test_default_config_gives_probabilities(family: str, make_config: MakeConfig) -> None:
    model = build(make_config(), family)
    assert model.input.dtype == "float32"
    assert model.output_shape == (None, 10)
    assert model.get_layer("output").dtype == "float32"
    probabilities = model.predict(batch(family), verbose=0)
    assert probabilities.shape == (5, 10)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (probabilities >= 0).all()
    assert not model.compiled


@pytest.mark.parametrize("family", FAMILIES)
def test_output_stays_float32_under_mixed_precision(family: str, make_config: MakeConfig) -> None:
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = build(make_config(), family)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.get_layer("block1_" + ("dense" if family == "mlp" else "conv")).compute_dtype == (
        "float16"
    )
    assert model.get_layer("output").compute_dtype == "float32"
    assert model.output.dtype == "float32"


@pytest.mark.parametrize("family", FAMILIES)
def test_depth_adds_blocks_and_parameters(family: str, make_config: MakeConfig) -> None:
    params = []
    for depth in (1, 2, 3):
        model = build(make_config(depth=depth, width=8), family)
        blocks = {layer.name.split("_")[0] for layer in model.layers if layer.name[:5] == "block"}
        assert blocks == {f"block{i}" for i in range(1, depth + 1)}
        params.append(model.count_params())
    assert params[0] < params[1] < params[2]


@pytest.mark.parametrize("family", FAMILIES)
def test_width_adds_parameters(family: str, make_config: MakeConfig) -> None:
    params = [build(make_config(width=w), family).count_params() for w in (4, 8, 16)]
    assert params[0] < params[1] < params[2]


@pytest.mark.parametrize(("family", "adds"), [("mlp", 2), ("cnn", 3)])
def test_residual_adds_skip_connections(family: str, adds: int, make_config: MakeConfig) -> None:
    plain = build(make_config(depth=3, connection="plain"), family)
    residual = build(make_config(depth=3, connection="residual"), family)
    assert layers_of(plain, keras.layers.Add) == []
    names = [layer.name for layer in layers_of(residual, keras.layers.Add)]
    assert names == [f"block{i}_add" for i in range(4 - adds, 4)]
    assert residual.predict(batch(family), verbose=0).shape == (5, 10)


EXPECTED_INIT = {
    # name: (class, scale, fan mode, uniform?) as in Keras's VarianceScaling definitions
    "glorot_uniform": (keras.initializers.GlorotUniform, 1.0, "avg", True),
    "glorot_normal": (keras.initializers.GlorotNormal, 1.0, "avg", False),
    "he_normal": (keras.initializers.HeNormal, 2.0, "in", False),
    "he_uniform": (keras.initializers.HeUniform, 2.0, "in", True),
    "lecun_normal": (keras.initializers.LecunNormal, 1.0, "in", False),
    "lecun_uniform": (keras.initializers.LecunUniform, 1.0, "in", True),
}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("name", list(EXPECTED_INIT))
def test_initializer_is_used_on_every_kernel(
    family: str, name: str, make_config: MakeConfig
) -> None:
    model = build(make_config(initializer=name, connection="residual"), family)
    expected_class = EXPECTED_INIT[name][0]
    assert kernels(model)
    for layer in kernels(model):
        assert type(layer.kernel_initializer) is expected_class, layer.name


@pytest.mark.parametrize("name", list(EXPECTED_INIT))
def test_initializer_sets_the_weight_distribution(name: str, make_config: MakeConfig) -> None:
    # 64 inputs -> 256 units: fan_in 64, fan_avg 160, 16384 weights
    model = build(make_config(initializer=name, width=256, depth=1), "mlp", seed=1)
    weights = keras.ops.convert_to_numpy(model.get_layer("block1_dense").kernel)
    _, scale, mode, uniform = EXPECTED_INIT[name]
    fan = 64 if mode == "in" else (64 + 256) / 2
    expected_std = math.sqrt(scale / fan)
    assert weights.std() == pytest.approx(expected_std, rel=0.05)
    assert abs(weights.mean()) < 0.05 * expected_std
    # a uniform draw ends at sqrt(3) std; Keras's truncated normal reaches ~2.27 std
    tail = np.abs(weights).max() / weights.std()
    assert tail < 1.75 if uniform else tail > 2.1


def test_he_normal_is_wider_than_lecun_normal(make_config: MakeConfig) -> None:
    def std(name: str) -> float:
        model = build(make_config(initializer=name, width=256, depth=1), "mlp", seed=2)
        return float(keras.ops.convert_to_numpy(model.get_layer("block1_dense").kernel).std())

    assert std("he_normal") / std("lecun_normal") == pytest.approx(math.sqrt(2), rel=0.05)


def regularization(model: keras.Model) -> float:
    return float(sum(keras.ops.convert_to_numpy(loss) for loss in model.losses))


@pytest.mark.parametrize("family", FAMILIES)
def test_no_regularization_by_default(family: str, make_config: MakeConfig) -> None:
    model = build(make_config(l1=0.0, l2=0.0), family)
    assert model.losses == []
    assert all(layer.kernel_regularizer is None for layer in kernels(model))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_regularization_on_every_kernel_scales_with_value(
    family: str, penalty: str, make_config: MakeConfig
) -> None:
    small = build(make_config(connection="residual", **{penalty: 1e-3}), family)
    large = build(make_config(connection="residual", **{penalty: 3e-3}), family)
    assert len(small.losses) == len(kernels(small)) > 0
    assert regularization(small) > 0
    assert regularization(large) == pytest.approx(3 * regularization(small), rel=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
def test_l1_and_l2_add_up(family: str, make_config: MakeConfig) -> None:
    l1 = regularization(build(make_config(l1=1e-3), family))
    l2 = regularization(build(make_config(l2=1e-3), family))
    both = regularization(build(make_config(l1=1e-3, l2=1e-3), family))
    assert both == pytest.approx(l1 + l2, rel=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
def test_dropout_layers_follow_the_rate(family: str, make_config: MakeConfig) -> None:
    assert layers_of(build(make_config(depth=3, dropout=0.0), family), keras.layers.Dropout) == []
    model = build(make_config(depth=3, dropout=0.4), family)
    dropouts = layers_of(model, keras.layers.Dropout)
    assert [layer.name for layer in dropouts] == [f"block{i}_dropout" for i in (1, 2, 3)]
    assert all(layer.rate == 0.4 for layer in dropouts)
    x = batch(family)
    inference = keras.ops.convert_to_numpy(model(x, training=False))
    training = keras.ops.convert_to_numpy(model(x, training=True))
    assert not np.allclose(inference, training)


def weights_of(model: keras.Model) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_weights_other_seed_other_weights(
    family: str, make_config: MakeConfig
) -> None:
    config = make_config(connection="residual", initializer="he_uniform")
    first = weights_of(build(config, family, seed=7))
    again = weights_of(build(config, family, seed=7))
    other = weights_of(build(config, family, seed=8))
    assert len(first) == len(again) == len(other)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    kernels_first = [w for w in first if w.ndim > 1]
    kernels_other = [w for w in other if w.ndim > 1]
    assert all(not np.array_equal(a, b) for a, b in zip(kernels_first, kernels_other, strict=True))


def test_layers_of_one_build_are_not_copies(make_config: MakeConfig) -> None:
    model = build(make_config(depth=3, width=16, connection="residual"), "mlp", seed=3)
    block2 = keras.ops.convert_to_numpy(model.get_layer("block2_dense").kernel)
    block3 = keras.ops.convert_to_numpy(model.get_layer("block3_dense").kernel)
    assert abs(np.corrcoef(block2.ravel(), block3.ravel())[0, 1]) < 0.2


def test_unseeded_builds_differ(make_config: MakeConfig) -> None:
    first = weights_of(build(make_config(), "mlp", seed=None))
    second = weights_of(build(make_config(), "mlp", seed=None))
    assert not np.array_equal(first[0], second[0])


def test_a_built_model_is_not_kept_alive(make_config: MakeConfig) -> None:
    refs = [weakref.ref(build(make_config(), family)) for family in FAMILIES]
    gc.collect()
    assert [ref() for ref in refs] == [None, None]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"initializer": "orthogonal"}, "initializer: expected one of glorot_uniform, "),
        ({"depth": 0}, "depth: expected an integer >= 1, got 0"),
        ({"width": 2.5}, "width: expected an integer >= 1, got 2.5"),
        ({"connection": "dense"}, "connection: expected one of plain, residual, got 'dense'"),
        ({"dropout": 1.0}, r"dropout: expected 0 <= value < 1, got 1.0"),
        ({"l2": -0.1}, r"l2: expected a number >= 0, got -0.1"),
    ],
)
def test_bad_config_values(
    changes: dict[str, object], message: str, make_config: MakeConfig
) -> None:
    with pytest.raises(ValueError, match=message):
        build(make_config(**changes), "mlp")


def test_missing_config_value(make_config: MakeConfig) -> None:
    config = TrialConfig({k: v for k, v in make_config().items() if k != "dropout"})
    with pytest.raises(ValueError, match="dropout: the trial config has no value for it"):
        build(config, "mlp")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"family": "rnn"}, "family: expected one of mlp, cnn, got 'rnn'"),
        ({"family": "cnn", "input_shape": (64,)}, r"cnn needs image data .* got \(64,\); use mlp"),
        ({"num_classes": 1}, "num_classes: expected an integer >= 2, got 1"),
        ({"input_shape": (0, 8)}, r"input_shape: expected positive integer sizes, got \(0, 8\)"),
    ],
)
def test_bad_build_arguments(
    kwargs: dict[str, object], message: str, make_config: MakeConfig
) -> None:
    arguments: dict[str, object] = {"family": "mlp", "input_shape": (64,), "num_classes": 10}
    with pytest.raises(ValueError, match=message):
        build_model(make_config(), **{**arguments, **kwargs})  # type: ignore[arg-type]


@pytest.mark.parametrize("family", FAMILIES)
def test_model_trains_one_epoch(family: str, make_config: MakeConfig) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((200, *INPUT_SHAPES[family]), dtype=np.float32)
    y = rng.integers(0, 10, size=200)
    config = make_config(depth=2, width=8, connection="residual", l2=1e-4, dropout=0.1)
    model = build(config, family)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = [w.copy() for w in weights_of(model)]
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    loss = history.history["loss"][0]
    assert math.isfinite(loss)
    assert any(not np.array_equal(a, b) for a, b in zip(before, weights_of(model), strict=True))

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import pytest

from autotune.models import build_model
from autotune.space import TrialConfig

MakeConfig = Callable[..., TrialConfig]


def pools(model: keras.Model) -> list[keras.Layer]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]


@pytest.mark.parametrize("connection", ["plain", "residual"])
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_digits_sized_images_at_every_depth(
    depth: int, connection: str, make_config: MakeConfig
) -> None:
    config = make_config(depth=depth, width=8, connection=connection)
    model = build_model(config, family="cnn", input_shape=(8, 8, 1), num_classes=10, seed=0)
    x = np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (4, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    # 8 -> 4 -> 2 -> 1: a fourth block has nothing left to pool
    assert len(pools(model)) == min(depth, 3)
    assert model.get_layer("flatten").output.shape[-1] == (8 // 2 ** min(depth, 3)) ** 2 * (
        8 * 2 ** (depth - 1)
    )


def test_filters_double_per_block(make_config: MakeConfig) -> None:
    model = build_model(
        make_config(depth=3, width=4), family="cnn", input_shape=(8, 8, 1), num_classes=10
    )
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [(c.name, c.filters, c.kernel_size) for c in convs] == [
        ("block1_conv", 4, (3, 3)),
        ("block2_conv", 8, (3, 3)),
        ("block3_conv", 16, (3, 3)),
    ]
    assert all(c.padding == "same" and c.activation.__name__ == "relu" for c in convs)


def test_filters_stop_doubling_at_512(make_config: MakeConfig) -> None:
    config = make_config(depth=3, width=256, connection="residual")
    model = build_model(config, family="cnn", input_shape=(8, 8, 1), num_classes=10)
    assert [model.get_layer(f"block{i}_conv1").filters for i in (1, 2, 3)] == [256, 512, 512]
    names = {layer.name for layer in model.layers}
    # channels change into blocks 1 and 2, so they project their input; block 3 does not
    assert {"block1_proj", "block2_proj"} <= names
    assert "block3_proj" not in names
    assert model.get_layer("block1_proj").kernel_size == (1, 1)


def test_residual_block_layout(make_config: MakeConfig) -> None:
    config = make_config(depth=1, width=8, connection="residual")
    model = build_model(config, family="cnn", input_shape=(8, 8, 1), num_classes=10)
    add = model.get_layer("block1_add")
    assert [t.name for t in add.input] == [
        model.get_layer("block1_proj").output.name,
        model.get_layer("block1_conv2").output.name,
    ]
    assert model.get_layer("block1_relu").input.name == add.output.name


def test_large_images_end_in_global_average_pooling(make_config: MakeConfig) -> None:
    config = make_config(depth=2, width=8)
    small = build_model(config, family="cnn", input_shape=(28, 28, 1), num_classes=10)
    large = build_model(config, family="cnn", input_shape=(96, 96, 3), num_classes=10)
    assert "flatten" in {layer.name for layer in small.layers}  # 7x7: where things are counts
    assert "global_pool" in {layer.name for layer in large.layers}  # 24x24
    wider = build_model(config, family="cnn", input_shape=(128, 128, 3), num_classes=10)
    assert wider.count_params() == large.count_params()


def test_images_without_a_channel_axis(make_config: MakeConfig) -> None:
    model = build_model(make_config(), family="cnn", input_shape=(28, 28), num_classes=10)
    assert model.get_layer("add_channel").output.shape == (None, 28, 28, 1)
    assert model.predict(np.zeros((2, 28, 28), dtype=np.float32), verbose=0).shape == (2, 10)


def test_odd_and_thin_images_keep_pooling_what_they_can(make_config: MakeConfig) -> None:
    model = build_model(
        make_config(depth=3, width=4), family="cnn", input_shape=(7, 1, 2), num_classes=4
    )
    assert [p.pool_size for p in pools(model)] == [(2, 1), (2, 1), (2, 1)]
    assert model.predict(np.zeros((1, 7, 1, 2), dtype=np.float32), verbose=0).shape == (1, 4)

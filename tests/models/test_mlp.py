from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import pytest

from autotune.models import build_model
from autotune.space import TrialConfig

MakeConfig = Callable[..., TrialConfig]


@pytest.mark.parametrize("connection", ["plain", "residual"])
@pytest.mark.parametrize(("depth", "width"), [(1, 8), (2, 16), (4, 32)])
def test_flat_input_parameter_count(
    depth: int, width: int, connection: str, make_config: MakeConfig
) -> None:
    config = make_config(depth=depth, width=width, connection=connection)
    model = build_model(config, family="mlp", input_shape=(64,), num_classes=10, seed=0)
    hidden = 64 * width + width + (depth - 1) * (width * width + width)
    assert model.count_params() == hidden + width * 10 + 10
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [width] * depth + [10]
    assert all(layer.activation.__name__ == "relu" for layer in dense[:-1])
    assert dense[-1].activation.__name__ == "softmax"
    assert "flatten" not in [layer.name for layer in model.layers]


def test_residual_block_adds_its_input(make_config: MakeConfig) -> None:
    config = make_config(depth=2, width=8, connection="residual")
    model = build_model(config, family="mlp", input_shape=(64,), num_classes=3, seed=0)
    add = model.get_layer("block2_add")
    assert [t.name for t in add.input] == [
        model.get_layer("block1_dense").output.name,
        model.get_layer("block2_dense").output.name,
    ]


def test_image_input_is_flattened(make_config: MakeConfig) -> None:
    model = build_model(
        make_config(depth=1, width=8), family="mlp", input_shape=(8, 8, 1), num_classes=10
    )
    assert model.layers[1].name == "flatten"
    assert model.count_params() == 64 * 8 + 8 + 8 * 10 + 10
    x = np.zeros((2, 8, 8, 1), dtype=np.float32)
    assert model.predict(x, verbose=0).shape == (2, 10)

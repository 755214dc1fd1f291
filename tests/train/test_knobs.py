"""Speed knobs reach the compiled model; precision never leaks into the next trial."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from autotune.space import TrialConfig
from autotune.train import fit, knobs_of


def _data() -> tf.data.Dataset:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(32)


def _model() -> keras.Model:
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", dtype="float32", name="output")(hidden)
    return keras.Model(inputs, outputs)


def _train(**knobs: object):  # type: ignore[no-untyped-def]
    data = _data()
    config = TrialConfig({"optimizer": "adam", "learning_rate": 0.01, **knobs})
    return fit(
        config,
        build_model=_model,
        train=data,
        validation=data,
        train_examples=256,
        epochs=2,
    )


@pytest.mark.parametrize(
    ("precision", "compute"), [("mixed_bfloat16", "bfloat16"), ("mixed_float16", "float16")]
)
def test_half_precision_trains_in_half_and_leaves_float32_behind(
    precision: str, compute: str
) -> None:
    outcome = _train(precision=precision)

    assert outcome.result.end == "complete", outcome.result.reason
    model = outcome.model
    assert model is not None
    assert model.get_layer("hidden").compute_dtype == compute
    assert model.get_layer("hidden").variable_dtype == "float32"
    assert model.get_layer("output").compute_dtype == "float32"
    assert model.predict(np.zeros((1, 8), "float32"), verbose=0).dtype == np.float32
    if precision == "mixed_float16":  # loss scaling, as Keras does for float16
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    # the next trial builds under float32 again
    assert keras.mixed_precision.dtype_policy().name == "float32"
    after = _train()
    assert after.model is not None
    assert after.model.get_layer("hidden").compute_dtype == "float32"


def test_jit_compile_and_steps_per_execution_reach_the_compiled_model() -> None:
    outcome = _train(jit_compile=True, steps_per_execution=4)

    assert outcome.result.end == "complete", outcome.result.reason
    assert outcome.model is not None
    assert outcome.model.jit_compile is True
    assert outcome.model.steps_per_execution == 4
    assert outcome.result.epochs == 2


def test_fit_argument_overrides_the_config_steps_per_execution() -> None:
    data = _data()
    outcome = fit(
        TrialConfig({"steps_per_execution": 2}),
        build_model=_model,
        train=data,
        validation=data,
        train_examples=256,
        epochs=1,
        steps_per_execution=8,
    )
    assert outcome.model is not None
    assert outcome.model.steps_per_execution == 8


def test_knobs_refuse_an_unknown_precision() -> None:
    with pytest.raises(ValueError, match="precision: expected one of float32"):
        knobs_of({"precision": "float16"})
    outcome = _train(precision="float16")
    assert outcome.result.end == "error"
    assert "precision" in (outcome.result.reason or "")

"""The throughput probe measures a configuration's speed, and reports OOM instead of raising."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from autotune.space import TrialConfig
from autotune.train import ProbeResult, probe, probe_key


def _data(shape: tuple[int, ...], n: int, batch: int) -> tf.data.Dataset:
    x = np.zeros((n, *shape), "float32")
    y = np.zeros((n,), "int32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)


def _mlp() -> keras.Model:
    return keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)]
    )


def test_probe_measures_examples_per_second_without_the_compile() -> None:
    config = TrialConfig({"optimizer": "adam", "steps_per_execution": 4})
    result = probe(config, build_model=_mlp, train=_data((8,), 64, 16), batch_size=16, steps=20)

    assert result.end == "ok", result.reason
    assert result.examples_per_second > 0
    assert result.steps >= 20  # whole calls of 4 steps after the untimed first call
    assert result.steps % 4 == 0
    assert result.compile_seconds > 0
    assert ProbeResult.from_json(result.to_json()) == result


def test_a_model_that_does_not_fit_in_memory_ends_the_probe_as_oom() -> None:
    def too_big() -> keras.Model:  # a 64 TiB weight matrix: numpy refuses to allocate it
        weights = np.ones((1 << 22, 1 << 22), "float32")
        return keras.Sequential([keras.Input((8,)), keras.layers.Dense(2), weights])

    result = probe(TrialConfig({}), build_model=too_big, train=_data((8,), 32, 16), batch_size=16)

    assert result.end == "oom", result
    assert "out of memory" in (result.reason or "")
    assert result.examples_per_second == 0.0


@pytest.mark.skipif(not tf.config.list_logical_devices("GPU"), reason="needs a GPU")
def test_a_batch_that_does_not_fit_on_the_gpu_ends_the_probe_as_oom() -> None:
    # TensorFlow's CPU kernels crash instead of raising on a failed allocation; a GPU raises
    # ResourceExhaustedError, which is what a real out-of-memory batch looks like.
    def wide() -> keras.Model:
        return keras.Sequential(
            [keras.Input((8,)), keras.layers.Dense(1 << 17), keras.layers.Dense(2)]
        )

    n = 1 << 19  # activations of one batch: 2**36 floats, 256 GiB
    result = probe(
        TrialConfig({}),
        build_model=wide,
        train=_data((8,), n, n),
        batch_size=n,
        devices=[tf.config.list_logical_devices("GPU")[0].name],
    )

    assert result.end == "oom", result


def test_probe_keys_separate_shape_batch_and_knobs_only() -> None:
    base = {"depth": 2, "width": 32, "batch_size": 64, "learning_rate": 0.001}
    where = {"family": "cnn", "input_shape": (28, 28, 1), "num_classes": 10, "devices": ["/cpu:0"]}
    key = probe_key(base, **where)

    assert probe_key({**base, "learning_rate": 0.1}, **where) == key  # not a speed matter
    assert probe_key({**base, "width": 64}, **where).model != key.model
    assert probe_key({**base, "batch_size": 32}, **where).batch_size == 32
    jit = probe_key({**base, "jit_compile": True}, **where)
    assert (jit.model, jit.batch_size) == (key.model, key.batch_size)
    assert jit.knobs != key.knobs

"""Ctrl-C that Python drops still stops the running trial."""

from __future__ import annotations

import os
import signal

import keras
import numpy as np
import pytest
import tensorflow as tf

from autotune.engine._interrupts import noted_interrupts
from autotune.space import TrialConfig
from autotune.train import fit


class _InterruptedWhileCollected:
    """Sends this process SIGINT from its finalizer: the handler runs inside ``__del__``, where
    Python prints "Exception ignored" and drops the KeyboardInterrupt (as it does when a
    Ctrl-C lands in one of TensorFlow's many finalizers)."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)


def _data() -> tuple[tf.data.Dataset, tf.data.Dataset]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    return (
        tf.data.Dataset.from_tensor_slices((x, y)).batch(32),
        tf.data.Dataset.from_tensor_slices((x, y)).batch(64),
    )


def _model() -> keras.Model:
    return keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)]
    )


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_dropped_in_a_finalizer_still_ends_the_trial_as_interrupted() -> None:
    def report(epoch: int, accuracy: float) -> bool:
        if epoch == 2:
            _InterruptedWhileCollected()  # collected at once: the SIGINT arrives in __del__
        return False

    train, validation = _data()
    config = TrialConfig({"optimizer": "adam", "learning_rate": 1e-2, "batch_size": 32})
    with noted_interrupts() as noted:
        result = fit(
            config,
            build_model=_model,
            train=train,
            validation=validation,
            train_examples=128,
            epochs=200,
            report=report,
        ).result
    assert noted, "the handler did not run"
    assert result.end == "interrupted", (result.end, result.epochs)
    assert result.reason == "stopped by Ctrl-C"
    assert result.epochs <= 3  # stopped in the epoch after the Ctrl-C, not after 200

"""Ctrl-C that Python drops still stops the running trial."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import keras
import pytest

from autotune.engine.step._interrupts import noted_interrupts
from tests.train.test_trainer import _fit


class _InterruptedWhileCollected:
    """Sends this process SIGINT from its finalizer: the handler runs inside ``__del__``, where
    Python prints "Exception ignored" and drops the KeyboardInterrupt (as it does when a
    Ctrl-C lands in one of TensorFlow's many finalizers)."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_dropped_in_a_finalizer_still_ends_the_trial_as_interrupted() -> None:
    def report(epoch: int, accuracy: float) -> bool:
        if epoch == 2:
            _InterruptedWhileCollected()  # collected at once: the SIGINT arrives in __del__
        return False

    with noted_interrupts() as noted:
        result = _fit(epochs=200, report=report).result
    assert noted, "the handler did not run"
    assert result.end == "interrupted", (result.end, result.epochs)
    assert result.reason == "stopped by Ctrl-C"
    assert result.epochs <= 3  # stopped in the epoch after the Ctrl-C, not after 200


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_custom_objective_is_stopped_by_a_dropped_ctrl_c_through_report(tmp_path: Path) -> None:
    import autotune as at

    @at.objective
    def long(config: at.TrialConfig, ctx: at.TrialContext) -> float:
        for epoch in range(1, 201):
            if ctx.report(0.5, epoch):
                break
            if epoch == 2:
                _InterruptedWhileCollected()  # the KeyboardInterrupt is dropped in __del__
        return 0.5

    study = at.tune(at.Space(x=at.Float(0.0, 1.0)), objective=long, trials=3, results_dir=tmp_path)
    assert study.report.interrupted  # the run stops after the interrupted trial
    (only,) = [t for t in study.optuna.trials if t.state.is_finished()]
    assert only.state.name == "PRUNED"
    assert only.user_attrs["end"] == "interrupted"
    assert only.user_attrs["reason"] == "stopped by Ctrl-C"
    assert len(only.intermediate_values) == 2  # the next report (epoch 3) said stop


def test_a_stop_request_cuts_the_validation_pass_short() -> None:
    from autotune._stop import clear_stop, request_stop
    from autotune.train import TrialMonitor

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    monitor = TrialMonitor(started_at=0.0)
    monitor.set_model(model)
    model.stop_evaluating = False
    monitor.on_test_batch_end(0)
    assert monitor.stopped is None and not model.stop_evaluating
    request_stop()
    try:
        monitor.on_test_batch_end(1)
    finally:
        clear_stop()
    assert monitor.stopped == "interrupted" and model.stop_evaluating

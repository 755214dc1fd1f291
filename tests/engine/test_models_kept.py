"""best_model.keras follows the top trial; a top trial whose worker is still saving its model
does not make the pool's parent delete the current best_model.keras (and warn)."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import pytest

from autotune.engine.output._kept_models import keep_models
from autotune.results import RankedTrial


def _ranked(*numbers: int) -> list[RankedTrial]:
    return [
        RankedTrial(
            rank=i + 1,
            number=n,
            accuracy=0.9 - i / 100,
            wall_seconds=1.0,
            accuracy_per_second=0.9,
            time_to_target=None,
            above_floor=True,
            pareto=i == 0,
            params={},
            config={},
        )
        for i, n in enumerate(numbers)
    ]


def _model() -> keras.Model:
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])


def test_a_top_trial_still_being_saved_keeps_the_old_best_model(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keep_models(tmp_path, _ranked(0), 0, _model())
    best = tmp_path / "best_model.keras"
    assert best.exists()
    with caplog.at_level(logging.WARNING):
        # Trial 1 is recorded and ranks first; its worker has not saved it yet.
        keep_models(tmp_path, _ranked(1, 0), 0, None, saving={1})
    assert best.exists() and "no saved model" not in caplog.text
    # Its worker saved it and said so: the next rewrite copies it.
    keep_models(tmp_path, _ranked(1, 0), 1, _model())
    assert (tmp_path / "models" / "trial_1.keras").exists() and best.exists()


def test_a_top_trial_without_a_model_removes_the_stale_best_model(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keep_models(tmp_path, _ranked(0), 0, _model())
    with caplog.at_level(logging.WARNING):
        keep_models(tmp_path, _ranked(1, 0), 0, None)
    assert not (tmp_path / "best_model.keras").exists()
    assert "no saved model for top trial 1" in caplog.text

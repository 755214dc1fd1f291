"""KerasTuner HyperModels on the engine: a failing build or fit is one failed trial."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
from sklearn.datasets import load_digits

import autotune as at


class Troubled(kt.HyperModel):
    """Builds fine, raises in build, forgets the accuracy metric, or trains its own way."""

    def build(self, hp: Any) -> keras.Model:
        case = hp.Choice("case", ["ok", "build_raises", "no_metric", "float"])
        if case == "build_raises":
            raise ValueError("this architecture does not fit")
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
        metrics = [] if case == "no_metric" else ["accuracy"]
        model.compile("adam", "sparse_categorical_crossentropy", metrics=metrics)
        return model

    def fit(self, hp: Any, model: keras.Model, x: Any, y: Any, **kwargs: Any) -> Any:
        if hp.get("case") != "float":
            return model.fit(x, y, **kwargs)
        # A custom training process returns its objective value, as KerasTuner allows.
        model.fit(x, y, epochs=1, verbose=0)
        return float(model.evaluate(*kwargs["validation_data"], verbose=0)[1])


def test_a_failing_hypermodel_fails_its_trial_not_the_study(tmp_path: Path) -> None:
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    study = at.tune(
        Troubled(),
        data=(x[:200], y[:200]),
        trials=4,
        epochs=1,
        sampler="grid",
        results_dir=tmp_path,
    )
    ends = {t.params["case"]: t for t in study.optuna.trials}
    assert set(ends) == {"ok", "build_raises", "no_metric", "float"}
    assert ends["ok"].state.name == "COMPLETE" and ends["float"].state.name == "COMPLETE"
    assert ends["build_raises"].state.name == "FAIL"
    assert ends["build_raises"].user_attrs["reason"] == (
        "the HyperModel's build raised ValueError: this architecture does not fit"
    )
    assert ends["no_metric"].state.name == "FAIL"
    assert "compile the model with metrics=['accuracy']" in ends["no_metric"].user_attrs["reason"]
    # the trial's values as KerasTuner holds them, and the best as HyperParameters to rebuild
    assert ends["ok"].user_attrs["config"] == {"case": "ok"}
    hp = study.best_hyperparameters()
    assert hp.get("case") in ("ok", "float")
    assert Troubled().build(hp).output_shape == (None, 10)

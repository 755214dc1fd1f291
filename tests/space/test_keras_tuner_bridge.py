"""The KerasTuner bridge: HyperModels tuned by autotune draw the same parameters, with the same
names and value sets, as keras_tuner.RandomSearch draws on the same HyperModel."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import optuna
import pytest
from sklearn.datasets import load_digits

import autotune as at
from autotune.space._keras_tuner import dimension_of, discover_space, hyperparameters_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    return x[:120], y[:120], x[120:180], y[120:180]


# 1. KerasTuner's "getting started" build function, written from its description: a number of
#    layers, units per layer with a step, an activation choice, an optional dropout, a log-scaled
#    learning rate; one-hot labels with categorical cross-entropy.
def build_getting_started(hp: Any) -> keras.Model:
    model = keras.Sequential([keras.Input((64,))])
    for i in range(hp.Int("num_layers", 1, 3)):
        model.add(
            keras.layers.Dense(
                units=hp.Int(f"units_{i}", min_value=32, max_value=512, step=32),
                activation=hp.Choice("activation", ["relu", "tanh"]),
            )
        )
    if hp.Boolean("dropout"):
        model.add(keras.layers.Dropout(rate=0.25))
    model.add(keras.layers.Dense(10, activation="softmax"))
    learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


# 2. KerasTuner's HyperModel subclass that also tunes fit(): whether to normalize the data and
#    the batch size, from its "tune model training" guide.
class TunedFit(kt.HyperModel):
    def build(self, hp: Any) -> keras.Model:
        model = keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(hp.Int("units", 8, 64, step=8, default=32), activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    def fit(self, hp: Any, model: keras.Model, x: Any, y: Any, **kwargs: Any) -> Any:
        if hp.Boolean("normalize"):
            x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6)
        return model.fit(x, y, batch_size=hp.Choice("batch_size", [16, 32]), **kwargs)


# 3. Model selection with conditional scopes (HyperParameters.conditional_scope's example),
#    parent_name/parent_values, Fixed, and Int/Float whose step with log sampling has no Optuna
#    distribution.
class ModelSelection(kt.HyperModel):
    def build(self, hp: Any) -> keras.Model:
        hp.Fixed("classes", 10)
        model_type = hp.Choice("model_type", ["mlp", "cnn"])
        width = hp.Int("width", 4, 32, step=2, sampling="log")
        inputs = keras.Input((64,))
        x = inputs
        with hp.conditional_scope("model_type", ["mlp"]):
            if model_type == "mlp":
                x = keras.layers.Dense(width * hp.Int("mlp_factor", 1, 3), activation="relu")(x)
        with hp.conditional_scope("model_type", ["cnn"]):
            if model_type == "cnn":
                x = keras.layers.Reshape((8, 8, 1))(x)
                x = keras.layers.Conv2D(width, hp.Choice("kernel", [3, 5]), padding="same")(x)
                x = keras.layers.GlobalAveragePooling2D()(x)
        rate = hp.Float(
            "rate",
            0.1,
            0.4,
            step=2.0,
            sampling="log",
            parent_name="model_type",
            parent_values=["mlp"],
        )
        if rate is not None:
            x = keras.layers.Dropout(rate)(x)
        outputs = keras.layers.Dense(hp.get("classes"), activation="softmax")(x)
        model = keras.Model(inputs, outputs)
        model.compile(
            optimizer=keras.optimizers.SGD(hp.Float("lr", 0.01, 0.1)),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model


def kt_values(hp: Any) -> Any:
    """The value set of a KerasTuner hyperparameter: a finite set, or a continuous range."""
    kind = type(hp).__name__
    if kind == "Fixed":
        return {hp.value}
    if kind == "Boolean":
        return {False, True}
    if kind == "Choice":
        return set(hp.values)
    if hp.step is None and kind == "Float":
        return ("range", float(hp.min_value), float(hp.max_value), hp.sampling == "log")
    if hp.step is None:
        return set(range(hp.min_value, hp.max_value + 1))
    return {round(float(v), 9) for v in hp.values}


def optuna_values(dist: optuna.distributions.BaseDistribution) -> Any:
    """The value set of the Optuna distribution a trial drew a parameter from."""
    if isinstance(dist, optuna.distributions.CategoricalDistribution):
        return {round(v, 9) if isinstance(v, float) else v for v in dist.choices}
    if isinstance(dist, optuna.distributions.IntDistribution):
        return set(range(dist.low, dist.high + 1, dist.step))
    assert isinstance(dist, optuna.distributions.FloatDistribution)
    if dist.step is None:
        return ("range", dist.low, dist.high, dist.log)
    count = round((dist.high - dist.low) / dist.step)
    return {round(dist.low + i * dist.step, 9) for i in range(count + 1)}


def as_set(values: Any) -> set[Any]:
    return {round(v, 9) if isinstance(v, float) and not isinstance(v, bool) else v for v in values}


CASES = [
    pytest.param(build_getting_started, "onehot", {}, id="getting_started"),
    pytest.param(TunedFit(), "sparse", {}, id="tuned_fit"),
    pytest.param(ModelSelection(), "sparse", {}, id="model_selection"),
]


@pytest.mark.parametrize(("hypermodel", "labels", "fit_kwargs"), CASES)
def test_same_names_and_value_sets_as_random_search(
    hypermodel: Any,
    labels: str,
    fit_kwargs: dict[str, Any],
    digits: tuple[np.ndarray, ...],
    tmp_path: Path,
) -> None:
    x, y, xv, yv = digits
    if labels == "onehot":
        y, yv = keras.utils.to_categorical(y, 10), keras.utils.to_categorical(yv, 10)
    tuner = kt.RandomSearch(
        hypermodel,
        objective="val_accuracy",
        max_trials=3,
        seed=0,
        directory=str(tmp_path / "kt"),
        project_name="p",
    )
    kt_initial = {hp.name: hp for hp in tuner.oracle.get_space().space}
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, verbose=0)
    kt_final = {hp.name: hp for hp in tuner.oracle.get_space().space}
    kt_trials = [t.hyperparameters.values for t in tuner.oracle.trials.values()]
    keras.backend.clear_session()

    study = at.tune(
        hypermodel,
        data=(x, y),
        validation=(xv, yv),
        trials=4,
        epochs=1,
        sampler="random",
        pruner="none",  # RandomSearch does not prune either
        results_dir=tmp_path / "at",
        fit_kwargs=fit_kwargs,
    )

    # Before any trial, autotune finds the space KerasTuner finds: same names, same values.
    assert set(study.space) == set(kt_initial)
    for name, hp in kt_initial.items():
        assert as_values(study.space[name]) == kt_values(hp), name
    for trial in study.optuna.trials:
        assert trial.state.name == "COMPLETE", trial.user_attrs.get("reason")
        config = trial.user_attrs["config"]
        # KerasTuner, given this trial's values, declares the same hyperparameters...
        hp = kt.HyperParameters()
        hp.values = dict(config)
        build = hypermodel.build if isinstance(hypermodel, kt.HyperModel) else hypermodel
        build(hp)
        declared = {h.name: h for h in hp.space if hp.is_active(h)}
        declared.update({n: h for n, h in kt_final.items() if n not in declared})
        assert set(config) <= set(declared)
        # ...and Optuna (so its Dashboard) holds them under KerasTuner's names, each drawn from
        # the values KerasTuner would draw from.
        for name, dist in trial.distributions.items():
            assert optuna_values(dist) == kt_values(declared[name]), name
            assert _within(trial.params[name], kt_values(declared[name])), name
        assert {n for n, h in declared.items() if type(h).__name__ == "Fixed"} & set(
            trial.params
        ) == set()
    # Each value KerasTuner drew is one autotune could draw.
    for values in kt_trials:
        for name, value in values.items():
            assert _within(value, kt_values(kt_final[name])), (name, value)
    assert study.best is not None and study.best_model().output_shape == (None, 10)


def as_values(dim: Any) -> Any:
    """The value set of an autotune dimension, in ``kt_values``' terms."""
    if isinstance(dim, at.Fixed):
        return {dim.value}
    if isinstance(dim, at.Choice):
        return as_set(dim.choices)
    if isinstance(dim, at.Float) and dim.step is None:
        return ("range", dim.low, dim.high, dim.log)
    return as_set(dim.grid_values())


def _within(value: Any, allowed: Any) -> bool:
    if isinstance(allowed, tuple):
        return allowed[1] - 1e-12 <= value <= allowed[2] + 1e-12
    return (round(value, 9) if isinstance(value, float) else value) in as_set(allowed)


def test_conditional_values_follow_the_parent() -> None:
    """A hyperparameter under an inactive scope is None and never drawn, as in KerasTuner."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    seen = set()
    for _ in range(12):
        trial = study.ask()
        hp = hyperparameters_for(trial)
        kind = hp.Choice("model_type", ["mlp", "cnn"])
        with hp.conditional_scope("model_type", ["mlp"]):
            units = hp.Int("units", 8, 64, step=8, default=16)
        filters = hp.Choice("filters", [4, 8], parent_name="model_type", parent_values=["cnn"])
        assert (units is None) == (kind == "cnn")
        assert (filters is None) == (kind == "mlp")
        assert set(trial.params) == {"model_type", "units" if kind == "mlp" else "filters"}
        assert hp.values == trial.params
        if kind == "mlp":
            assert hp.get("units") == units
            with pytest.raises(ValueError, match="inactive"):
                hp.get("filters")
        seen.add(kind)
        study.tell(trial, 0.0)
    assert seen == {"mlp", "cnn"}


def test_defaults_fixed_and_step_log_choices() -> None:
    """Defaults are what discovery builds with; Fixed is never searched; step with log sampling
    becomes an explicit choice of KerasTuner's values."""
    hp = kt.HyperParameters()
    assert hp.Int("units", 8, 64, step=8, default=32) == 32
    hp.Fixed("classes", 10)
    hp.Int("batch", 2, 32, step=2, sampling="log")
    hp.Float("rate", 0.01, 0.16, step=2.0, sampling="log")
    hp.Float("lr", 1e-4, 1e-2, sampling="log")
    dims = {h.name: dimension_of(h) for h in hp.space}
    assert dims["classes"] == at.Fixed(10)
    assert dims["batch"] == at.Choice([2, 4, 8, 16, 32])
    assert [round(v, 6) for v in dims["rate"].choices] == [0.01, 0.02, 0.04, 0.08, 0.16]
    assert dims["lr"] == at.Float(1e-4, 1e-2, log=True)
    assert dims["units"] == at.Int(8, 64, step=8)

    def build(hp: Any) -> None:
        hp.Int("units", 8, 64, step=8, default=32)
        hp.Fixed("classes", 10)

    space = discover_space(build, None)
    assert space.searched() == ["units"] and space["classes"] == at.Fixed(10)


def test_optuna_enqueued_values_reach_the_hypermodel() -> None:
    """start_with values (Optuna's enqueue_trial) are the values build() sees."""
    study = optuna.create_study()
    study.enqueue_trial({"units": 48, "act": "tanh"})
    trial = study.ask()
    hp = hyperparameters_for(trial)
    assert (hp.Int("units", 8, 64, step=8), hp.Choice("act", ["relu", "tanh"])) == (48, "tanh")
    assert math.isclose(hp.Float("lr", 0.1, 0.2, default=0.15), trial.params["lr"])


def test_a_missing_keras_tuner_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from autotune.space._keras_tuner import keras_tuner_module

    monkeypatch.setitem(__import__("sys").modules, "keras_tuner", None)
    with pytest.raises(ImportError, match=r"pip install 'autotune\[keras-tuner\]'"):
        keras_tuner_module()

"""Run files that name Python code by import path: a model builder, a HyperModel, an objective."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

import autotune as at
from autotune.cli import main
from autotune.engine import RunOptions
from autotune.engine.setup._prepare import prepare
from tests.engine.conftest import autotune_cli

MODELS = """
import keras
import keras_tuner as kt


def build(config, input_shape, num_classes):
    return keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Flatten(),
        keras.layers.Dense(config["hidden"], activation=config["activation"]),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])


class Small(kt.HyperModel):
    def build(self, hp):
        model = keras.Sequential([
            keras.Input((8, 8, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(hp.Int("units", 8, 24, step=8), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model


class NeedsWidth(Small):
    def __init__(self, width):
        super().__init__()
        self.width = width


class NoBuild(kt.HyperModel):
    pass


def objective(config, ctx):
    x_train, y_train = ctx.train
    return {"accuracy": 1.0 - abs(config["x"] - 0.5), "examples": len(x_train)}


NOT_CALLABLE = 3
"""


@pytest.fixture
def code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(textwrap.dedent(MODELS))
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def _write(folder: Path, name: str, **document: object) -> Path:
    base = {
        "seed": 0,
        "data": {"dataset": "digits", "train_size": 200, "validation_size": 100},
        "train": {"epochs": 1},
        "search": {"sampler": "random", "trials": 2},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**base, **document}, sort_keys=False))
    return path


def test_a_model_builder_and_an_objective_named_by_import_path(code: Path) -> None:
    builder = _write(
        code,
        "builder",
        model="mypkg.models:build",
        space={
            "hidden": {"low": 8, "high": 16, "step": 8},
            "activation": ["relu", "tanh"],
            "learning_rate": 0.01,
        },
    )
    spec = at.load_run_file(builder)
    space = at.load_space(builder)
    assert space["hidden"] == at.Int(8, 16, step=8) and "optimizer" in space
    report = at.run(spec, RunOptions(results_dir=code / "results"))
    assert report.done == 2 and report.ranked
    assert report.ranked[0].config["hidden"] in (8, 16)
    assert at.load_run_file(report.directory / "best.yaml").model == "mypkg.models:build"

    objective = _write(
        code,
        "objective",
        custom_objective="mypkg.models:objective",
        space={"x": {"low": 0.0, "high": 1.0}},
    )
    assert list(at.load_space(objective)) == ["x"]  # no built-in dimensions added
    report = at.run(at.load_run_file(objective), RunOptions(results_dir=code / "results"))
    assert report.done == 2 and len(report.ranked) == 2
    import optuna

    trial = optuna.load_study(study_name="objective", storage=report.storage).trials[0]
    assert trial.user_attrs["examples"] == 200 and set(trial.params) == {"x"}


@pytest.mark.parametrize(
    ("document", "key", "words"),
    [
        ({"model": "mypkg.nowhere:build"}, "model", "No module named 'mypkg.nowhere'"),
        ({"model": "mypkg.models:missing"}, "model", "no attribute 'missing'"),
        ({"custom_objective": "mypkg.models:NOT_CALLABLE"}, "custom_objective", "an int"),
        ({"model": "mypkg.models:NeedsWidth"}, "model", "missing 1 required positional"),
        ({"model": "mypkg.models:NoBuild"}, "model", "without a build method of its own"),
        ({"model": "mypkg.models:Small", "space": {"units": [8, 16]}}, "space.units", "fixed"),
        ({"model": "mypkg.models:Small", "space": {"width": 8}}, "space.width", "declares"),
    ],
)
def test_code_that_cannot_run_is_refused_with_the_run_files_key(
    code: Path, document: dict[str, object], key: str, words: str
) -> None:
    spec = at.load_run_file(_write(code, "bad", **document))
    with pytest.raises(at.SpecError) as caught:
        prepare(spec)
    assert caught.value.key == key and words in str(caught.value)
    assert str(caught.value).startswith(f"{code / 'bad.yaml'}:")


def test_validate_checks_hypermodels_builders_and_objectives_as_a_run_does(
    code: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for document in [
        {"model": "mypkg.models:Small"},
        {"model": "mypkg.models:build", "space": {"hidden": 8, "activation": "relu"}},
        {"custom_objective": "mypkg.models:objective", "space": {"x": 0.5}},
    ]:
        assert main(["validate", str(_write(code, "good", **document))]) == 0, document
    capsys.readouterr()
    path = _write(code, "bad", model="mypkg.models:NeedsWidth")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    line = path.read_text().splitlines().index("model: mypkg.models:NeedsWidth") + 1
    assert err.startswith(f"error: {path}:{line}: model: expected a HyperModel class that takes")
    assert "mypkg.models:NeedsWidth(): TypeError:" in err and len(err.splitlines()) == 1


def test_bad_import_paths_are_refused_when_the_file_loads(code: Path) -> None:
    for document, key in [
        ({"model": "resnet"}, "model"),
        ({"model": "my pkg:build"}, "model"),
        ({"custom_objective": "objective"}, "custom_objective"),
        (
            {"custom_objective": "mypkg.models:objective", "space": {"x": {"low": 0, "high": "a"}}},
            "space.x.high",
        ),
    ]:
        with pytest.raises(at.SpecError) as caught:
            at.load_run_file(_write(code, "bad", **document))
        assert caught.value.key == key, str(caught.value)
        assert caught.value.line is not None


@pytest.mark.slow
def test_the_command_line_runs_a_hypermodel_named_in_a_run_file(code: Path) -> None:
    path = _write(code, "hyper", model="mypkg.models:Small")
    done = autotune_cli("run", str(path), "--results-dir", str(code / "results"), cwd=code)
    assert done.returncode == 0, done.stderr
    import optuna

    study = optuna.load_study(
        study_name="hyper", storage=f"sqlite:///{code}/results/hyper/study.db"
    )
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert {"units"} == set(study.trials[0].params)
    # best.yaml fixes the HyperModel's hyperparameters and trains that one configuration again
    best = code / "results" / "hyper" / "best.yaml"
    top = int(pd.read_csv(best.parent / "leaderboard.csv")["trial"][0])
    assert at.load_run_file(best).space == study.trials[top].user_attrs["config"]
    again = autotune_cli("run", str(best), "--results-dir", str(code / "results"), cwd=code)
    assert again.returncode == 0, again.stderr
    rerun = optuna.load_study(
        study_name="hyper-best", storage=f"sqlite:///{code}/results/hyper-best/study.db"
    ).trials[0]
    assert (
        rerun.params == {} and rerun.user_attrs["config"] == study.trials[top].user_attrs["config"]
    )
    bad = _write(code, "bad", model="mypkg.models:nothing")
    refused = autotune_cli("run", str(bad), cwd=code)
    assert refused.returncode == 2 and "no attribute 'nothing'" in refused.stderr

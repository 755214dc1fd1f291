"""Every sampler and pruner a run file can name drives a real study over the space."""

from __future__ import annotations

import importlib.util

import optuna
import pytest

from autotune.engine.study._study import make_pruner, make_sampler, open_study
from autotune.spec import load_run_mapping, space_of

SPACE = {
    "depth": {"low": 1, "high": 3},
    "width": [8, 16],
    "optimizer": ["adam", "sgd"],
    "momentum": {"low": 0.0, "high": 0.9, "step": 0.3, "when": {"optimizer": "sgd"}},
    "dropout": {"low": 0.0, "high": 0.2, "step": 0.1},
}
SAMPLERS = ["tpe", "random", "grid", "cmaes", "nsga2"] + (
    ["gp"] if importlib.util.find_spec("torch") else []
)


def _spec(**search: object):  # type: ignore[no-untyped-def]
    return load_run_mapping(
        {"data": {"dataset": "digits"}, "space": SPACE, "train": {"epochs": 4}, "search": search},
        source="inline.yaml",
    )


@pytest.mark.parametrize("name", SAMPLERS)
def test_each_sampler_proposes_valid_configurations(name: str) -> None:
    objective = "pareto" if name == "nsga2" else "accuracy"
    spec = _spec(sampler=name, objective=objective)
    space = space_of(spec)
    directions = ["maximize", "minimize"] if objective == "pareto" else ["maximize"]
    study = optuna.create_study(directions=directions, sampler=make_sampler(spec, space, seed=3))
    seen = []
    for _ in range(6):
        trial = study.ask()
        config = space.suggest(trial)
        assert 1 <= config["depth"] <= 3 and config["width"] in (8, 16)
        assert ("momentum" in config) == (config["optimizer"] == "sgd")
        seen.append(config)
        values = [config["depth"] / 3] + ([float(config["width"])] if len(directions) == 2 else [])
        study.tell(trial, values)
    assert len({c.to_json() for c in seen}) > 1


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("hyperband", optuna.pruners.HyperbandPruner),
        ("successive_halving", optuna.pruners.SuccessiveHalvingPruner),
        ("median", optuna.pruners.MedianPruner),
        ("none", optuna.pruners.NopPruner),
    ],
)
def test_each_pruner_is_built(name: str, cls: type) -> None:
    assert isinstance(make_pruner(_spec(pruner=name)), cls)


def test_start_with_is_tried_first_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(start_with=[{"depth": 3, "width": 16, "optimizer": "adam"}])
    space = space_of(spec)
    storage = f"sqlite:///{tmp_path / 'study.db'}"

    def open_it():  # type: ignore[no-untyped-def]
        return open_study(
            spec,
            space,
            name="s",
            storage=storage,
            sampler=make_sampler(spec, space, seed=0),
            pruner=make_pruner(spec),
            spec_document={},
        )

    study, resumed = open_it()
    assert not resumed
    first = space.suggest(study.ask())
    assert (first["depth"], first["width"], first["optimizer"]) == (3, 16, "adam")
    again, resumed = open_it()
    assert resumed
    assert len(again.get_trials(states=(optuna.trial.TrialState.WAITING,))) == 0


def test_grid_sampler_stops_the_run_when_the_grid_is_exhausted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from autotune.engine import RunOptions, run

    spec = load_run_mapping(
        {
            "data": {"dataset": "digits", "train_size": 100, "validation_size": 50},
            "model": "mlp",
            "space": {"width": [4, 8], "depth": 1},
            "train": {"epochs": 1},
            "search": {"sampler": "grid", "pruner": "none", "trials": 5},
        },
        source="grid.yaml",
    )
    report = run(spec, RunOptions(results_dir=tmp_path, study="grid"))
    trials = optuna.load_study(study_name="grid", storage=report.storage).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE"]
    assert sorted(t.params["width"] for t in trials) == [4, 8]
    assert report.done == 2


@pytest.mark.parametrize(
    ("search", "startup"),
    [
        ({}, 5),
        ({"budget": "150s"}, 5),  # three were too few for the quickstart (issue 14)
        ({"budget": "7m"}, 7),  # one a minute
        ({"budget": "2h"}, 10),
        ({"budget": "150s", "sampler_options": {"n_startup_trials": 2}}, 2),  # the file decides
    ],
)
def test_tpe_random_start_up_is_sized_to_the_budget_with_five_at_least(
    search: dict[str, object], startup: int
) -> None:
    spec = _spec(sampler="tpe", **search)
    sampler = make_sampler(spec, space_of(spec), seed=0)
    assert isinstance(sampler, optuna.samplers.TPESampler)
    assert sampler._n_startup_trials == startup

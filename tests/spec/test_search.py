"""Every sampler and pruner name maps to an Optuna class; options are checked against it."""

from __future__ import annotations

import typing

import optuna
import pytest

from autotune.spec import SearchSpec, SpecError, load_run_mapping, pruner_class, sampler_class


def _literals(annotation: object) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return [value for arg in typing.get_args(annotation) for value in _literals(arg)]


SAMPLERS = _literals(SearchSpec.model_fields["sampler"].annotation)
PRUNERS = _literals(SearchSpec.model_fields["pruner"].annotation)


def test_the_schema_names_every_documented_sampler_and_pruner() -> None:
    assert SAMPLERS == ["tpe", "random", "grid", "cmaes", "gp", "nsga2"]
    assert PRUNERS == ["asha", "hyperband", "successive_halving", "median", "none"]


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_sampler_name_has_an_optuna_sampler(name: str) -> None:
    assert issubclass(sampler_class(name), optuna.samplers.BaseSampler)


@pytest.mark.parametrize("name", PRUNERS)
def test_every_pruner_name_has_an_optuna_pruner(name: str) -> None:
    assert issubclass(pruner_class(name), optuna.pruners.BasePruner)


def test_names_map_to_the_documented_classes() -> None:
    assert sampler_class("cmaes") is optuna.samplers.CmaEsSampler
    assert sampler_class("nsga2") is optuna.samplers.NSGAIISampler
    assert pruner_class("none") is optuna.pruners.NopPruner
    with pytest.raises(ValueError, match="tpe"):
        sampler_class("bayes")


def test_accepted_options_build_a_working_sampler_and_pruner() -> None:
    spec = load_run_mapping(
        {
            "data": {"dataset": "digits"},
            "space": {"width": [16, 32]},
            "search": {
                "sampler": "tpe",
                "sampler_options": {"n_startup_trials": 2, "multivariate": True},
                "pruner": "median",
                "pruner_options": {"n_warmup_steps": 1},
            },
        }
    )
    sampler_type: typing.Any = sampler_class(spec.search.sampler)
    sampler = sampler_type(**spec.search.sampler_options, seed=spec.seed)
    pruner = pruner_class(spec.search.resolved_pruner)(**spec.search.pruner_options)
    study = optuna.create_study(sampler=sampler, pruner=pruner)
    study.optimize(lambda trial: trial.suggest_categorical("width", [16, 32]) / 32, n_trials=4)
    assert len(study.trials) == 4


def test_grid_takes_lists_and_stepped_ranges() -> None:
    spec = load_run_mapping(
        {
            "data": {"dataset": "digits"},
            "space": {"width": [16, 32], "dropout": {"low": 0.0, "high": 0.2, "step": 0.1}},
            "search": {"sampler": "grid"},
        }
    )
    assert spec.search.sampler == "grid"


def test_start_with_accepts_values_of_the_space_and_defaults() -> None:
    spec = load_run_mapping(
        {
            "data": {"dataset": "digits"},
            "space": {"depth": {"low": 1, "high": 3}, "learning_rate": {"low": 1e-4, "high": 1e-2}},
            "search": {"start_with": [{"depth": 3, "learning_rate": 0.001, "width": 32}]},
        }
    )
    assert spec.search.start_with[0]["depth"] == 3
    with pytest.raises(SpecError, match=r"its default; add width to space"):
        load_run_mapping({"data": {"dataset": "digits"}, "search": {"start_with": [{"width": 64}]}})

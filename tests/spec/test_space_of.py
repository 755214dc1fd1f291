"""space_of: the run file's space: as autotune.space dimensions, sugar expanded, defaults filled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest

from autotune.space import AUGMENTATION_OPS, CATALOGUE, SPEED_KNOBS, Choice, Fixed, Float, Int
from autotune.spec import SpecError, load_run_file, load_run_mapping, space_of

EXAMPLE = Path(__file__).parent / "example.yaml"


def _space(space: dict[str, Any]) -> Any:
    return space_of(load_run_mapping({"data": {"dataset": "digits"}, "space": space}))


def test_example_space_has_every_dimension_in_its_form() -> None:
    space = space_of(load_run_file(EXAMPLE))

    assert set(space) == set(CATALOGUE)
    for op in AUGMENTATION_OPS:  # augmentation: {ops: [...]} is one on/off choice per op
        assert space[op] == Choice([False, True])
    assert space["augment_strength"] == Float(0.05, 0.3)
    assert space["depth"] == Int(1, 3)
    assert space["width"] == Choice([16, 32, 64])
    assert space["l1"] == Fixed(0.0)
    assert space["l2"] == Float(1e-6, 1e-2, log=True)
    assert space["dropout"] == Float(0.0, 0.5, step=0.1)
    assert space["momentum"] == Float(0.0, 0.99, when={"optimizer": "sgd"})
    assert space["lr_schedule"] == Choice(["cosine", "constant"])
    assert space.searched() == [n for n in space if n != "l1" and n not in SPEED_KNOBS]


def test_unnamed_dimensions_take_catalogue_defaults() -> None:
    space = _space({"width": [16, 32]})

    assert space.searched() == ["width"]
    for name, entry in CATALOGUE.items():
        if name != "width":
            assert isinstance(space[name], Fixed) and space[name].value == entry.default


def test_a_float_dimension_with_int_bounds_is_a_float_range() -> None:
    assert _space({"dropout": {"low": 0, "high": 0.5}})["dropout"] == Float(0.0, 0.5)
    assert _space({"depth": {"low": 1, "high": 7, "step": 2}})["depth"] == Int(1, 7, step=2)


def test_augmentation_ops_can_be_written_out_or_at_top_level() -> None:
    space = _space(
        {
            "augmentation": {"flip": True, "rotate": [False, True], "strength": 0.2},
            "noise": [False, True],
        }
    )

    assert space["flip"] == Fixed(True)
    assert space["rotate"] == Choice([False, True])
    assert space["noise"] == Choice([False, True])
    assert space["zoom"] == Fixed(False)  # not named: off
    assert space["augment_strength"] == Fixed(0.2)


def test_a_choice_can_carry_a_condition() -> None:
    space = _space(
        {
            "optimizer": ["adam", "sgd"],
            "momentum": {"choice": [0.0, 0.9], "when": {"optimizer": "sgd"}},
        }
    )
    assert space["momentum"] == Choice([0.0, 0.9], when={"optimizer": "sgd"})


def test_the_conditional_momentum_appears_only_in_sgd_trials() -> None:
    space = space_of(load_run_file(EXAMPLE))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))

    configs = [space.suggest(study.ask()) for _ in range(40)]

    assert {c["optimizer"] for c in configs} == {"adam", "adamw", "sgd", "rmsprop"}
    for config in configs:
        assert ("momentum" in config) == (config["optimizer"] == "sgd")
        assert set(config) - {"momentum"} == set(CATALOGUE) - {"momentum"}
        assert 1 <= config["depth"] <= 3 and config["batch_size"] in (32, 64, 128, 256)


def test_a_dimension_given_twice_is_refused() -> None:
    with pytest.raises(SpecError) as caught:
        _space({"flip": True, "augmentation": {"ops": ["flip"]}})
    assert caught.value.key == "space.augmentation.ops[0]"
    assert "also at space.flip" in str(caught.value)

"""fixed_run_file (best.yaml) round trips; describe spells out every dimension."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import yaml

from autotune.space import CATALOGUE
from autotune.spec import describe, fixed_run_file, load_run_file, load_run_mapping, space_of

EXAMPLE = Path(__file__).parent / "example.yaml"


def _configs(count: int) -> list[dict[str, object]]:
    space = space_of(load_run_file(EXAMPLE))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    return [dict(space.suggest(study.ask())) for _ in range(count)]


@pytest.mark.parametrize("config", _configs(6))
def test_fixed_run_file_round_trips_to_a_space_with_nothing_searched(
    config: dict[str, object], tmp_path: Path
) -> None:
    spec = load_run_file(EXAMPLE)
    path = tmp_path / "best.yaml"

    path.write_text(fixed_run_file(spec, config, study="fashion-cnn-best"))
    fixed = load_run_file(path)

    space = space_of(fixed)
    assert space.searched() == []
    values = dict(space.fixed({}))
    assert {name: values[name] for name in config} == config
    # momentum left out (optimizer not sgd) may come back as its catalogue default, which the
    # catalogue keeps for rmsprop: the value a trial without it trains with anyway
    assert {name: values[name] for name in set(values) - set(config)} in ({}, {"momentum": 0.0})
    assert fixed.study == "fashion-cnn-best"
    assert fixed.storage is None
    assert fixed.search.trials == 1 and fixed.search.start_with == []
    assert (fixed.search.sampler, fixed.search.pruner, fixed.search.budget) == (
        "tpe",
        "hyperband",
        600.0,
    )
    assert fixed.data == spec.data and fixed.train == spec.train and fixed.rank == spec.rank
    assert fixed.model == spec.model and fixed.seed == spec.seed


def test_fixed_run_file_writes_ops_back_under_augmentation_and_omits_inactive_dims() -> None:
    spec = load_run_file(EXAMPLE)
    config = next(c for c in _configs(30) if c["optimizer"] != "sgd")

    document = yaml.safe_load(fixed_run_file(spec, config, study="best"))

    augmentation = document["space"]["augmentation"]
    assert set(augmentation) == {
        "flip",
        "rotate",
        "zoom",
        "translate",
        "contrast",
        "noise",
        "strength",
    }
    assert augmentation["strength"] == config["augment_strength"]
    assert "momentum" not in document["space"]
    assert "flip" not in document["space"]


def test_fixed_run_file_refuses_a_config_missing_a_searched_dimension() -> None:
    spec = load_run_mapping({"data": {"dataset": "digits"}, "space": {"width": [16, 32]}})
    with pytest.raises(ValueError, match="width"):
        fixed_run_file(spec, {}, study="best")
    with pytest.raises(ValueError, match="height"):
        fixed_run_file(spec, {"width": 16, "height": 3}, study="best")


def test_describe_mentions_every_section_and_dimension() -> None:
    text = describe(load_run_file(EXAMPLE))

    for name in CATALOGUE:
        assert f"\n  {name} " in text, name
    pad = " " * (len("steps_per_execution") + 2)  # names are padded to the longest
    assert ("momentum" + pad)[:21] + "float range 0 .. 0.99, when optimizer is sgd" in text
    assert ("l1" + pad)[:21] + "0 (fixed)" in text
    assert ("dropout" + pad)[:21] + "float range 0 .. 0.5, step 0.1" in text
    assert "19 of 27 dimensions searched" in text
    for fragment in (
        "study: fashion-cnn",
        "data: digits",
        "model: cnn",
        "sampler tpe",
        "budget 10m",
        "rank: by accuracy_per_second",
        "target 0.85",
        "storage:",
    ):
        assert fragment in text, fragment


def test_describe_marks_defaults() -> None:
    text = describe(load_run_mapping({"data": {"dataset": "digits"}, "space": {"width": [8, 16]}}))
    assert "width" + " " * 16 + "one of 8, 16\n" in text
    assert "batch_size" + " " * 11 + "64 (fixed)  (default)" in text
    assert "precision" + " " * 12 + "float32 (fixed)  (default)" in text

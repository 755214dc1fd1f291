"""Speed knobs in run files: dimensions like any other; the old train.steps_per_execution."""

from __future__ import annotations

import yaml

from autotune.space import SPEED_KNOBS, Choice, Fixed
from autotune.spec import ProbeSpec, fixed_run_file, load_run_mapping, space_of


def test_speed_knobs_are_searched_or_fixed_like_any_dimension() -> None:
    spec = load_run_mapping(
        {
            "data": {"dataset": "digits"},
            "space": {
                "precision": ["float32", "mixed_bfloat16"],
                "jit_compile": [False, True],
                "steps_per_execution": [1, 32],
                "prefetch": 2,
                "augment_on": "model",
            },
        }
    )
    space = space_of(spec)

    assert space["precision"] == Choice(("float32", "mixed_bfloat16"))
    assert space["steps_per_execution"] == Choice((1, 32))
    assert space["prefetch"] == Fixed(2)
    assert space["cache"] == Fixed(True)  # the default
    assert set(SPEED_KNOBS) <= set(space)


def test_the_old_train_steps_per_execution_still_fixes_the_dimension() -> None:
    spec = load_run_mapping({"data": {"dataset": "digits"}, "train": {"steps_per_execution": 8}})

    assert space_of(spec)["steps_per_execution"] == Fixed(8)
    # best.yaml writes it where it lives now, and loads back
    text = fixed_run_file(spec, {}, study="best")
    document = yaml.safe_load(text)
    assert document["space"]["steps_per_execution"] == 8
    assert "steps_per_execution" not in document["train"]
    assert space_of(load_run_mapping(document))["steps_per_execution"] == Fixed(8)


def test_probe_switch_takes_true_or_settings() -> None:
    on = load_run_mapping({"data": {"dataset": "digits"}, "train": {"probe": True}})
    off = load_run_mapping({"data": {"dataset": "digits"}, "train": {"probe": False}})
    tuned = load_run_mapping(
        {"data": {"dataset": "digits"}, "train": {"probe": {"steps": 50, "skip_slower": None}}}
    )

    assert on.train.probe == ProbeSpec()
    assert off.train.probe is None
    assert tuned.train.probe == ProbeSpec(steps=50, skip_slower=None)

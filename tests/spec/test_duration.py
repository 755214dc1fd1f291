"""Durations in run files: numbers of seconds or strings with a unit."""

from __future__ import annotations

import pytest

from autotune.spec import SpecError, load_run_mapping, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (90, 90.0),
        (2.5, 2.5),
        ("90", 90.0),
        ("90s", 90.0),
        ("45 sec", 45.0),
        ("10m", 600.0),
        ("2min", 120.0),
        ("1.5h", 5400.0),
        ("2 hr", 7200.0),
    ],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["ten minutes", "10 days", "", "-5m", 0, -3, True, "1h30m"])
def test_parse_duration_refuses(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_budget_in_a_run_file_is_seconds() -> None:
    spec = load_run_mapping({"data": {"dataset": "digits"}, "search": {"budget": "1.5h"}})
    assert spec.search.budget == 5400.0
    with pytest.raises(SpecError, match=r"search\.budget: expected a positive duration"):
        load_run_mapping({"data": {"dataset": "digits"}, "search": {"budget": "soon"}})

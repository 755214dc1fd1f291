"""Every benchmark runs end to end in its smoke mode, so none of them rots.

Smoke runs use tiny data and budgets; their numbers mean nothing and are not checked, only
that every competitor ran in its own process and the JSON holds what the table reports.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import (
    before_after,
    data_memory,
    data_speed,
    family_ceiling,
    groups,
    memory,
    overhead,
    search_efficiency,
    trainer_throughput,
)
from benchmarks._common import FASHION, ordered

pytestmark = pytest.mark.slow
needs_fashion = pytest.mark.skipif(not Path(FASHION).exists(), reason="needs dataset-fashion-mnist")


def test_competitor_order_alternates_across_seeds() -> None:
    assert ordered(("a", "b", "c"), 0) == ["a", "b", "c"]
    assert ordered(("a", "b", "c"), 1) == ["c", "b", "a"]


@needs_fashion
def test_trainer_throughput_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "throughput.json"

    assert trainer_throughput.main(["--smoke", "--out", str(out)]) == 0

    result = json.loads(out.read_text())
    runs = result["runs"]
    assert {r["competitor"] for r in runs} == {"autotune", "keras"}
    assert all(r["examples_per_second"] > 0 for r in runs)
    autotune = next(r for r in runs if r["competitor"] == "autotune")
    assert autotune["knobs"] in trainer_throughput.KNOB_CANDIDATES  # picked by probing
    assert len(autotune["probes"]) == len(trainer_throughput.KNOB_CANDIDATES)
    assert result["configs"]["small_mlp"]["ratio"]["median"] > 0
    assert "| small_mlp" in capsys.readouterr().out


def test_overhead_and_memory_smoke(tmp_path: Path) -> None:
    out = tmp_path / "overhead.json"

    assert overhead.main(["--smoke", "--trials", "3", "--out", str(out)]) == 0

    result = json.loads(out.read_text())
    for competitor in ("autotune", "keras_optuna"):
        (run,) = [r for r in result["runs"] if r["competitor"] == competitor]
        assert run["trials"] == 3
        assert len(run["overhead_seconds"]) == 3 and len(run["rss_mb"]) == 3
        assert result["stats"][competitor]["overhead_seconds"]["median"] is not None
    memory_out = tmp_path / "memory.json"
    assert memory.main(["--reuse", str(out), "--out", str(memory_out)]) == 0
    stats = json.loads(memory_out.read_text())["stats"]
    assert set(stats) == {"autotune", "keras_optuna"}
    assert all(s["growth_mb"]["n"] == 1 for s in stats.values())


@needs_fashion
def test_trainer_throughput_defaults_smoke(tmp_path: Path) -> None:
    out = tmp_path / "defaults.json"

    assert trainer_throughput.main(["--smoke", "--mode", "defaults", "--out", str(out)]) == 0

    result = json.loads(out.read_text())
    assert result["mode"] == "defaults"
    autotune = next(r for r in result["runs"] if r["competitor"] == "autotune")
    assert autotune["knobs"] == {"steps_per_execution": "auto"}  # no probe, the default
    assert autotune["examples_per_second"] > 0 and "probes" not in autotune


@needs_fashion
@pytest.mark.parametrize("mode", ["plain", "tuned"])
def test_search_efficiency_smoke(tmp_path: Path, mode: str) -> None:
    out = tmp_path / "search.json"

    args = ["--smoke", "--mode", mode, "--budget", "10", "--out", str(out)]
    assert search_efficiency.main(args) == 0

    result = json.loads(out.read_text())
    assert result["mode"] == mode
    assert [r["competitor"] for r in result["runs"]] == list(search_efficiency.COMPETITORS)
    for run in result["runs"]:
        assert run["trials"] >= 1, run
        assert run["events"], run  # at least one epoch validated within the budget
        assert all(0.0 <= accuracy <= 1.0 for _, accuracy in run["events"])
    assert "best_at_10s" in result["runs"][0]


def test_plain_marks_are_absolute_seconds_whatever_the_budget() -> None:
    events = [[5.0, 0.5], [20.0, 0.86], [70.0, 0.885], [200.0, 0.9]]
    marks = search_efficiency.marks_for("plain", 150.0)
    got = search_efficiency.metrics(events, 150.0, marks)
    assert got == {
        "best_at_60s": 0.86,
        "best_at_150s": 0.885,
        "best_at_300s": None,
        "time_to_target": 70.0,
    }


def test_before_after_smoke(tmp_path: Path) -> None:
    out = tmp_path / "before_after.json"

    assert before_after.main(["--before", "HEAD", "--smoke", "--out", str(out)]) == 0

    result = json.loads(out.read_text())
    assert {(r["file"], r["version"]) for r in result["runs"]} == {
        (f, v) for f in ("quickstart", "digits_mlp") for v in ("before", "after")
    }
    assert all(r["trials"] >= 1 and r["events"] for r in result["runs"])


def test_search_metrics_read_the_timeline() -> None:
    events = [[5.0, 0.5], [20.0, 0.86], [70.0, 0.885], [200.0, 0.9], [320.0, 0.95]]

    got = search_efficiency.metrics(events, 300.0)

    assert got == {
        "best_at_60s": 0.86,
        "best_at_150s": 0.885,
        "best_at_300s": 0.9,
        "time_to_target": 70.0,
    }


def test_engine_move_smoke(tmp_path: Path) -> None:
    from benchmarks import engine_move

    out = tmp_path / "engine_move.json"
    assert engine_move.main(["--before", "HEAD", "--smoke", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert set(document["stats"]) == {"before", "after"}
    assert document["stats"]["after"]["seconds_per_trial"]["median"] > 0
    assert 0 < document["ratios"]["seconds_per_trial"] < 10


def test_groups_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "groups.json"

    assert groups.main(["--smoke", "--out", str(out)]) == 0

    result = json.loads(out.read_text())
    stats = result["models"]["mlp"]["stats"]
    for mode in groups.MODES:
        assert stats[mode]["trial_seconds"]["n"] == 1, result["models"]["mlp"]["runs"]
        assert 0.5 < stats[mode]["accuracy"]["median"] <= 1.0
    assert stats["speed_ratio_group_over_one"]["median"] > 0
    assert "| mlp" in capsys.readouterr().out


def test_family_ceiling_smoke(tmp_path: Path) -> None:
    out = tmp_path / "ceiling.json"

    assert family_ceiling.main(["--smoke", "--out", str(out)]) == 0

    (run,) = json.loads(out.read_text())["runs"]
    assert run["config"] == "speed_first" and run["end"] == "complete"
    assert len(run["curve"]) == 2 and all(0.0 < a <= 1.0 for a in run["curve"])
    assert run["values"]["depth"] == 3  # fashion_speed.yaml's second start_with


def test_data_memory_smoke(tmp_path: Path) -> None:
    out = tmp_path / "data_memory.json"

    assert (
        data_memory.main(["--smoke", "--form", "npy", "--stream", "true", "--out", str(out)]) == 0
    )

    (run,) = json.loads(out.read_text())["runs"]
    assert run["exit"] == 0 and run["images"] == 2000
    assert 0 < run["peak_anon_process_gb"] <= run["peak_anon_gb"] <= run["peak_rss_gb"]


def test_data_speed_smoke(tmp_path: Path) -> None:
    out = tmp_path / "data_speed.json"

    assert data_speed.main(["--smoke", "--out", str(out)]) == 0

    runs = json.loads(out.read_text())["runs"]
    assert {r["competitor"] for r in runs} == {"keras", "folder_stream"}
    assert all(len(r["epoch_seconds"]) == 2 and 0 < r["accuracy"] <= 1 for r in runs)

"""A run file is accepted or refused within 2 s and 200 MB whatever it holds (issue 15)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autotune.spec import SpecError, load_run_file
from autotune.spec._yaml import MAX_BYTES, MAX_VALUES

BAD_RUNS = Path(__file__).parent.parent / "bad_runs"

_MEASURE = """
import json, sys, time
from autotune.cli import main
start = time.perf_counter()
code = main(["validate", sys.argv[1]])
seconds = time.perf_counter() - start
# VmHWM: this process's peak RSS since exec (ru_maxrss would carry the forking parent's peak)
peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]
print(json.dumps({"code": code, "seconds": seconds, "mib": int(peak) / 1024}))
"""


def _validate(path: Path) -> tuple[dict[str, float], str]:
    """``autotune validate path`` in a fresh process: exit code, seconds, peak RSS, stderr."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, timeout=120
    )
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


def _alias_bomb(levels: int, under_unknown_key: bool) -> str:
    rows = ["&a0 [" + ", ".join(["16"] * 9) + "]"]
    rows += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    if under_unknown_key:
        return "data: {dataset: digits}\n" + "".join(f"x{i}: {r}\n" for i, r in enumerate(rows))
    return "data: {dataset: digits}\nspace:\n  width:\n" + "".join(f"    - {r}\n" for r in rows)


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("bomb_width.yaml", _alias_bomb(9, False), "alias *a3 expanded"),
        ("bomb_top.yaml", _alias_bomb(9, True), "alias *a3 expanded"),
        (
            "widths.yaml",
            "data: {dataset: digits}\nspace:\n  width: [" + "16, " * 1_500_000 + "16]\n",
            "KiB",
        ),
        (
            "long_list.yaml",
            "data: {dataset: digits}\nspace:\n  width: ["
            + ", ".join(map(str, range(1, 20_001)))
            + "]\n",
            f"{MAX_VALUES:,} values",
        ),
        ("deep.yaml", "data: {dataset: digits}\nx: " + "[" * 5000 + "]" * 5000 + "\n", "64 deep"),
        (
            "deep_maps.yaml",
            "data: {dataset: digits}\nx: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
            "64 deep",
        ),
    ],
)
def test_a_hostile_run_file_is_refused_in_one_line_within_2_s_and_200_mb(
    name: str, text: str, says: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_text(text)
    measured, err = _validate(path)
    assert measured["code"] == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}") and says in lines[0], err
    assert measured["seconds"] < 2.0, measured
    assert measured["mib"] < 200, measured


def test_the_limits_leave_room_for_every_example_and_a_few_aliases(tmp_path: Path) -> None:
    for example in sorted((Path(__file__).parents[2] / "search_spaces").glob("*.yaml")):
        assert example.stat().st_size < MAX_BYTES // 10
        load_run_file(example)
    path = tmp_path / "aliases.yaml"
    path.write_text(
        "data: {dataset: digits}\n"
        "space: {width: &widths [16, 32], depth: [1, 2]}\n"
        "search: {start_with: [&small {width: 16, depth: 1}, {<<: *small, depth: 2}]}\n"
    )
    spec = load_run_file(path)
    assert spec.search.start_with == [{"width": 16, "depth": 1}, {"width": 16, "depth": 2}]


def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "run.yaml"
    os.mkfifo(fifo)
    with pytest.raises(SpecError, match="a regular file"):
        load_run_file(fifo)

"""What every benchmark shares: child processes, alternating order, medians, tables, JSON.

Each competitor of a benchmark runs in a child process of its own (``python -m
benchmarks.<name> --child ...``) that prints one ``RESULT {json}`` line. Across seeds the
competitors' order alternates (forward on even seeds, reversed on odd ones), so neither always
runs on a machine warmed or loaded by the other.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
FASHION = "/usr/share/datasets/fashion-mnist"
RESULT_PREFIX = "RESULT "


def child_env() -> dict[str, str]:
    """The environment of a child: autotune importable, TensorFlow quiet, no GPU surprises."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def run_child(module: str, args: Sequence[str], *, timeout: float) -> dict[str, Any]:
    """Run ``python -m module --child args...`` and return its RESULT json.

    A child that fails, times out or prints no result gives ``{"error": ...}`` instead.
    """
    command = [sys.executable, "-m", module, "--child", *args]
    began = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f}s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line.removeprefix(RESULT_PREFIX))
            result["process_seconds"] = time.perf_counter() - began
            return result
    tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
    return {"error": f"exit {done.returncode}: " + " | ".join(tail)}


def emit(result: Mapping[str, Any]) -> None:
    """Print a child's result line (the parent reads the last one)."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def ordered(competitors: Sequence[str], seed: int) -> list[str]:
    """Competitors in run order for ``seed``: forward on even seeds, reversed on odd ones."""
    return list(competitors) if seed % 2 == 0 else list(reversed(competitors))


def summary(values: Iterable[float | None]) -> dict[str, float | int | None]:
    """Median, min, max and count of the values that are not None."""
    present = [float(v) for v in values if v is not None]
    if not present:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {
        "median": statistics.median(present),
        "min": min(present),
        "max": max(present),
        "n": len(present),
    }


def spread(stats: Mapping[str, Any], digits: int = 0) -> str:
    """``median [min-max]`` text of a ``summary``."""
    if stats.get("median") is None:
        return "-"
    fmt: Callable[[float], str] = lambda v: f"{v:.{digits}f}"  # noqa: E731
    if stats["n"] == 1:
        return fmt(stats["median"])
    return f"{fmt(stats['median'])} [{fmt(stats['min'])}-{fmt(stats['max'])}]"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table (what the README's Performance section holds)."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def machine() -> dict[str, Any]:
    """The machine a benchmark ran on, the time, and how loaded the machine was then."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "load_average_1_5_15": [round(v, 2) for v in load],
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write(name: str, document: dict[str, Any], *, out: Path | None, smoke: bool) -> Path:
    """Write a benchmark's JSON to ``out`` (default ``benchmarks/results/<name>[_smoke].json``)."""
    path = out or RESULTS / f"{name}{'_smoke' if smoke else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    end = machine()["load_average_1_5_15"]
    document = {**document, "load_average_at_end": end}
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def finish(
    name: str,
    document: dict[str, Any],
    runs: Sequence[Mapping[str, Any]],
    *,
    out: Path | None,
    smoke: bool,
) -> int:
    """Write a benchmark's JSON (``write``), say where, and return its exit status: 1 when a
    run of ``runs`` failed (holds an ``error``), else 0."""
    path = write(name, document, out=out, smoke=smoke)
    print(f"wrote {path}")
    return 0 if all("error" not in r for r in runs) else 1


def parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--smoke", action="store_true", help="a few seconds: tiny data, one seed")
    p.add_argument("--seeds", type=int, default=None, help="repeats (competitor order alternates)")
    p.add_argument("--out", type=Path, default=None, help="JSON path (default benchmarks/results)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p


def rss_mb() -> float:
    """This process's resident memory in MB."""
    return psutil.Process().memory_info().rss / 1e6


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """A temporary git worktree of ``revision``: the old version a before/after benchmark runs."""
    with tempfile.TemporaryDirectory() as scratch:
        old = Path(scratch) / "before-tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(old), revision],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            yield old
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False
            )

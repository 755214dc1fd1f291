"""Fuzzing `autotune validate`: a mutated run file validates, or is refused in one line (exit 2).

Hypothesis mutates the example run files: values replaced by other types, numbers at the edges
and unicode; keys dropped, added or duplicated; aliases and anchors; lines cut or repeated. Each
mutant must give exit 0 or exit 2 with exactly one ``error:`` line, never a traceback, within
the run-file limits (2 s).
"""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotune.cli import main

ROOT = Path(__file__).parents[2]
EXAMPLES = {
    p.name: p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("search_spaces/*.yaml"))
}
EXAMPLES["small.yaml"] = (
    "data: {dataset: digits, train_size: 200}\nmodel: mlp\n"
    "space: {width: [16, 32], learning_rate: {low: 1.0e-3, high: 1.0e-1, log: true}}\n"
    "search: {trials: 3, budget: 30s}\n"
)

EDGES = [0, -1, 1, 2**31, 2**63, -(2**63), 10**400, 1e308, -1e-308, float("nan"), float("inf")]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(EDGES),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        ["auto", "..", "../x", "a/b", "é", "\u202e", "1e-3", "10s", "-5m", "os:system"]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _set(node: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(node) if isinstance(node, dict) else list(node)
    if delete and not rest:
        del copy[head]
    elif not rest:
        copy[head] = value
    else:
        copy[head] = _set(copy[head], rest, value, delete)
    return copy


@st.composite
def mutated_documents(draw: st.DrawFn) -> str:
    text = EXAMPLES[draw(st.sampled_from(sorted(EXAMPLES)))]
    kind = draw(st.sampled_from(["value", "delete", "add", "text", "anchor", "lines"]))
    if kind in ("value", "delete", "add"):
        document = yaml.safe_load(text)
        path = draw(st.sampled_from(_paths(document)))
        if kind == "add":
            target = draw(st.sampled_from(_paths(document)))
            path = (*target, draw(st.text(min_size=1, max_size=12)))
            holder: Any = document
            for part in target:
                holder = holder[part]
            if not isinstance(holder, dict):
                path = target
        document = _set(document, path, draw(VALUES), delete=kind == "delete" and bool(path))
        try:
            return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
        except (yaml.YAMLError, ValueError):
            return text
    lines = text.splitlines()
    at = draw(st.integers(0, max(0, len(lines) - 1)))
    if kind == "text":
        position = draw(st.integers(0, len(text)))
        return text[:position] + draw(st.text(max_size=20)) + text[position:]
    if kind == "anchor":
        levels = draw(st.integers(1, 12))
        bomb = ["  - &b0 [1, 2, 3, 4, 5, 6, 7, 8]"]
        bomb += [f"  - &b{i} [" + ", ".join([f"*b{i - 1}"] * 8) + "]" for i in range(1, levels)]
        key = draw(st.sampled_from(["x", "space", "rank", "train"]))
        return text + f"\n{key}:\n" + "\n".join(bomb) + "\n"
    if kind == "lines" and lines:
        how = draw(st.sampled_from(["cut", "repeat", "drop", "indent"]))
        if how == "cut":
            return "\n".join(lines[:at])
        if how == "repeat":
            return "\n".join(lines[: at + 1] + lines[at:])
        if how == "drop":
            return "\n".join(lines[:at] + lines[at + 1 :])
        return "\n".join([*lines[:at], "   " + lines[at], *lines[at + 1 :]])
    return text


@settings(
    max_examples=500,
    derandomize=True,  # the same 500 mutants on every CI run; explore with --hypothesis-seed=N
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=mutated_documents())
def test_a_mutated_run_file_validates_or_is_refused_in_one_line(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # relative data paths resolve as for a user in the repo
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(path)])
    seconds = time.perf_counter() - started
    assert seconds < 2.0, (seconds, text[:300])
    assert code in (0, 2), (code, err.getvalue())
    assert "Traceback" not in err.getvalue() + out.getvalue()
    if code == 2:
        lines = err.getvalue().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err.getvalue()

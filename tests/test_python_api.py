"""The public Python API: exactly ``autotune.__all__``, importable without TensorFlow, and the
runnable examples in its docstrings and in the README's Python API section."""

from __future__ import annotations

import doctest
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import autotune

ROOT = Path(__file__).parent.parent

PUBLIC = {
    "Choice", "Fixed", "Float", "Int", "RunOptions", "RunReport", "RunSpec", "Space",
    "SpecError", "Study", "TimeASHAPruner", "TrialConfig", "TrialContext", "TrialEvent",
    "TrialResult",
    "__version__", "load_run_file", "load_space", "objective", "run", "tune",
}  # fmt: skip

API_MODULES = [
    "autotune",
    "autotune.engine.api._tune",
    "autotune.engine.trial._context",
    "autotune.engine.trial._bodies",
    "autotune.spec._code",
    "autotune.spec._names",
    "autotune.spec._paths",
    "autotune.engine.trial._overrun",
    "autotune.space._keras_tuner",
    "autotune.space._config",
    "autotune.data._arrays",
    "autotune.data._examples",
    "autotune.engine.api._tune_parts",
    "autotune.spec._load",
    "autotune.spec._custom",
    "autotune.pruners._time_asha",
    "autotune.pruners._fronts",
    "autotune.space._space",
    "autotune.engine.study._planner",
]


def test_all_is_the_public_api_and_every_name_resolves() -> None:
    assert set(autotune.__all__) == PUBLIC
    for name in autotune.__all__:
        assert getattr(autotune, name) is not None
    with pytest.raises(AttributeError):
        autotune.nothing  # noqa: B018


def test_import_autotune_does_not_import_tensorflow() -> None:
    code = "import sys, autotune; autotune.Space; print('tensorflow' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", API_MODULES)
def test_docstring_examples_run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # examples name search_spaces/...
    module = importlib.import_module(name)
    fixtures: dict[str, Any] = {"tmp_path": tmp_path}
    results = doctest.testmod(
        module,
        extraglobs={"getfixture": fixtures.__getitem__},
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert results.attempted > 0, f"{name} has no examples"
    assert results.failed == 0


def _readme_python_api() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.mark.slow
def test_the_readme_python_api_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = _readme_python_api()
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    (tmp_path / "search_spaces").symlink_to(ROOT / "search_spaces")
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert (tmp_path / "results").is_dir()

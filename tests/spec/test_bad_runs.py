"""Every file in tests/bad_runs/ is a run file with one mistake; loading it must say where and what.

Each file starts with ``# expect: <key path> | <part of the message>`` (``-`` for no key), and the
offending line ends with ``# <-`` (no marker: the error has no line, e.g. a missing section).
Adding a file adds a case.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from autotune.spec import SpecError, load_run_file, load_run_mapping

BAD_RUNS = Path(__file__).parent.parent / "bad_runs"
FILES = sorted(BAD_RUNS.glob("*.yaml"))


def _expectation(path: Path) -> tuple[str, str, int | None]:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0]
    assert header.startswith("# expect:"), f"{path.name}: first line must be '# expect: KEY | TEXT'"
    key, text = (part.strip() for part in header.removeprefix("# expect:").split("|", 1))
    marked = [number for number, line in enumerate(lines, 1) if line.rstrip().endswith("# <-")]
    assert len(marked) <= 1, f"{path.name}: more than one '# <-' marker"
    return ("" if key == "-" else key), text, (marked[0] if marked else None)


def test_the_corpus_covers_the_documented_mistakes() -> None:
    assert len(FILES) >= 25


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_bad_run_file_is_refused_with_file_line_key_and_reason(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the gp case needs torch missing; make that so everywhere torch happens to be installed
    monkeypatch.setitem(sys.modules, "torch", None)
    key, text, line = _expectation(path)

    with pytest.raises(SpecError) as caught:
        load_run_file(path)

    error = caught.value
    message = str(error)
    assert error.file == path
    assert error.key == key, message
    assert error.line == line, message
    assert message.startswith(f"{path}:{line}: " if line else f"{path}: "), message
    assert text in message
    assert error.expected and error.received
    for leak in ("pydantic", "Input should be", "Traceback", "yaml.", "Value error"):
        assert leak not in message


def _mapping(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None


# safe_load hides some mistakes (YAML errors, a non-mapping, the last duplicate key wins); the
# alias bombs are bounded by the YAML reader, not by the mapping check (a Python caller's own
# mapping holds what it holds)
_READER_ONLY = {"duplicate_key", "alias_bomb", "alias_bomb_top_level", "nested_too_deep"}
MAPPINGS = [p for p in FILES if isinstance(_mapping(p), dict) and p.stem not in _READER_ONLY]


@pytest.mark.parametrize("path", MAPPINGS, ids=[path.stem for path in MAPPINGS])
def test_the_same_mistake_in_a_mapping_names_the_same_key(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    key, text, _ = _expectation(path)
    mapping = _mapping(path)
    assert isinstance(mapping, dict)

    with pytest.raises(SpecError) as caught:
        load_run_mapping(mapping, source=path)

    assert caught.value.key == key
    assert caught.value.line is None
    assert text in str(caught.value)

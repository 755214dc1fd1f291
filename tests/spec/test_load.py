"""Loading good run files: defaults, line numbers, and errors raised later at a key."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from autotune.spec import RunSpec, SpecError, load_run_file, load_run_mapping

EXAMPLE = Path(__file__).parent / "example.yaml"
ROOT = Path(__file__).parent.parent.parent


def _line(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_example_loads_with_every_section_as_written() -> None:
    spec = load_run_file(EXAMPLE)

    assert spec.file == EXAMPLE
    assert spec.study == "fashion-cnn"
    assert spec.data.dataset == "digits"
    assert (spec.data.train_size, spec.data.validation_size, spec.data.test) == (1200, 300, True)
    assert spec.model == "cnn"
    assert spec.train.epochs == 9
    assert spec.search.budget == 600.0
    assert spec.search.trials == 50
    assert spec.search.start_with == [{"optimizer": "adam", "learning_rate": 0.001}]
    assert spec.rank.target == 0.85
    assert spec.storage is None


def test_defaults_fill_what_a_minimal_file_leaves_out(tmp_path: Path) -> None:
    path = tmp_path / "my run.yaml"
    path.write_text("data: {dataset: digits}\n")

    spec = load_run_file(path)

    assert spec.study == "my-run"  # the file's stem, made a valid study name
    assert spec.seed == 0
    assert spec.model == "auto"
    assert spec.space == {}
    assert (spec.train.epochs, spec.train.devices, spec.train.probe) == (10, "auto", None)
    assert spec.train.steps_per_execution is None  # the old place; the dimension's default is 1
    assert (spec.search.sampler, spec.search.objective, spec.search.trials) == (
        "tpe",
        "accuracy",
        20,
    )
    assert spec.search.resolved_pruner == "hyperband"
    assert spec.search.budget is None
    assert (spec.rank.by, spec.rank.min_accuracy, spec.rank.tolerance) == (
        "accuracy_per_second",
        "auto",
        0.01,
    )


def test_pareto_and_a_budget_default_to_the_seconds_pruner() -> None:
    def pruner(search: dict[str, object]) -> str:
        spec = load_run_mapping({"data": {"dataset": "digits"}, "search": search})
        return spec.search.resolved_pruner

    assert pruner({"objective": "pareto"}) == "asha"
    assert pruner({"budget": "5m"}) == "asha"
    assert pruner({}) == "hyperband"
    assert pruner({"budget": "5m", "pruner": "median"}) == "median"
    assert pruner({"objective": "pareto", "pruner": "none"}) == "none"
    # options written for the old epoch-based default keep it
    assert pruner({"budget": "5m", "pruner_options": {"min_resource": 1}}) == "hyperband"


def test_a_mapping_without_source_has_no_study_name_and_no_file() -> None:
    spec = load_run_mapping({"data": {"dataset": "digits"}})
    assert spec.study is None and spec.file is None
    assert load_run_mapping({"data": {"dataset": "digits"}}, source="x/runs.yaml").study == "runs"


def test_lines_of_keys_and_of_dimensions_written_in_augmentation() -> None:
    spec = load_run_file(EXAMPLE)

    assert spec.line_of("space", "depth") == _line(EXAMPLE, "depth:")
    assert spec.line_of("space", "momentum", "when", "optimizer") == _line(EXAMPLE, "momentum:")
    assert spec.line_of("search", "start_with", 0, "optimizer") == _line(EXAMPLE, "start_with:")
    # flip is written inside augmentation.ops, and still has a line of its own name
    assert spec.line_of("space", "flip") == _line(EXAMPLE, "augmentation:")
    # a key the file does not hold falls back to its nearest parent
    assert spec.line_of("data", "path") == _line(EXAMPLE, "data:")


def test_later_stages_report_at_a_key_with_its_line() -> None:
    spec = load_run_file(EXAMPLE)

    error = SpecError.at(
        spec, ("data", "dataset"), expected="a data set with images", received="digits", hint="x"
    )

    line = _line(EXAMPLE, "dataset: digits")
    assert (error.file, error.line, error.key) == (EXAMPLE, line, "data.dataset")
    assert (
        str(error)
        == f"{EXAMPLE}:{line}: data.dataset: expected a data set with images, got 'digits' (x)"
    )


def test_spec_error_survives_pickling_between_processes() -> None:
    with pytest.raises(SpecError) as caught:
        load_run_mapping({"data": {"dataset": "digits"}, "space": {"depth": 0}}, source="a.yaml")

    copy = pickle.loads(pickle.dumps(caught.value))

    assert str(copy) == str(caught.value)
    assert (copy.key, copy.path, copy.expected) == (
        "space.depth",
        ("space", "depth"),
        caught.value.expected,
    )


def test_a_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="expected a readable run file"):
        load_run_file(tmp_path / "nope.yaml")


@pytest.mark.parametrize("path", sorted((ROOT / "search_spaces").glob("*.yaml")), ids=str)
def test_shipped_run_files_load_and_survive_a_json_round_trip(path: Path) -> None:
    spec = load_run_file(path)

    again = load_run_mapping(spec.model_dump(mode="json"))  # what the engine stores in a study

    assert isinstance(again, RunSpec)
    assert again.model_dump() == spec.model_dump()


def test_loading_a_run_file_does_not_import_tensorflow() -> None:
    code = (
        "import sys\n"
        "from autotune.spec import load_run_file, space_of, describe\n"
        f"spec = load_run_file({str(EXAMPLE)!r})\n"
        "describe(spec); space_of(spec)\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
        "assert 'keras' not in sys.modules, 'keras was imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr

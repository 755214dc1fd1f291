"""`autotune validate` imports the code a run file names and checks it as `autotune run` does;
it checks that data.path is there. Each refusal is one `error:` line naming file:line and key."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autotune.cli import main

ROOT = Path(__file__).parent.parent.parent

CODE = """
def objective(config, ctx):
    return {"accuracy": 1.0 - abs(config["x"] - 0.5)}


def objective_with_extras(config, ctx=None, *more, verbose=False):
    return 0.5


class Scorer:
    def __call__(self, config, ctx):
        return 0.5


SCORER = Scorer()


def one_argument(config):
    return 0.5


def build(config, input_shape, num_classes):
    import keras  # a builder may import Keras when it builds, not when it is imported

    return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(num_classes)])


def build_too_many(config, width, depth):
    return None


async def async_objective(config, ctx):
    return 0.5


NOT_CALLABLE = 3
"""


@pytest.fixture
def code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path holding ``checked_code.py`` and ``checked_broken.py``."""
    (tmp_path / "checked_code.py").write_text(textwrap.dedent(CODE))
    (tmp_path / "checked_broken.py").write_text(
        "import os\n\nraise RuntimeError('no GPU here\\nsecond line')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def _run_file(folder: Path, key: str, value: str, *, space: str = "") -> Path:
    path = folder / "run.yaml"
    path.write_text(
        "seed: 0\n"
        "data: {dataset: digits, train_size: 100, validation_size: 50}\n"
        "search: {sampler: random, trials: 1}\n"
        f"{key}: {value}\n" + space
    )
    return path


def _refused(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The one error line of ``autotune validate`` (or the given command) on ``path``."""
    assert main([*(args or ("validate",)), str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err
    return lines[0]


SPACE = "space: {x: {low: 0.0, high: 1.0}}\n"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("os:system", "got os:system, a built-in function (C code)"),
        ("builtins:eval", "got builtins:eval, a built-in function (C code)"),
        ("subprocess:run", "got subprocess:run, a"),
        ("checked_code:one_argument", "one_argument(config) (too many positional arguments)"),
        ("checked_code:build", "build(config, input_shape, num_classes)"),
        ("checked_code:Scorer", "checked_code:Scorer, a class"),
        ("checked_code:NOT_CALLABLE", "checked_code:NOT_CALLABLE, an int"),
        ("checked_code:async_objective", "an async function"),
    ],
)
def test_a_custom_objective_that_is_not_a_python_objective_is_refused(
    code: Path, capsys: pytest.CaptureFixture[str], value: str, words: str
) -> None:
    path = _run_file(code, "custom_objective", value, space=SPACE)
    line = _refused(path, capsys)
    assert line.startswith(f"error: {path}:4: custom_objective: expected a Python function ")
    assert "objective(config, ctx)" in line and words in line


def test_os_system_is_refused_by_name_as_c_code(
    code: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _run_file(code, "custom_objective", "os:system", space=SPACE)
    assert _refused(path, capsys) == (
        f"error: {path}:4: custom_objective: expected a Python function objective(config, ctx), "
        "got os:system, a built-in function (C code)"
    )


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("os:system", "got os:system, a built-in function (C code)"),
        ("builtins:eval", "got builtins:eval, a built-in function (C code)"),
        ("checked_code:build_too_many", "build_too_many(config, width, depth) (missing a"),
        ("checked_code:objective", "objective(config, ctx) (missing a required argument: 'ctx')"),
    ],
)
def test_a_model_that_is_not_a_python_builder_is_refused(
    code: Path, capsys: pytest.CaptureFixture[str], value: str, words: str
) -> None:
    line = _refused(_run_file(code, "model", value, space=SPACE), capsys)
    assert "run.yaml:4: model: expected a Python function build(config)" in line
    assert words in line


def test_a_module_that_raises_on_import_is_one_line_with_the_exception(
    code: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _refused(_run_file(code, "custom_objective", "checked_broken:fn", space=SPACE), capsys)
    assert "run.yaml:4: custom_objective: expected a module that imports without error" in line
    assert "checked_broken:fn: RuntimeError: no GPU here" in line and "second" not in line
    line = _refused(_run_file(code, "model", "checked_nowhere:build", space=SPACE), capsys)
    assert "ModuleNotFoundError: No module named 'checked_nowhere'" in line


def test_good_objectives_and_builders_validate(
    code: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in [
        ("custom_objective", "checked_code:objective"),
        ("custom_objective", "checked_code:objective_with_extras"),
        ("custom_objective", "checked_code:SCORER"),
        ("model", "checked_code:build"),
        ("model", "checked_code:one_argument"),
    ]:
        assert main(["validate", str(_run_file(code, key, value, space=SPACE))]) == 0, value
        assert capsys.readouterr().err == ""


def test_validate_imports_only_the_users_module(code: Path) -> None:
    """No TensorFlow for a run file whose code does not import it (validate stays quick)."""
    path = _run_file(code, "custom_objective", "checked_code:objective", space=SPACE)
    script = (
        "import sys; from autotune.cli import main; "
        f"code = main(['validate', {str(path)!r}]); "
        "print(code, 'checked_code' in sys.modules, 'tensorflow' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PYTHONPATH": f"{code}:{ROOT}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.split()[-3:] == ["0", "True", "False"], done.stderr


def test_run_refuses_os_system_as_validate_does_before_any_trial(
    code: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _run_file(code, "custom_objective", "os:system", space=SPACE)
    validated = _refused(path, capsys)
    assert main(["run", str(path), "--results-dir", str(code / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == validated
    assert not (code / "out").exists()


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        ("csv, target: label", "a csv file, or a glob of csv files with the same header"),
        ("npz", "an .npz file"),
        (
            "image_dir",
            "a folder with one sub-folder of images per class (or train/ and val/ folders of them)",
        ),
        ("npy", "a folder holding x_train.npy and y_train.npy (or x.npy and y.npy)"),
        ("fashion_mnist", "a folder holding the Fashion-MNIST IDX files"),
        ("mnist", "keras' mnist.npz, or a folder holding it or the MNIST IDX files"),
        ("cifar10", "a cifar-10-batches-py folder, or a folder holding one"),
    ],
)
def test_a_data_path_that_is_not_there_is_refused_by_validate_as_by_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: str, expected: str
) -> None:
    missing = tmp_path / "nowhere"
    path = tmp_path / "run.yaml"
    path.write_text(f"seed: 0\ndata: {{dataset: {dataset}, path: {missing}}}\nmodel: mlp\n")
    line = _refused(path, capsys)
    assert line == (
        f"error: {path}:2: data.path: expected a data set autotune can read offline, got "
        f"{missing} does not exist; expected {expected}"
    )
    assert main(["run", str(path), "--results-dir", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == line
    assert not (tmp_path / "out").exists()


def test_a_data_path_of_the_wrong_kind_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(f"data: {{dataset: csv, target: y, path: {tmp_path}}}\n")
    assert f"got {tmp_path} is a folder, not a file" in _refused(path, capsys)
    path.write_text(f"data: {{dataset: image_dir, path: {path}}}\n")
    assert f"got {path} is a file, not a folder" in _refused(path, capsys)

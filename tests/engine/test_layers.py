"""The engine's folders keep their order: a folder imports only from the ones before it.

A newcomer reads the engine bottom-up in this order; an import against it (and any import
circle between files) fails here, so the structure cannot drift.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).parents[2] / "autotune" / "engine"
LAYERS = [
    ("_events",),
    ("storages",),
    ("study",),
    ("trial",),
    ("reserved",),
    ("setup",),
    ("output",),
    ("step",),
    ("workers",),
    ("loop",),
    ("api",),
]
RANK = {part: index for index, parts in enumerate(LAYERS) for part in parts}
MODULES = sorted(p for p in ENGINE.rglob("*.py") if p.name != "__init__.py" or p.parent != ENGINE)


def _part(module: str) -> str | None:
    """``autotune.engine.trial._base`` -> ``trial``; None outside the engine."""
    parts = module.split(".")
    return parts[2] if parts[:2] == ["autotune", "engine"] and len(parts) > 2 else None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def test_every_engine_folder_and_leaf_has_a_layer() -> None:
    parts = {p.relative_to(ENGINE).parts[0].removesuffix(".py") for p in MODULES}
    assert parts == set(RANK), "add a new folder to LAYERS (and the README's architecture)"


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(ENGINE)) for p in MODULES])
def test_a_module_imports_only_from_its_layer_or_below(path: Path) -> None:
    own = path.relative_to(ENGINE).parts[0].removesuffix(".py")
    wrong = [
        f"line {line}: {module}"
        for line, module in _imports(path)
        if (part := _part(module)) is not None and RANK.get(part, -1) > RANK[own]
    ]
    assert not wrong, f"{own}/ may not import from a later folder: {wrong}"


def test_no_folder_holds_more_than_a_dozen_modules() -> None:
    for folder in (p for p in ENGINE.iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert len(list(folder.glob("_*.py"))) <= 12, folder.name


def test_folder_inits_hold_a_docstring_and_imports_only() -> None:
    for init in ENGINE.glob("*/__init__.py"):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{init}: say the folder's one job"
        for node in tree.body[1:]:
            assert isinstance(node, ast.Import | ast.ImportFrom | ast.Assign), ast.dump(node)

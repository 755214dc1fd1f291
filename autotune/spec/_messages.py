"""Pydantic validation errors, rewritten as SpecErrors a user can act on."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from autotune.spec._errors import (
    KeyPath,
    Problem,
    SpecError,
    closest,
    dotted,
    is_number,
    show,
)
from autotune.spec._names import STUDY_NAME_RULE

_EXPECTED: dict[KeyPath, str] = {
    ("study",): STUDY_NAME_RULE,
    ("space",): "a mapping of dimensions like {depth: {low: 1, high: 3}, width: [32, 64]}",
    ("storage",): "null or an Optuna storage URL like sqlite:///study.db",
    ("train", "devices"): "auto, cpu or a list of GPU indices like [0, 1]",
    ("search", "sampler_options"): "a mapping of sampler options like {n_startup_trials: 5}",
    ("search", "pruner_options"): "a mapping of pruner options like {reduction_factor: 3}",
    ("search", "start_with"): "a list of configurations like [{optimizer: adam}]",
    ("search", "budget"): "a positive duration like 90, 90s, 10m or 1.5h",
    ("data", "image_size"): "a pair of integers like [32, 32]",
    ("rank", "min_accuracy"): "auto or a number from 0 to 1",
}


def spec_error(
    exc: ValidationError, root: type[BaseModel], lines: dict[KeyPath, int], file: Path | None
) -> SpecError:
    """The SpecError for the first problem in ``exc`` (the earliest line in the file)."""
    found: list[SpecError] = []
    seen: set[KeyPath] = set()
    for detail in exc.errors():
        path, expected, received, hint = _one(detail, root)
        if path in seen:  # a union reports once per member
            continue
        seen.add(path)
        found.append(
            SpecError(
                path=path,
                expected=expected,
                received=received,
                hint=hint,
                file=file,
                line=_line(lines, path),
            )
        )
    found.sort(key=lambda err: err.line if err.line is not None else 1 << 30)
    return found[0]


def _line(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path`` or its nearest parent (a YAML key ``1`` matches the path ``"1"``)."""
    as_text = {tuple(map(str, key)): line for key, line in lines.items()}
    while path:
        if path in lines:
            return lines[path]
        if tuple(map(str, path)) in as_text:
            return as_text[tuple(map(str, path))]
        path = path[:-1]
    return None


def _one(detail: ErrorDetails, root: type[BaseModel]) -> tuple[KeyPath, str, str, str]:
    """Key path, expected, received and hint for one pydantic error."""
    path, parent, info = _walk(detail["loc"], root)
    kind = detail["type"]
    value = detail.get("input")
    ctx = detail.get("ctx") or {}
    error = ctx.get("error")
    if isinstance(error, Problem):
        return (*path, *error.path), error.expected, error.received, error.hint
    if kind == "extra_forbidden" and parent is not None:
        key = path[-1]
        names = list(parent.model_fields)
        expected = "one of the keys " + ", ".join(names)
        return path, expected, f"unknown key {str(key)!r}", closest(key, names)
    expected = _EXPECTED.get(path) or (_expected(info) if info is not None else "")
    if not expected:
        expected = str(detail["msg"]).removeprefix("Input should be ").removeprefix("Value error, ")
    if kind == "invalid_key":
        path = (*path[:-1], str(path[-1]))
        return path, "a key name (a string)", show(value), "quote it if it is meant as a name"
    if kind == "missing":
        where = dotted(path[:-1]) or "the top level"
        return path, expected, "nothing", f"add {path[-1]}: under {where}"
    hint = ""
    if isinstance(value, str):
        if is_number(value) and any(word in expected for word in ("integer", "number")):
            hint = f"write {value} without quotes"
        elif info is not None:
            hint = closest(value, _literals(info.annotation))
    return path, expected, show(value), hint


def _walk(
    loc: tuple[int | str, ...], root: type[BaseModel]
) -> tuple[KeyPath, type[BaseModel] | None, FieldInfo | None]:
    """The user's key path in a pydantic location (union tags dropped), its model and field."""
    path: list[str | int] = []
    model: type[BaseModel] | None = root
    parent: type[BaseModel] | None = None
    info: FieldInfo | None = None
    annotation: Any = None
    for part in loc:
        if model is not None:
            parent = model
            path.append(part)
            info = model.model_fields.get(str(part))
            if info is None:  # a key the model does not have
                return tuple(path), parent, None
            annotation = _optional(info.annotation)
            model = _model(annotation)
        elif part == "[key]" and path:  # the key itself is wrong, not its value
            path[-1] = str(path[-1])
            info = None
        elif _is_union(annotation):
            annotation = None  # a union member's tag, not a key the user wrote
        else:
            path.append(part)
            info = None
            annotation = None
    return tuple(path), parent, info


def _optional(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if _is_union(annotation) and len(args) == 1:
        return args[0]
    return annotation


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _literals(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is Literal:
        return list(typing.get_args(annotation))
    if _is_union(annotation):
        return [value for arg in typing.get_args(annotation) for value in _literals(arg)]
    return []


def _expected(info: FieldInfo) -> str:
    text = _describe(info.annotation)
    bounds = []
    for meta in info.metadata:
        for attr, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            if isinstance(meta, getattr(annotated_types, attr.capitalize())):
                bounds.append(f"{sign} {getattr(meta, attr)}")
    return f"{text} {' and '.join(bounds)}" if bounds else text


def _describe(annotation: Any) -> str:
    annotation = _optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(str(arg) for arg in typing.get_args(annotation))
    if _is_union(annotation):
        return " or ".join(_describe(arg) for arg in typing.get_args(annotation))
    if model := _model(annotation):
        return "a mapping with the keys " + ", ".join(model.model_fields)
    simple = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if annotation in simple:
        return simple[annotation]
    if origin is list:
        return "a list"
    if origin is dict:
        return "a mapping"
    return str(annotation)

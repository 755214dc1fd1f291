"""Safe YAML reading that keeps the line of every key and refuses duplicate keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from autotune.spec._errors import Described, KeyPath, SpecError, dotted, show

_MERGE_TAG = "tag:yaml.org,2002:merge"

_HINTS = (
    ("'\\t'", "indent with spaces, not tabs"),
    ("mapping values are not allowed", "a value holding ': ' needs quotes, or a key is misaligned"),
    ("could not find expected ':'", "each line in a mapping needs 'key: value'"),
    ("expected <block end>", "check the indentation of this line against the one above"),
    ("constructor for the tag", "run files are plain YAML: remove the '!' tag"),
    ("expected a single document", "a run file holds one document: remove the '---' lines"),
)


def read_yaml(text: str, file: Path | None = None) -> tuple[Any, dict[KeyPath, int]]:
    """Parse YAML with ``safe_load`` semantics; return the data and a key-path -> line map.

    Raises:
        SpecError: a syntax error (with the line of the YAML mark), a duplicate key, or a tag
            that safe loading does not allow.
    """
    lines: dict[KeyPath, int] = {}
    starts: dict[tuple[int, int], KeyPath] = {}
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        lines[()] = node.start_mark.line + 1
        _walk(loader, node, (), lines, starts, file, set())
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        problem = problem.replace("tag:yaml.org,2002:", "!!")
        if mark is not None:
            problem += f" (column {mark.column + 1})"
        hint = next((fix for needle, fix in _HINTS if needle in problem), "")
        raise SpecError(
            expected="valid YAML",
            received=Described(problem or "a YAML error"),
            path=starts.get((mark.line, mark.column), ()) if mark is not None else (),
            file=file,
            line=line,
            hint=hint,
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(expected="valid YAML", received=Described(str(exc)), file=file) from None
    finally:
        loader.dispose()


def _walk(
    loader: yaml.SafeLoader,
    node: Node,
    path: KeyPath,
    lines: dict[KeyPath, int],
    starts: dict[tuple[int, int], KeyPath],
    file: Path | None,
    ancestors: set[int],
) -> None:
    """Record the line of each key and item under ``node``; refuse a key given twice."""
    if id(node) in ancestors:  # a recursive alias; construct_document reports it if needed
        return
    starts.setdefault((node.start_mark.line, node.start_mark.column), path)
    ancestors = ancestors | {id(node)}
    if isinstance(node, MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                continue
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise SpecError(
                    expected="each key once in a mapping",
                    received=Described(f"{show(key)} again (first on line {seen[key]})"),
                    key=dotted((*path, key)),
                    path=(*path, key),
                    file=file,
                    line=line,
                    hint="YAML would silently keep the last one: delete one of them",
                )
            seen[key] = line
            lines[(*path, key)] = line
            _walk(loader, value_node, (*path, key), lines, starts, file, ancestors)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(loader, item, (*path, index), lines, starts, file, ancestors)

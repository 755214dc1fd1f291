"""Safe YAML reading that keeps the line of every key and refuses duplicate keys.

Reading is bounded whatever the text holds: before anything is built, one streaming pass over
the YAML events (libyaml's when PyYAML has it) counts the values the document would hold with
every alias expanded, and how deeply it nests. A document over :data:`MAX_BYTES`,
:data:`MAX_VALUES` or :data:`MAX_DEPTH` is refused at the line where it crossed the limit, so
a "billion laughs" of nested aliases costs a few milliseconds, not gigabytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    ScalarEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from autotune.spec._errors import Described, KeyPath, SpecError, dotted, show

_MERGE_TAG = "tag:yaml.org,2002:merge"

MAX_BYTES = 256 * 1024
"""A run file holds at most this many bytes (256 KiB; the examples hold 1-3 KiB)."""

MAX_VALUES = 10_000
"""A run file holds at most this many values (keys, items and scalars), aliases expanded."""

MAX_DEPTH = 64
"""Mappings and lists nest at most this deep."""

_FAST_PARSER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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
        SpecError: a syntax error (with the line of the YAML mark), a duplicate key, a tag
            that safe loading does not allow, or a document over the limits (:data:`MAX_BYTES`,
            :data:`MAX_VALUES` values with aliases expanded, :data:`MAX_DEPTH` levels).
    """
    lines: dict[KeyPath, int] = {}
    starts: dict[tuple[int, int], KeyPath] = {}
    _check_bounds(text, file)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        raise SpecError(
            expected="YAML text (printable characters)",
            received=Described(f"the control character #x{_code(exc.character):04x}"),
            file=file,
            line=text.count("\n", 0, exc.position) + 1,
            hint="remove the control character",
        ) from None
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


def _code(character: int | str | bytes) -> int:
    return character if isinstance(character, int) else ord(character[:1] or " ")


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


def too_big(received: Described, file: Path | None) -> SpecError:
    """The refusal of a run file over :data:`MAX_BYTES`."""
    return SpecError(
        expected=f"a run file of at most {MAX_BYTES // 1024} KiB",
        received=received,
        file=file,
        hint="a run file names data and ranges; it does not hold them",
    )


def _check_bounds(text: str, file: Path | None) -> None:
    """Refuse ``text`` over the size, expanded-size or depth limits, without building it.

    One pass over the parser's events: each anchor's expanded size is known when its node ends,
    so an alias adds that size at once and the pass stays linear in the text. A syntax error
    stops the pass; the full parse that follows reports it.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise too_big(Described(f"{size:,} bytes"), file)
    try:
        _count(yaml.parse(text, Loader=_FAST_PARSER), file)
    except yaml.YAMLError:
        if _FAST_PARSER is yaml.SafeLoader:
            return
        try:  # libyaml and PyYAML disagree on a few corner cases: count with PyYAML's parser
            _count(yaml.parse(text, Loader=yaml.SafeLoader), file)
        except yaml.YAMLError:
            return


def _count(events: Iterable[Event], file: Path | None) -> None:
    anchors: dict[str, int] = {}
    open_: list[list[Any]] = [["", 0]]  # per open collection: its anchor and its size so far
    for event in events:
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, CollectionStartEvent):
            if len(open_) > MAX_DEPTH:
                raise SpecError(
                    expected=f"mappings and lists nested at most {MAX_DEPTH} deep",
                    received=Described(f"a {len(open_)}th level"),
                    file=file,
                    line=line,
                )
            open_.append([event.anchor or "", 1])
            continue
        alias = ""
        if isinstance(event, CollectionEndEvent):
            anchor, added = open_.pop()
        elif isinstance(event, AliasEvent):
            alias = event.anchor or ""
            anchor, added = "", anchors.get(alias, 1)
        elif isinstance(event, ScalarEvent):
            anchor, added = event.anchor or "", 1
        else:
            continue
        if anchor:
            anchors[anchor] = added
        open_[-1][1] += added
        if sum(size for _, size in open_) > MAX_VALUES:
            raise SpecError(
                expected=f"at most {MAX_VALUES:,} values (keys, items, scalars) in a run file",
                received=Described(f"more, with alias *{alias} expanded" if alias else "more"),
                file=file,
                line=line,
                hint="YAML aliases (*name) repeat what their anchor (&name) holds"
                if alias
                else "a run file names data and ranges; it does not hold them",
            )

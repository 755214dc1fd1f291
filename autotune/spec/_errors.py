"""SpecError: a run-file problem with its file, line, key path, what was expected and received."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from autotune.spec._schema import RunSpec

KeyPath = tuple[str | int, ...]


class Described(str):
    """Text that describes a received value rather than being one (shown without quotes)."""

    __slots__ = ()


def show(value: object) -> str:
    """A received value as the user wrote it in YAML: ``'three'``, ``3``, ``true``, ``[1, 2]``."""
    if isinstance(value, Described):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value != value:
        return ".nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    if isinstance(value, int | float):
        return repr(value)
    try:
        text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    except yaml.YAMLError:
        text = repr(value)
    text = text.removesuffix("\n...").strip()
    if "\n" in text:  # a key or string YAML can only write on several lines: one line
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_number(text: str) -> bool:
    """Whether a string reads as a number (a quoted number in YAML, say)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


_PLAIN_KEY = re.compile(r"^[\w\-]+$")


def dotted(path: Sequence[str | int]) -> str:
    """``("search", "start_with", 0, "depth")`` -> ``"search.start_with[0].depth"``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            text = str(part)
            if not _PLAIN_KEY.match(text):  # a key with spaces, newlines or other odd characters
                text = repr(text)
            out += ("." if out else "") + text
    return out


def closest(word: object, options: Iterable[object]) -> str:
    """A ``did you mean ...?`` hint naming the option closest to ``word``, or ``""``."""
    names = [str(option) for option in options]
    found = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    return f"did you mean {found[0]!r}?" if found else ""


class Problem(ValueError):
    """A problem found while validating, at a key path relative to the part being validated.

    Schema validators raise it; the loader prefixes the location pydantic reports and turns it
    into a SpecError with a line number.
    """

    def __init__(self, path: KeyPath, *, expected: str, received: object, hint: str = "") -> None:
        self.path = tuple(path)
        self.expected = expected
        self.received = show(received)
        self.hint = hint
        where = f"{dotted(self.path)}: " if self.path else ""
        tail = f" ({hint})" if hint else ""
        super().__init__(f"{where}expected {expected}, got {self.received}{tail}")


class SpecError(Exception):
    """A run file that autotune cannot use, located by file, line and key path.

    Attributes:
        file: the run file, or None for a mapping built in code.
        line: the 1-based line of the offending key (or its nearest parent), when known.
        key: the dotted key path, e.g. ``"space.depth.low"`` or ``"search.start_with[0].depth"``.
        path: the same key path as a tuple.
        expected: what would have been accepted.
        received: what the run file holds, as written in YAML.
        hint: how to fix it, when there is more to say than ``expected``.

    Example:
        >>> err = SpecError(expected="an integer", received="'three'", key="space.depth",
        ...                 file=Path("space.yaml"), line=12)
        >>> str(err)
        "space.yaml:12: space.depth: expected an integer, got 'three'"
    """

    def __init__(
        self,
        *,
        expected: str,
        received: str,
        key: str = "",
        path: KeyPath = (),
        file: Path | None = None,
        line: int | None = None,
        hint: str = "",
    ) -> None:
        self.file = file
        self.line = line
        self.key = key or dotted(path)
        self.path = tuple(path)
        self.expected = expected
        self.received = received
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        elif self.line:
            where = f"line {self.line}: "
        key = f"{self.key}: " if self.key else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{key}expected {self.expected}, got {self.received}{hint}"

    def __str__(self) -> str:
        return self._message()

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # keyword-only __init__: rebuild from the attributes so workers can send it back
        return _restore, (dict(self.__dict__),)

    @classmethod
    def at(
        cls,
        spec: RunSpec,
        key: tuple[str | int, ...],
        *,
        expected: str,
        received: object,
        hint: str = "",
    ) -> SpecError:
        """An error at a key of a loaded run file, with that key's line (or its parent's).

        For later stages (engine, data) that find a problem only a run would reveal.

        Example:
            >>> raise SpecError.at(spec, ("data", "path"), expected="an existing folder",
            ...                    received="/no/such/dir")  # doctest: +SKIP
        """
        return cls(
            expected=expected,
            received=show(received),
            path=tuple(key),
            file=spec.file,
            line=spec.line_of(*key),
            hint=hint,
        )


def _restore(state: dict[str, Any]) -> SpecError:
    return SpecError(**state)

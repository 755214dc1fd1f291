"""Loading a run file: YAML -> checked RunSpec, every problem reported as a SpecError."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from autotune.spec._custom import names_code
from autotune.spec._errors import Described, KeyPath, SpecError, show
from autotune.spec._messages import spec_error
from autotune.spec._names import study_name_from
from autotune.spec._schema import RunSpec
from autotune.spec._space import parse_space, space_of
from autotune.spec._yaml import MAX_BYTES, read_yaml, too_big

if TYPE_CHECKING:
    from autotune.space import Space

logger = logging.getLogger(__name__)

_SECTIONS = ", ".join(RunSpec.model_fields)


def load_run_file(path: str | Path) -> RunSpec:
    """Read and check a run file.

    Args:
        path: the YAML run file. Its stem names the study when the file has no ``study:``.

    Returns:
        The validated RunSpec, which knows its file and the line of each key.

    Raises:
        SpecError: the file is missing, not valid YAML, or not a valid run file; the error
            names the file, the line, the key path, what was expected and what was found.

    Example:
        >>> spec = load_run_file("search_spaces/digits.yaml")  # doctest: +SKIP
        >>> spec.study, spec.data.dataset  # doctest: +SKIP
        ('digits', 'digits')
    """
    file = Path(path)
    data, lines = read_yaml(_read(file), file)
    return _build(data, lines, file)


def _read(file: Path) -> str:
    """The text of a run file, reading at most one byte past :data:`MAX_BYTES`."""
    try:
        if file.exists() and not file.is_dir() and not file.is_file():  # a FIFO or a device
            raise SpecError(
                expected="a run file (a regular file)",
                received=Described("a device, pipe or socket"),
                file=file,
            )
        with file.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise too_big(Described(f"more than {MAX_BYTES // 1024} KiB"), file)
        return raw.decode("utf-8")
    except OSError as exc:
        raise SpecError(
            expected="a readable run file",
            received=Described(exc.strerror or str(exc)),
            file=file,
        ) from None
    except UnicodeDecodeError as exc:
        raise SpecError(
            expected="a UTF-8 text file", received=Described(str(exc.reason)), file=file
        ) from None


def load_space(path: str | Path) -> Space:
    """The search space of a run file: its ``space:`` plus defaults for the rest.

    Args:
        path: the YAML run file.

    Raises:
        SpecError: the file is not a valid run file.

    Example:
        >>> space = load_space("search_spaces/fashion_cnn.yaml")
        >>> space["depth"], "learning_rate" in space.searched()
        (Int(when=(), low=1, high=3, step=1, log=False), True)
    """
    return space_of(load_run_file(path))


def load_run_mapping(mapping: dict[str, Any], *, source: str | Path | None = None) -> RunSpec:
    """Check a run file given as a mapping (as ``yaml.safe_load`` would return it).

    Args:
        mapping: the run file's content.
        source: where the mapping came from, for messages; its stem names the study when
            the mapping has no ``study``. Defaults to None.

    Raises:
        SpecError: the mapping is not a valid run file (without line numbers).

    Example:
        >>> spec = load_run_mapping({"data": {"dataset": "digits"}, "space": {"width": [16, 32]}})
        >>> spec.model, spec.search.sampler
        ('auto', 'tpe')
    """
    return _build(mapping, {}, None if source is None else Path(source))


def _build(data: Any, lines: dict[KeyPath, int], file: Path | None) -> RunSpec:
    if data is None:
        raise SpecError(
            expected=f"a run file: a mapping with sections {_SECTIONS}",
            received=Described("an empty file"),
            file=file,
            hint="start with data: {dataset: digits}",
        )
    if not isinstance(data, dict):
        raise SpecError(
            expected=f"a mapping with sections {_SECTIONS}",
            received=Described(f"a {type(data).__name__}: {show(data)}"),
            file=file,
            line=lines.get(()),
        )
    if "study" not in data and file is not None:
        data = {"study": study_name_from(file.stem), **data}
    try:
        spec = RunSpec.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, RunSpec, lines, file) from None
    spec._file = file
    spec._lines = {**lines, **_aliases(spec, lines)}
    logger.debug("loaded run file %s (study %s)", file, spec.study)
    return spec


def _aliases(spec: RunSpec, lines: dict[KeyPath, int]) -> dict[KeyPath, int]:
    """Lines for dimension names written elsewhere (``flip`` inside ``augmentation.ops``)."""
    parsed = parse_space(spec.space, custom=names_code(spec))
    out: dict[KeyPath, int] = {}
    for name, path in parsed.paths.items():
        where = ("space", *path)
        if ("space", name) not in lines and where in lines:
            out[("space", name)] = lines[where]
    return out

"""Where the built-in data sets live on disk, and the message when none of those places has one."""

from __future__ import annotations

import os
from pathlib import Path

from autotune.data._errors import DataError

SYSTEM_DATASETS = Path("/usr/share/datasets")
"""System-wide data sets, as Debian-style ``dataset-*`` packages install them."""


def keras_datasets() -> Path:
    """Keras' download cache: ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME")
    return (Path(home) if home else Path.home() / ".keras") / "datasets"


def not_found(
    title: str,
    looked: list[tuple[Path, str]],
    ways: list[str],
    *,
    path_given: bool,
) -> DataError:
    """A DataError listing every place looked, what each held, and how to provide the data.

    Args:
        title: what is missing, e.g. ``"data.dataset fashion_mnist: Fashion-MNIST"``.
        looked: ``(place, what was found there)`` pairs, in the order searched.
        ways: how the user can provide the data, one line each.
        path_given: whether ``data.path`` chose the place (the error then concerns that key).
    """
    lines = [f"{title} was not found. autotune looked in:"]
    lines += [f"  - {place}: {found}" for place, found in looked]
    lines.append("Provide it in one of these ways:")
    lines += [f"  - {way}" for way in ways]
    key = ("data", "path") if path_given else ("data", "dataset")
    return DataError("\n".join(lines), key=key)


def describe_missing(folder: Path, missing: list[str]) -> str:
    """What a candidate folder lacked, for ``not_found``."""
    if not folder.exists():
        return "does not exist"
    if not folder.is_dir():
        return "is not a folder"
    return "has no " + ", ".join(missing)

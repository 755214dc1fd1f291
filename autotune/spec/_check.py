"""check_run_file: what ``autotune validate`` checks beyond the schema, as a run checks it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autotune.spec._code import check_code
from autotune.spec._paths import check_data_path

if TYPE_CHECKING:
    from autotune.spec._schema import RunSpec


def check_run_file(spec: RunSpec) -> None:
    """Check what a loaded run file names outside itself: its data path and its code.

    ``data.path`` must exist (a file or a folder, as the data set reads it), and the code
    ``custom_objective:`` or ``model:`` names must import and be callable as a run calls it.
    Nothing is trained and no data is read; TensorFlow is imported only if the user's module
    imports it.

    Raises:
        SpecError: the first problem, with the run file's line and key.

    Example:
        >>> from autotune.spec import load_run_mapping
        >>> check_run_file(load_run_mapping({"data": {"dataset": "digits"}}))
    """
    check_data_path(spec)
    check_code(spec)

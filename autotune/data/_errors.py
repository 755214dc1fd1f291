"""DataError: the one exception a data source raises for data it cannot load."""

from __future__ import annotations


class DataError(Exception):
    """A data set cannot be loaded.

    ``str(err)`` is a complete message for the user: where autotune looked, what it found and
    how to provide the data.

    Args:
        message: the user-facing message.
        key: the run-file key path the problem concerns. Defaults to ``("data",)``.

    Example:
        >>> err = DataError("data.path: /x.npz does not exist", key=("data", "path"))
        >>> err.key, str(err)
        (('data', 'path'), 'data.path: /x.npz does not exist')
    """

    def __init__(self, message: str, *, key: tuple[str, ...] = ("data",)) -> None:
        super().__init__(message)
        self.key = key

"""csv files read in chunks: one file or a glob of files with the same header.

Listing reads the target column in chunks (the labels are kept; the features are not); the
cache pass (or the in-memory path) reads the feature columns of the rows a run uses, a chunk of
``CHUNK_ROWS`` rows at a time, so memory holds one chunk of the table however large it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from autotune.data._errors import DataError
from autotune.data.sources._labels import encode_labels
from autotune.data.sources._listing import Listing, Part
from autotune.spec._paths import data_path_problem, is_glob, matching

_PATH = ("data", "path")
CHUNK_ROWS = 50_000
_UNREADABLE = (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError)


def csv_files(path: str) -> list[Path]:
    """The csv files ``data.path`` names: one file, or every file a glob matches, sorted.

    Raises:
        DataError: the file is not there, or the glob matches none.
    """
    problem = data_path_problem("csv", path)
    if problem is not None:
        raise DataError(problem, key=_PATH)
    return matching(path) if is_glob(path) else [Path(path).expanduser()]


def list_csv(files: list[Path], target: str) -> Listing:
    """List csv files: their header, their row counts and their target column.

    Raises:
        DataError: a file cannot be read as csv, the headers differ, the target column is
            missing, or the target looks like a regression target.
    """
    columns = _header(files[0])
    if target not in columns:
        raise DataError(
            f"data.target: {files[0]} has no column {target!r}; its columns are "
            f"{', '.join(columns)}",
            key=("data", "target"),
        )
    features = [c for c in columns if c != target]
    if not features:
        raise DataError(
            f"{files[0]}: has no feature columns besides the target {target!r}", key=_PATH
        )
    for file in files[1:]:
        if _header(file) != columns:
            raise DataError(
                f"{file}: its header differs from {files[0]}'s ({', '.join(columns)}); every "
                "file of the glob needs the same columns",
                key=_PATH,
            )
    raw: list[np.ndarray] = []
    counts: list[int] = []
    for file in files:
        count = 0
        for chunk in _chunks(file, usecols=[target]):
            raw.append(chunk[target].to_numpy())
            count += len(chunk)
        counts.append(count)
    if sum(counts) == 0:
        raise DataError(
            f"{files[0]}: holds a header and no rows (the table is empty); expected one example "
            "per row below the header",
            key=_PATH,
        )
    source = f"{files[0] if len(files) == 1 else files[0].parent} column {target!r}"
    y, _, class_names = encode_labels(
        np.concatenate(raw), None, source=source, key=("data", "target")
    )
    name = files[0].stem if len(files) == 1 else files[0].parent.name
    return Listing(
        kind="csv",
        name=name,
        class_names=class_names,
        shape=(len(features),),
        dtype=np.dtype(np.float32),
        image=False,
        value_range=None,
        train=_part(files, counts, features, y),
    )


def _header(file: Path) -> list[str]:
    try:
        return [str(c) for c in pd.read_csv(file, nrows=0).columns]
    except _UNREADABLE as err:
        raise DataError(
            f"{file}: cannot be read as csv ({str(err).strip()}); expected a header row and "
            "comma-separated values",
            key=_PATH,
        ) from None


def _chunks(file: Path, **options: object) -> pd.io.parsers.TextFileReader:
    try:
        return pd.read_csv(file, chunksize=CHUNK_ROWS, **options)
    except _UNREADABLE as err:
        raise DataError(f"{file}: cannot be read as csv ({str(err).strip()})", key=_PATH) from None


def _part(files: list[Path], counts: list[int], features: list[str], labels: np.ndarray) -> Part:
    starts = np.cumsum([0, *counts])

    def fill(rows: np.ndarray, out: np.ndarray, done: Callable[[int], None]) -> np.ndarray:
        order = np.argsort(rows, kind="stable")
        wanted = rows[order]
        taken = 0
        for index, file in enumerate(files):
            first = int(starts[index])
            try:
                for chunk in _chunks(file, usecols=features):
                    end = int(np.searchsorted(wanted, first + len(chunk)))
                    if end > taken:
                        picked = wanted[taken:end] - first
                        out[order[taken:end]] = _numbers(
                            chunk, features, picked, file, first - int(starts[index])
                        )
                        done(end - taken)
                        taken = end
                    first += len(chunk)
            except _UNREADABLE as err:
                raise DataError(
                    f"{file}: cannot be read as csv ({str(err).strip()})", key=_PATH
                ) from None
        return np.zeros(0, dtype=np.int64)

    def identity(rows: np.ndarray) -> list[object]:
        return [[str(f), os.stat(f).st_size, os.stat(f).st_mtime_ns] for f in files] + [features]

    def where(i: int) -> str:
        index = int(np.searchsorted(starts, i, side="right")) - 1
        return f"{files[index]} row {i - int(starts[index]) + 1}"

    return Part(
        labels=labels,
        fill=fill,
        identity=identity,
        where=where,
        why_bad=lambda i: f"{where(i)}: could not be read",
    )


def _numbers(
    chunk: pd.DataFrame, features: list[str], picked: np.ndarray, file: Path, first: int
) -> np.ndarray:
    """The picked rows' features as float32; a non-numeric or empty cell stops the run, naming
    its file and data row (``first``: the chunk's first row in its file, from 0)."""
    rows = chunk.iloc[picked]
    for column in features:
        values = rows[column]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            numbers = pd.to_numeric(values, errors="coerce")
            bad = np.flatnonzero((numbers.isna() & values.notna()).to_numpy())
            if len(bad):
                row = first + int(picked[bad[0]]) + 1
                raise DataError(
                    f"{file} row {row}: column {column!r} is not numeric: "
                    f"{str(values.iloc[bad[0]])[:60]!r}; autotune reads only numeric feature "
                    "columns, so encode it as numbers or drop it",
                    key=_PATH,
                )
        if values.isna().any():
            row = first + int(picked[int(np.flatnonzero(values.isna().to_numpy())[0])]) + 1
            raise DataError(
                f"{file} row {row}: column {column!r} has an empty cell; fill or drop such rows "
                "first",
                key=_PATH,
            )
    x = rows[features].apply(pd.to_numeric).to_numpy(dtype=np.float32)
    if not np.isfinite(x).all():
        raise DataError(f"{file}: some feature values are infinite", key=_PATH)
    return x

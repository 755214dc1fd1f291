"""csv files: one row per example, numeric feature columns and one target column.

One file that fits is read whole (``load_csv``, with pandas' line-exact messages). A glob of
files with the same header, or a file streamed (``data.stream``), is read in chunks
(``list_csv``): listing reads the target column in chunks (the labels are kept; the features
are not); the cache pass (or the in-memory path) reads the feature columns of the rows a run
uses, ``CHUNK_ROWS`` rows at a time, so memory holds one chunk of the table however large it is.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from autotune.data._dataset import Loaded
from autotune.data._errors import DataError
from autotune.data._split import hold_out_test
from autotune.data.sources._labels import encode_labels, value_range_of
from autotune.data.sources._listing import Listing, Part
from autotune.spec._paths import data_path_problem, is_glob, matching

_PATH = ("data", "path")
CHUNK_ROWS = 50_000
"""Rows read at a time from a streamed csv file."""
_UNREADABLE = (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError)


def load_csv(path: Path, target: str, *, test: bool) -> Loaded:
    """Load a classification table from a csv file with a header row.

    Args:
        path: the csv file.
        target: the name of the label column; every other column is a numeric feature.
        test: whether a test split is needed (a fixed 20 % of the rows is held out for it).

    Raises:
        DataError: the file is unreadable, the target column is missing, a feature column is
            not numeric or has empty cells, or the target looks like a regression target.
    """
    problem = data_path_problem("csv", path)
    if problem is not None:
        raise DataError(problem, key=_PATH)
    try:
        frame = pd.read_csv(path)
    except _UNREADABLE as err:
        raise DataError(
            f"{path}: cannot be read as csv ({str(err).strip()}); expected a header row and "
            "comma-separated values",
            key=_PATH,
        ) from None
    if target not in frame.columns:
        raise DataError(
            f"data.target: {path} has no column {target!r}; its columns are "
            f"{', '.join(map(str, frame.columns))}",
            key=("data", "target"),
        )
    if len(frame) == 0:
        raise DataError(
            f"{path}: holds a header and no rows (the table is empty); expected one example "
            "per row below the header",
            key=_PATH,
        )
    features = frame.drop(columns=[target])
    if features.shape[1] == 0:
        raise DataError(f"{path}: has no feature columns besides the target {target!r}", key=_PATH)
    for column in features.columns:
        values = features[column]
        row = _not_numeric(values)
        if row is not None:
            raise DataError(
                f"{path}:{_line_of(path, row)}: column {column!r} is not numeric: "
                f"{_shown(values.iloc[row])}; autotune reads only numeric feature columns, so "
                "encode it as numbers or drop it",
                key=_PATH,
            )
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise DataError(
                f"{path}: column {column!r} has {int(values.isna().sum())} empty cells "
                f"(first on line {_line_of(path, row)}); fill or drop them first",
                key=_PATH,
            )
    x = features.to_numpy(dtype=np.float32)
    if not np.isfinite(x).all():
        raise DataError(f"{path}: some feature values are infinite", key=_PATH)
    y, _, class_names = encode_labels(
        frame[target].to_numpy(), None, source=f"{path} column {target!r}", key=("data", "target")
    )
    x_test = y_test = None
    if test:
        x, y, x_test, y_test = hold_out_test(x, y)
    return Loaded(
        name=path.stem,
        x=x,
        y=y,
        x_test=x_test,
        y_test=y_test,
        class_names=class_names,
        image=False,
        value_range=value_range_of(x),
    )


def _line_of(path: Path, row: int) -> int:
    """The 1-based line of the file where data row ``row`` starts (the header is line 1).

    Read again with the csv module, which counts lines as the file has them: blank lines
    (which pandas skips) and quoted cells that span lines.
    """
    with path.open(newline="", encoding="utf-8", errors="replace") as file:
        reader = csv.reader(file)
        next(reader, None)
        start = reader.line_num + 1
        index = 0
        for record in reader:
            blank = len(record) <= 1 and not "".join(record).strip()
            if not blank and index == row:
                return start
            index += not blank
            start = reader.line_num + 1
    return row + 2


def _not_numeric(values: pd.Series) -> int | None:
    """The position of the first cell of a column that is not a number (empty cells aside),
    or None when every cell is one."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    numbers = pd.to_numeric(values, errors="coerce")
    bad = np.flatnonzero((numbers.isna() & values.notna()).to_numpy())
    return int(bad[0]) if len(bad) else None


def _shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
        bad = _not_numeric(values)
        if bad is not None:
            raise DataError(
                f"{file} row {first + int(picked[bad]) + 1}: column {column!r} is not numeric: "
                f"{_shown(values.iloc[bad])}; autotune reads only numeric feature columns, so "
                "encode it as numbers or drop it",
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

"""csv files: one row per example, numeric feature columns and one target column."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from autotune.data._dataset import Loaded
from autotune.data._errors import DataError
from autotune.data._split import hold_out_test
from autotune.data.sources._labels import encode_labels, value_range_of
from autotune.spec._paths import data_path_problem

_PATH = ("data", "path")


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
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as err:
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
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            numbers = pd.to_numeric(values, errors="coerce")
            bad = np.flatnonzero((numbers.isna() & values.notna()).to_numpy())
            row = int(bad[0]) if len(bad) else 0
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


def _shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

"""csv files: one row per example, numeric feature columns and one target column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from autotune.data._dataset import Loaded
from autotune.data._errors import DataError
from autotune.data._labels import encode_labels, value_range_of
from autotune.data._split import hold_out_test

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
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataError(f"data.path: {path} {what}; expected a csv file", key=_PATH)
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
    features = frame.drop(columns=[target])
    if features.shape[1] == 0:
        raise DataError(f"{path}: has no feature columns besides the target {target!r}", key=_PATH)
    for column in features.columns:
        values = features[column]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            example = values.dropna().iloc[0] if values.notna().any() else None
            raise DataError(
                f"{path}: column {column!r} is not numeric (e.g. {example!r}); autotune reads "
                "only numeric feature columns, so encode it as numbers or drop it",
                key=_PATH,
            )
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 2  # header is line 1
            raise DataError(
                f"{path}: column {column!r} has {int(values.isna().sum())} empty cells "
                f"(first on line {row}); fill or drop them first",
                key=_PATH,
            )
    if len(frame) == 0:
        raise DataError(f"{path}: has a header but no rows", key=_PATH)
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

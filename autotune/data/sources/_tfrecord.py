"""TFRecord files of ``tf.train.Example`` records: one file or a glob, in sorted order.

The run file names the feature holding each example (``image_feature``: an encoded image,
decoded and resized like an image folder's; or ``values_feature``: a float list) and the one
holding its class (``label_feature``: an int or a string). Listing reads every record once for
its label (a TFRecord file has no index); the cache pass reads them again, keeping only the
rows a run uses, decoding in parallel ``tf.data`` maps.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from autotune.data._errors import DataError
from autotune.data.sources._image_files import DECODE_BATCH, image_decoder, shape_of_image
from autotune.data.sources._labels import encode_labels
from autotune.data.sources._listing import Listing, Part
from autotune.spec._paths import data_path_problem, is_glob, matching

_logger = logging.getLogger(__name__)
_PATH = ("data", "path")
LABEL_BATCH = 4096


def list_tfrecord(
    path: str,
    *,
    image_feature: str | None,
    values_feature: str | None,
    label_feature: str,
    image_size: tuple[int, int] | None,
) -> Listing:
    """List TFRecord files: every record's label and, from the first record, the example shape.

    Raises:
        DataError: no file, a file that is not TFRecord, a record that is not a
            ``tf.train.Example``, or a named feature that the records lack.
    """
    problem = data_path_problem("tfrecord", path)
    if problem is not None:
        raise DataError(problem, key=_PATH)
    files = [str(f) for f in (matching(path) if is_glob(path) else [Path(path).expanduser()])]
    first = _first_example(files[0])
    feature = image_feature or values_feature or ""
    feature_key = ("data", "image_feature" if image_feature else "values_feature")
    for name, key, kinds in (
        (label_feature, ("data", "label_feature"), ("int64_list", "bytes_list")),
        (feature, feature_key, ("bytes_list",) if image_feature else ("float_list", "int64_list")),
    ):
        if name not in first.features.feature:
            raise DataError(
                f"{'.'.join(key)}: the records of {files[0]} have no feature {name!r}; they have "
                f"{', '.join(sorted(first.features.feature)) or 'none'}",
                key=key,
            )
        kind = first.features.feature[name].WhichOneof("kind")
        if kind not in kinds:
            raise DataError(
                f"{'.'.join(key)}: feature {name!r} of {files[0]} is a {kind}, expected a "
                f"{' or '.join(kinds)}",
                key=key,
            )
    label_kind = first.features.feature[label_feature].WhichOneof("kind")
    label_type = tf.int64 if label_kind == "int64_list" else tf.string
    raw_labels = _labels(files, label_feature, label_type)
    y, _, class_names = encode_labels(
        raw_labels, None, source=f"{path} feature {label_feature!r}", key=("data", "label_feature")
    )
    if image_feature:
        encoded = first.features.feature[image_feature].bytes_list.value[0]
        channels, size = shape_of_image(encoded, image_size, where=f"{files[0]} record 0")
        decode = image_decoder(size, channels)
        shape: tuple[int, ...] = (*size, channels)
        dtype: np.dtype = np.dtype(np.uint8)

        def parse(record: tf.Tensor) -> tf.Tensor:
            parsed = tf.io.parse_single_example(
                record, {image_feature: tf.io.FixedLenFeature([], tf.string)}
            )
            return decode(parsed[image_feature])

    else:
        values = first.features.feature[feature]
        width = len(getattr(values, values.WhichOneof("kind")).value)
        value_type = tf.float32 if values.WhichOneof("kind") == "float_list" else tf.int64
        shape, dtype = (width,), np.dtype(np.float32)

        def parse(record: tf.Tensor) -> tf.Tensor:
            parsed = tf.io.parse_single_example(
                record, {feature: tf.io.FixedLenFeature([width], value_type)}
            )
            return tf.cast(parsed[feature], tf.float32)

    _logger.info(
        "listed %d records of %d classes in %d files", len(y), len(class_names), len(files)
    )
    return Listing(
        kind="tfrecord",
        name=Path(files[0]).stem if len(files) == 1 else Path(files[0]).parent.name,
        class_names=class_names,
        shape=shape,
        dtype=dtype,
        image=bool(image_feature),
        value_range=(0.0, 255.0) if image_feature else None,
        train=_part(files, y, parse, feature),
    )


def _first_example(file: str) -> tf.train.Example:
    try:
        record = next(iter(tf.data.TFRecordDataset(file).take(1)), None)
    except (tf.errors.OpError, OSError) as err:
        raise DataError(
            f"{file}: not a readable TFRecord file ({_first_line(err)})", key=_PATH
        ) from None
    if record is None:
        raise DataError(f"{file}: holds no records", key=_PATH)
    try:
        return tf.train.Example.FromString(record.numpy())
    except Exception as err:  # protobuf's DecodeError
        raise DataError(
            f"{file}: its records are not tf.train.Example protos ({_first_line(err)})", key=_PATH
        ) from None


def _labels(files: list[str], label_feature: str, label_type: tf.DType) -> np.ndarray:
    spec = {label_feature: tf.io.FixedLenFeature([], label_type)}
    parts: list[np.ndarray] = []
    records = tf.data.TFRecordDataset(files).batch(LABEL_BATCH)
    try:
        for batch in records:
            parts.append(tf.io.parse_example(batch, spec)[label_feature].numpy())
    except (tf.errors.OpError, OSError) as err:
        raise DataError(
            f"data.label_feature: the records of {', '.join(files[:3])} cannot all be read for "
            f"their {label_feature!r} ({_first_line(err)}); every record needs one label",
            key=("data", "label_feature"),
        ) from None
    labels = np.concatenate(parts)
    if labels.dtype == object:
        labels = np.asarray([v.decode("utf-8", "replace") for v in labels.tolist()])
    return labels


def _part(
    files: list[str], labels: np.ndarray, parse: Callable[[tf.Tensor], tf.Tensor], feature: str
) -> Part:
    def fill(rows: np.ndarray, out: np.ndarray, done: Callable[[int], None]) -> np.ndarray:
        wanted = np.full(len(labels), -1, dtype=np.int64)
        wanted[rows] = np.arange(len(rows))
        with tf.device("/CPU:0"):
            position = tf.constant(wanted)
            records = (
                tf.data.Dataset.zip(
                    tf.data.Dataset.range(len(labels)), tf.data.TFRecordDataset(files)
                )
                .filter(lambda i, _: tf.gather(position, i) >= 0)
                .map(
                    lambda i, record: (tf.gather(position, i), parse(record)),
                    num_parallel_calls=tf.data.AUTOTUNE,
                )
                .ignore_errors()
                .batch(DECODE_BATCH)
                .prefetch(2)
            )
            read = np.zeros(len(rows), dtype=bool)
            for where, batch in records.as_numpy_iterator():
                out[where] = batch
                read[where] = True
                done(len(where))
        return np.flatnonzero(~read)

    def identity(rows: np.ndarray) -> list[object]:
        return [[f, os.stat(f).st_size, os.stat(f).st_mtime_ns] for f in files] + [feature]

    def why_bad(i: int) -> str:
        where = f"record {i} of {', '.join(files[:3])}"
        try:
            record = next(iter(tf.data.TFRecordDataset(files).skip(i).take(1)))
            parse(record)
        except Exception as err:
            return f"{where}: feature {feature!r} cannot be read ({_first_line(err)})"
        return f"{where}: could not be read"

    return Part(
        labels=labels,
        fill=fill,
        identity=identity,
        where=lambda i: f"record {i}",
        why_bad=why_bad,
    )


def _first_line(err: BaseException) -> str:
    message = getattr(err, "message", None) or str(err) or type(err).__name__
    return message.strip().splitlines()[0]

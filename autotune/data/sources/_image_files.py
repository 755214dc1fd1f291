"""Image folders, listed: ``path/<class>/<image>``, or ``path/{train,val,test}/<class>/<image>``.

Files are listed with ``os.scandir`` (names, sizes and modification times, nothing opened);
images are decoded and resized in parallel ``tf.data`` maps when the cache pass reads them,
never all at once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from autotune.data._errors import DataError
from autotune.data.sources._listing import Listing, Part
from autotune.spec._paths import data_path_problem

_logger = logging.getLogger(__name__)
_PATH = ("data", "path")
SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
SPLIT_FOLDERS = {
    "train": ("train",),
    "validation": ("val", "validation", "valid"),
    "test": ("test",),
}
"""Folder names of a folder already split into parts, each holding class folders."""
DECODE_BATCH = 256


def list_image_dir(path: Path, *, image_size: tuple[int, int] | None) -> Listing:
    """List a folder of class folders of images, or one split into ``train/``, ``val/``, ``test/``.

    Class names are the sorted folder names of the training part; a ``val/`` or ``test/`` part
    may hold only some of them. The channel count is the first readable image's (grey: 1,
    otherwise 3; alpha is dropped); the size is ``image_size`` or the first image's.

    Raises:
        DataError: the folder is missing or empty, a class folder has no images, a part names
            a class the training part lacks, or no image can be decoded.
    """
    problem = data_path_problem("image_dir", path)
    if problem is not None:
        raise DataError(problem, key=_PATH)
    folders = _subfolders(path)
    parts = _split_folders(folders)
    train_root = parts.get("train", path)
    class_folders = _subfolders(train_root)
    if not class_folders:
        raise DataError(
            f"data.path: {train_root} has no class folders; expected {train_root}/<class_name>/"
            f"<image> with images ending in {', '.join(SUFFIXES)}",
            key=_PATH,
        )
    names = tuple(sorted(class_folders))
    train_files, train_labels = _files(class_folders, names)
    listed: dict[str, tuple[list[str], np.ndarray]] = {"train": (train_files, train_labels)}
    for part in ("validation", "test"):
        if part in parts:
            found = _subfolders(parts[part])
            unknown = sorted(set(found) - set(names))
            if unknown:
                raise DataError(
                    f"data.path: {parts[part]} has class folders the training part "
                    f"{train_root} lacks: {', '.join(unknown)}; every class must be in train/",
                    key=_PATH,
                )
            listed[part] = _files(found, names)
    channels, size = _first_image(train_files, image_size)
    decode = image_decoder(size, channels)
    _logger.info(
        "listed %s images of %d classes in %s",
        " + ".join(f"{len(files)} {part}" for part, (files, _) in listed.items()),
        len(names),
        path,
    )
    return Listing(
        kind="image_dir",
        name=path.name,
        class_names=names,
        shape=(*size, channels),
        dtype=np.dtype(np.uint8),
        image=True,
        value_range=(0.0, 255.0),
        train=_part(*listed["train"], decode, channels),
        validation=_part(*listed["validation"], decode, channels)
        if "validation" in listed
        else None,
        test=_part(*listed["test"], decode, channels) if "test" in listed else None,
    )


def _subfolders(path: Path) -> dict[str, Path]:
    try:
        with os.scandir(path) as entries:
            return {
                e.name: Path(e.path)
                for e in entries
                if not e.name.startswith(".") and e.is_dir(follow_symlinks=True)
            }
    except OSError as err:
        raise DataError(
            f"data.path: cannot list {path} ({err.strerror or err})", key=_PATH
        ) from None


def _split_folders(folders: dict[str, Path]) -> dict[str, Path]:
    """``{part: folder}`` when the folder is split into parts (it holds a ``train`` folder and
    nothing but part folders), else empty."""
    by_name = {name.lower(): name for name in folders}
    if "train" not in by_name:
        return {}
    known = {alias for aliases in SPLIT_FOLDERS.values() for alias in aliases}
    if not set(by_name) <= known:
        return {}
    found: dict[str, Path] = {}
    for part, aliases in SPLIT_FOLDERS.items():
        for alias in aliases:
            if alias in by_name:
                found[part] = folders[by_name[alias]]
                break
    return found


def _files(class_folders: dict[str, Path], names: tuple[str, ...]) -> tuple[list[str], np.ndarray]:
    files: list[str] = []
    labels: list[int] = []
    for name in sorted(class_folders):
        folder = class_folders[name]
        try:
            with os.scandir(folder) as entries:
                images = sorted(
                    e.path
                    for e in entries
                    if e.name.lower().endswith(SUFFIXES) and e.is_file(follow_symlinks=True)
                )
        except OSError as err:
            raise DataError(
                f"data.path: cannot list {folder} ({err.strerror or err})", key=_PATH
            ) from None
        if not images:
            raise DataError(
                f"data.path: class folder {folder} has no images ending in "
                f"{', '.join(SUFFIXES)}; remove the folder or add images",
                key=_PATH,
            )
        files.extend(images)
        labels.extend([names.index(name)] * len(images))
    return files, np.asarray(labels, dtype=np.int32)


def _first_image(
    files: list[str], image_size: tuple[int, int] | None
) -> tuple[int, tuple[int, int]]:
    """``(channels, (height, width))`` from the first image that decodes."""
    for file in files[:100]:
        try:
            return shape_of_image(_read(file), image_size, where=file)
        except DataError:
            continue
    return shape_of_image(_read(files[0]), image_size, where=files[0])  # raises, naming it


def shape_of_image(
    contents: bytes, image_size: tuple[int, int] | None, *, where: str
) -> tuple[int, tuple[int, int]]:
    """``(channels, (height, width))`` images like this encoded one are read as: grey stays one
    channel, anything else becomes three (alpha dropped); the size is ``image_size`` or its own.

    Raises:
        DataError: ``contents`` is not an image TensorFlow can decode.
    """
    image = _decode_eagerly(contents, 0, where)
    channels = 1 if image.shape[-1] in (1, 2) else 3
    size = image_size if image_size is not None else (int(image.shape[0]), int(image.shape[1]))
    return channels, (int(size[0]), int(size[1]))


def _read(file: str) -> bytes:
    try:
        return Path(file).read_bytes()
    except OSError as err:
        raise DataError(f"{file}: cannot be read ({err.strerror or err})", key=_PATH) from None


def _decode_eagerly(contents: bytes, channels: int, file: str) -> np.ndarray:
    try:
        if not contents:
            raise ValueError("the file is empty")
        image = tf.io.decode_image(
            contents, channels=channels, dtype="uint8", expand_animations=False
        )
    except Exception as err:  # TF raises InvalidArgumentError and friends
        message = getattr(err, "message", None) or str(err)
        raise DataError(
            f"{file}: cannot be decoded as an image ({message.strip().splitlines()[0]})",
            key=_PATH,
        ) from None
    return np.asarray(image)


JPEG_RATIOS = (8, 4, 2, 1)
"""Scales a JPEG can be decoded at directly (libjpeg's DCT scaling)."""


def image_decoder(size: tuple[int, int], channels: int) -> Callable[[tf.Tensor], tf.Tensor]:
    """A graph function from encoded image bytes to a ``(height, width, channels)`` uint8
    image, resized (bilinear, rounded) when its size differs.

    A JPEG at least twice the size asked for is decoded at 1/2, 1/4 or 1/8 of its size (the
    largest that still covers it) before the resize: a photo read for a 64x64 model does not
    decode its every pixel. The result is the same for every process and every run.
    """
    height, width = size

    def scaled_jpeg(contents: tf.Tensor) -> tf.Tensor:
        shape = tf.image.extract_jpeg_shape(contents)
        index = tf.constant(len(JPEG_RATIOS) - 1)
        for i, ratio in reversed(list(enumerate(JPEG_RATIOS))):
            fits = tf.logical_and(shape[0] // ratio >= height, shape[1] // ratio >= width)
            index = tf.where(fits, tf.constant(i), index)
        branches = [
            (lambda r=ratio: tf.io.decode_jpeg(contents, channels=channels, ratio=r))
            for ratio in JPEG_RATIOS
        ]
        return tf.switch_case(index, branches)

    def decode(contents: tf.Tensor) -> tf.Tensor:
        image = tf.cond(
            tf.io.is_jpeg(contents),
            lambda: scaled_jpeg(contents),
            lambda: tf.io.decode_image(
                contents, channels=channels, dtype=tf.uint8, expand_animations=False
            ),
        )
        shape = tf.shape(image)
        same = tf.logical_and(tf.equal(shape[0], height), tf.equal(shape[1], width))
        image = tf.cond(
            same,
            lambda: image,
            lambda: tf.cast(
                tf.clip_by_value(tf.round(tf.image.resize(image, (height, width))), 0, 255),
                tf.uint8,
            ),
        )
        return tf.ensure_shape(image, (height, width, channels))

    return decode


def _part(
    files: list[str], labels: np.ndarray, decode: Callable[[tf.Tensor], tf.Tensor], channels: int
) -> Part:
    def fill(rows: np.ndarray, out: np.ndarray, done: Callable[[int], None]) -> np.ndarray:
        paths = np.asarray([files[r] for r in rows], dtype=object)
        positions = np.arange(len(rows), dtype=np.int64)
        read = np.zeros(len(rows), dtype=bool)
        with tf.device("/CPU:0"):
            images = (
                tf.data.Dataset.from_tensor_slices((positions, paths.astype(str)))
                .map(
                    lambda i, path: (i, decode(tf.io.read_file(path))),
                    num_parallel_calls=tf.data.AUTOTUNE,
                )
                .ignore_errors()
                .batch(DECODE_BATCH)
                .prefetch(2)
            )
            for where, batch in images.as_numpy_iterator():
                out[where] = batch
                read[where] = True
                done(len(where))
        return np.flatnonzero(~read)

    def identity(rows: np.ndarray) -> list[list[object]]:
        listed: list[list[object]] = []
        for file in (files[r] for r in rows):
            try:
                stat = os.stat(file)
                listed.append([file, stat.st_size, stat.st_mtime_ns])
            except OSError:
                listed.append([file, -1, -1])
        return listed

    return Part(
        labels=labels,
        fill=fill,
        identity=identity,
        where=lambda i: files[i],
        why_bad=lambda i: _why(files[i], channels),
    )


def _why(file: str, channels: int) -> str:
    try:
        _decode_eagerly(_read(file), channels, file)
    except DataError as err:
        return str(err)
    return f"{file}: could not be read"

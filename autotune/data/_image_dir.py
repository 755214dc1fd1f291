"""Image folders: ``path/<class_name>/*.png|jpg|jpeg|bmp|gif``, one folder per class."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import tensorflow as tf

from autotune.data._dataset import Loaded
from autotune.data._errors import DataError
from autotune.data._split import hold_out_test
from autotune.spec._paths import data_path_problem

_logger = logging.getLogger(__name__)
_PATH = ("data", "path")
SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def load_image_dir(path: Path, *, image_size: tuple[int, int] | None, test: bool) -> Loaded:
    """Load a folder of class folders of images.

    Class names are the sorted folder names. Every image is decoded with
    ``tf.io.decode_image``, given the channel count of the first image (grey: 1, otherwise 3;
    alpha is dropped) and resized to ``image_size``.

    Args:
        path: the folder holding one sub-folder per class.
        image_size: ``(height, width)``; None takes the first image's size.
        test: whether a test split is needed (a fixed 20 % of the images is held out for it).

    Raises:
        DataError: the folder is missing or empty, a class folder has no images, or an image
            cannot be decoded.
    """
    problem = data_path_problem("image_dir", path)
    if problem is not None:
        raise DataError(problem, key=_PATH)
    classes = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(
            f"data.path: {path} has no class folders; expected {path}/<class_name>/<image> "
            f"with images ending in {', '.join(SUFFIXES)}",
            key=_PATH,
        )
    files: list[Path] = []
    labels: list[int] = []
    for class_id, folder in enumerate(classes):
        images = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not images:
            raise DataError(
                f"data.path: class folder {folder} has no images ending in "
                f"{', '.join(SUFFIXES)}; remove the folder or add images",
                key=_PATH,
            )
        files.extend(images)
        labels.extend([class_id] * len(images))
    x = _decode_all(files, image_size)
    y = np.asarray(labels, dtype=np.int32)
    x_test = y_test = None
    if test:
        x, y, x_test, y_test = hold_out_test(x, y)
    _logger.info("read %d images of %d classes from %s", len(files), len(classes), path)
    return Loaded(
        name=path.name,
        x=x,
        y=y,
        x_test=x_test,
        y_test=y_test,
        class_names=tuple(p.name for p in classes),
        image=True,
        value_range=(0.0, 255.0),
    )


def _decode_all(files: list[Path], image_size: tuple[int, int] | None) -> np.ndarray:
    first = _decode(files[0], 0)
    channels = 1 if first.shape[-1] in (1, 2) else 3
    height, width = image_size if image_size is not None else (first.shape[0], first.shape[1])
    out = np.empty((len(files), height, width, channels), dtype=np.uint8)
    for i, file in enumerate(files):
        image = _decode(file, channels)
        if image.shape[:2] != (height, width):
            resized = tf.image.resize(image, (height, width))
            image = np.clip(np.round(resized.numpy()), 0, 255).astype(np.uint8)
        out[i] = image
    return out


def _decode(file: Path, channels: int) -> np.ndarray:
    try:
        contents = file.read_bytes()
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

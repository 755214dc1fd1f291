"""CIFAR-10 from keras' cache folder ``cifar-10-batches-py`` (python pickles of numpy arrays)."""

from __future__ import annotations

import io
import logging
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from autotune.data._dataset import Loaded
from autotune.data._errors import DataError
from autotune.data.sources import _builtin as _places
from autotune.spec._paths import data_path_problem

_logger = logging.getLogger(__name__)

FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


def load_cifar10(path: str | None, *, test: bool) -> Loaded:
    """CIFAR-10 as ``(N, 32, 32, 3)`` uint8 images.

    Args:
        path: a ``cifar-10-batches-py`` folder, or a folder holding one; None looks in keras'
            cache.
        test: whether to read ``test_batch`` too.

    Raises:
        DataError: no place holds the batches, or a batch is corrupt.
    """
    if path:
        problem = data_path_problem("cifar10", path)
        if problem is not None:
            raise DataError(problem, key=("data", "path"))
        places = [Path(path).expanduser(), Path(path).expanduser() / FOLDER]
    else:
        places = [_places.keras_datasets() / FOLDER]
    needed = [*TRAIN_BATCHES, *((TEST_BATCH,) if test else ())]
    looked: list[tuple[Path, str]] = []
    for folder in places:
        missing = [name for name in needed if not (folder / name).is_file()]
        if not missing:
            return _read(folder, test, path_given=bool(path))
        looked.append((folder, _places.describe_missing(folder, missing)))
    raise _places.not_found(
        "data.dataset cifar10: CIFAR-10",
        looked,
        [
            "on a machine with internet access run "
            "`python -c 'import keras; keras.datasets.cifar10.load_data()'` and copy its "
            f"~/.keras/datasets/{FOLDER} folder to {_places.keras_datasets()}",
            "extract the CIFAR-10 python archive (cifar-10-python.tar.gz) and set data.path "
            f"to its {FOLDER} folder",
        ],
        path_given=bool(path),
    )


def _read(folder: Path, test: bool, *, path_given: bool) -> Loaded:
    key = ("data", "path") if path_given else ("data", "dataset")
    parts = [_batch(folder / name, key) for name in TRAIN_BATCHES]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    x_test = y_test = None
    if test:
        x_test, y_test = _batch(folder / TEST_BATCH, key)
    _logger.info("read cifar10 from %s", folder)
    return Loaded("cifar10", x, y, x_test, y_test, _class_names(folder), True, (0.0, 255.0))


def _batch(file: Path, key: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    content = _unpickle(file, key)
    if not isinstance(content, dict):
        raise DataError(f"{file}: expected a pickled dict, got {type(content).__name__}", key=key)
    content = {k.decode() if isinstance(k, bytes) else k: v for k, v in content.items()}
    data, labels = content.get("data"), content.get("labels")
    if not isinstance(data, np.ndarray) or labels is None:
        raise DataError(f"{file}: expected the entries 'data' and 'labels'", key=key)
    y = np.asarray(labels)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(
            f"{file}: expected 'data' as uint8 rows of 3072 values, got {data.dtype} {data.shape}",
            key=key,
        )
    if y.ndim != 1 or len(y) != len(data) or y.dtype.kind not in "iu":
        raise DataError(
            f"{file}: holds {len(data)} images but {len(y)} labels (shape {y.shape})", key=key
        )
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise DataError(f"{file}: labels must be 0..9, found {y.min()}..{y.max()}", key=key)
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), y.astype(np.int32)


def _class_names(folder: Path) -> tuple[str, ...]:
    meta = folder / "batches.meta"
    if not meta.is_file():
        return CLASSES
    try:
        content = _unpickle(meta, ("data", "path"))
        names = content.get(b"label_names", content.get("label_names"))
        decoded = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    except (DataError, AttributeError, TypeError):
        _logger.warning("%s is unreadable; using the standard CIFAR-10 class names", meta)
        return CLASSES
    return decoded if len(decoded) == len(CLASSES) else CLASSES


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays, and refuses every other class."""

    _ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        if module.startswith("numpy.core"):
            module = "numpy._core" + module[len("numpy.core") :]
        return super().find_class(module, name)


def _unpickle(file: Path, key: tuple[str, ...]) -> Any:
    try:
        raw = file.read_bytes()
        return _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as err:  # a corrupt pickle raises almost anything; none may escape raw
        raise DataError(
            f"{file}: not a readable CIFAR-10 batch ({err or type(err).__name__}); extract or "
            "copy the folder again",
            key=key,
        ) from None

"""The local file or folder ``data.path`` names: whether it is there and of the right kind.

The data loaders raise this message when they open ``data.path``; ``autotune validate`` checks
it without reading any data (and without importing TensorFlow).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from autotune.spec._errors import Described, SpecError

if TYPE_CHECKING:
    from autotune.spec._schema import RunSpec

DATA_EXPECTED = "a data set autotune can read offline"
"""What a run file's ``data:`` must give; the ``expected`` of every data problem."""

_WANTED: dict[str, tuple[Literal["file", "folder", "either"], str]] = {
    "csv": ("file", "a csv file, or a glob of csv files with the same header"),
    "tfrecord": ("file", "a TFRecord file of tf.train.Example records, or a glob of them"),
    "npz": ("file", "an .npz file"),
    "npy": ("folder", "a folder holding x_train.npy and y_train.npy (or x.npy and y.npy)"),
    "image_dir": (
        "folder",
        "a folder with one sub-folder of images per class (or train/ and val/ folders of them)",
    ),
    "mnist": ("either", "keras' mnist.npz, or a folder holding it or the MNIST IDX files"),
    "fashion_mnist": ("folder", "a folder holding the Fashion-MNIST IDX files"),
    "cifar10": ("folder", "a cifar-10-batches-py folder, or a folder holding one"),
}


GLOBBED = ("csv", "tfrecord")
"""Data sets whose ``data.path`` may be a glob (``data/part-*.csv``)."""


def is_glob(path: str) -> bool:
    """Whether ``path`` is a glob: it holds ``*`` or ``?`` (a ``[`` alone, as file names may
    hold, does not make one).

    Example:
        >>> is_glob("data/train-*.tfrecord"), is_glob("data/train.csv")
        (True, False)
    """
    return any(c in path for c in "*?")


def matching(pattern: str) -> list[Path]:
    """The files a glob matches, sorted (``~`` expanded; folders left out)."""
    import glob

    return sorted(Path(p) for p in glob.glob(os.path.expanduser(pattern)) if Path(p).is_file())


def data_path_problem(dataset: str, path: str | Path) -> str | None:
    """Why ``path`` cannot be ``data.path`` of a ``dataset`` data set, or None.

    Only whether it exists and is a file or a folder; the loaders judge what it holds.

    Example:
        >>> data_path_problem("npz", "/no/such.npz")
        'data.path: /no/such.npz does not exist; expected an .npz file'
    """
    if dataset not in _WANTED:
        return None
    kind, expected = _WANTED[dataset]
    if dataset in GLOBBED and is_glob(str(path)):
        if matching(str(path)):
            return None
        return f"data.path: the glob {path} matches no file; expected {expected}"
    path = Path(path).expanduser()
    is_file, is_dir = path.is_file(), path.is_dir()
    if (is_file and kind != "folder") or (is_dir and kind != "file"):
        return None
    if not path.exists():
        what = "does not exist"
    elif is_dir:
        what = "is a folder, not a file"
    elif is_file:
        what = "is a file, not a folder"
    else:
        what = "is neither a regular file nor a folder"
    return f"data.path: {path} {what}; expected {expected}"


def check_data_path(spec: RunSpec) -> None:
    """Raise the SpecError a run gives when ``data.path`` is not there.

    Raises:
        SpecError: at ``data.path``, as ``data_path_problem`` words it.
    """
    if spec.data.path is None:
        return
    problem = data_path_problem(spec.data.dataset, spec.data.path)
    if problem is not None:
        raise SpecError.at(
            spec,
            ("data", "path"),
            expected=DATA_EXPECTED,
            received=Described(problem.removeprefix("data.path: ")),
        )

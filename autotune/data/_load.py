"""load_dataset: the run file's ``data:`` section to a split, in-memory Dataset."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from autotune.data._dataset import Dataset, Loaded
from autotune.data._errors import DataError
from autotune.data._split import split
from autotune.data.sources import (
    STREAM_ABOVE_BYTES,
    Listing,
    csv_files,
    list_csv,
    list_image_dir,
    list_npy,
    list_npz,
    list_tfrecord,
    read_listing,
    streamed,
)
from autotune.data.sources._builtin import load_digits, load_fashion_mnist, load_mnist
from autotune.data.sources._cifar import load_cifar10
from autotune.data.sources._csv import load_csv
from autotune.data.sources._npz import load_npz

if TYPE_CHECKING:
    from autotune.spec import DataSpec


LISTED = ("image_dir", "npy", "tfrecord")
"""Sources split by index before their examples are read (and streamed when large)."""


def load_dataset(spec: DataSpec, *, seed: int, cache_root: Path | None = None) -> Dataset:
    """Load the data set a run file names and split off validation with the run's seed.

    Image folders and ``.npy`` arrays are listed, split by index and only the rows the run uses
    are read: into memory, or (``data.stream``, or with ``auto`` over 1 GiB) into a disk cache
    under ``data.cache_dir`` or ``cache_root`` that is memory-mapped by every process. An
    ``.npz`` is read whole unless it is streamed: then its examples are read out of the
    archive in chunks into the cache.

    Built-in data sets are never downloaded: each is read from ``data.path`` or the standard
    places (see the DataError message for the list). The test split (``x_test``) is present
    only when ``data.test`` is true; a source without one then gives a fixed, seed-independent
    stratified 20 % of its examples (digits always holds that 20 % out).

    Args:
        spec: the run file's ``data:`` section.
        seed: the run seed; the same seed draws the same validation and training examples.
        cache_root: where streamed data is cached when ``data.cache_dir`` is not set.
            Defaults to ``results/.cache/data``.

    Returns:
        The data set, with int32 class ids.

    Raises:
        DataError: the data cannot be found or read, or a requested size is too large.

    Example:
        >>> from autotune.spec import DataSpec
        >>> ds = load_dataset(DataSpec(dataset="digits", validation_size=100), seed=0)
        >>> ds.input_shape, len(ds.x_val), ds.num_classes
        ((8, 8, 1), 100, 10)
    """
    if spec.dataset == "npz" and spec.stream is not False:
        try:
            listing: Listing | None = list_npz(Path(spec.path or "").expanduser())
        except DataError:
            if spec.stream is True:
                raise
            listing = None  # the whole-file reader below says what is wrong, as it always did
        if listing is not None and streamed(listing, spec):
            _two_classes(listing.name, listing.class_names, spec)
            return read_listing(listing, spec, seed=seed, cache_root=cache_root)
    if spec.dataset == "csv":
        files = csv_files(spec.path or "")
        big = sum(f.stat().st_size for f in files) > STREAM_ABOVE_BYTES
        if len(files) > 1 or spec.stream is True or (spec.stream == "auto" and big):
            listing = list_csv(files, spec.target or "")
            _two_classes(listing.name, listing.class_names, spec)
            return read_listing(listing, spec, seed=seed, cache_root=cache_root)
    if spec.dataset in LISTED:
        path = Path(spec.path or "").expanduser()
        if spec.dataset == "image_dir":
            listed = list_image_dir(path, image_size=spec.image_size)
        elif spec.dataset == "npy":
            listed = list_npy(path)
        else:
            listed = list_tfrecord(
                spec.path or "",
                image_feature=spec.image_feature,
                values_feature=spec.values_feature,
                label_feature=spec.label_feature,
                image_size=spec.image_size,
            )
        _two_classes(listed.name, listed.class_names, spec)
        return read_listing(listed, spec, seed=seed, cache_root=cache_root)
    loaded = _read(spec)
    _two_classes(loaded.name, loaded.class_names, spec)
    return split(loaded, spec, seed=seed)


def _two_classes(name: str, class_names: tuple[str, ...], spec: DataSpec) -> None:
    if len(class_names) < 2:
        raise DataError(
            f"data: {name} has a single class ({class_names[0]!r}); a classifier needs at "
            "least two",
            key=("data", "target") if spec.dataset == "csv" else ("data", "path"),
        )


def _read(spec: DataSpec) -> Loaded:
    kind, test = spec.dataset, spec.test
    if kind == "digits":
        return load_digits(test=test)
    if kind == "mnist":
        return load_mnist(spec.path, test=test)
    if kind == "fashion_mnist":
        return load_fashion_mnist(spec.path, test=test)
    if kind == "cifar10":
        return load_cifar10(spec.path, test=test)
    path = Path(spec.path or "").expanduser()
    if kind == "npz":
        return load_npz(path, test=test)
    if kind == "csv":
        return load_csv(path, spec.target or "", test=test)
    raise DataError(f"data.dataset: unknown data set {kind!r}", key=("data", "dataset"))

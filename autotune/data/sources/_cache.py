"""Reading a listed source: split by index, then the rows a run uses read once, into memory or
into one disk cache that every trial and worker process of the machine maps.

The cache pass runs before the first trial (the run's parent process prepares the data before
any worker starts). It holds an exclusive lock while it writes into a temporary folder and
renames the folder into place when complete, so a killed pass leaves no half cache and a
second process waits and then maps the finished one. Its name hashes what changes it: the
source's files with their sizes and modification times (or the array file), the example shape,
the rows of each split and ``on_bad_file``. Examples are cached as stored (uint8 for images);
normalization happens in the pipeline's map, so one cache serves every normalization.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autotune.data._dataset import Dataset
from autotune.data._errors import DataError
from autotune.data._examples import aligned_empty
from autotune.data._normalize import moments
from autotune.data.sources._listing import (
    Listing,
    Rows,
    read_part,
    split_listing,
    streamed,
    value_range,
)

if TYPE_CHECKING:
    from autotune.spec import DataSpec

_logger = logging.getLogger(__name__)

DISK_MARGIN_BYTES = 1 << 30
"""Free disk the cache always leaves."""
FORMAT = 1


def default_cache_dir(results_dir: Path) -> Path:
    """Where a run's streamed data is cached unless ``data.cache_dir`` says otherwise."""
    return results_dir / ".cache" / "data"


def read_listing(
    listing: Listing, spec: DataSpec, *, seed: int, cache_root: Path | None
) -> Dataset:
    """The Dataset of a listed source: split by index with ``seed``, then read.

    ``spec.stream`` (or, with ``auto``, the size of the rows used) decides whether the rows are
    read into memory or into the disk cache under ``spec.cache_dir`` (else ``cache_root``) and
    memory-mapped from there.

    Raises:
        DataError: a size does not fit the source, a file cannot be read (unless
            ``on_bad_file: skip``), or the cache cannot be written.
    """
    rows = split_listing(listing, spec, seed)
    needed = sum(len(r) for _, r in rows.values()) * listing.example_bytes
    stream = streamed(listing, spec, needed)
    if stream:
        root = Path(spec.cache_dir).expanduser() if spec.cache_dir else cache_root
        x, y, manifest = _cached(
            listing, rows, spec, root or default_cache_dir(Path("results")), needed
        )
    else:
        x, y, manifest = _in_memory(listing, rows, spec)
    value_range = listing.value_range or tuple(manifest["value_range"])
    source: dict[str, Any] = {
        "kind": listing.kind,
        "stream": stream,
        "examples": {part: len(y[part]) for part in y},
        "skipped_files": manifest["skipped_count"],
    }
    if stream:
        source["cache"] = manifest["folder"]
        source["cache_seconds"] = manifest["seconds"]
        source["moments"] = manifest["moments"]  # standardize's, exact, over the training split
    if manifest["skipped_count"]:
        _logger.warning(
            "left out %d files that cannot be read (data.on_bad_file: skip), first: %s",
            manifest["skipped_count"],
            manifest["skipped"][0],
        )
    mean_std = manifest.get("moments")
    dataset = Dataset(
        name=listing.name,
        x_train=x["train"],
        y_train=y["train"],
        x_val=x["validation"],
        y_val=y["validation"],
        x_test=x.get("test"),
        y_test=y.get("test"),
        num_classes=len(listing.class_names),
        class_names=listing.class_names,
        image=listing.image,
        value_range=(float(value_range[0]), float(value_range[1])),
        moments=None
        if mean_std is None
        else (np.asarray(mean_std[0], np.float64), np.asarray(mean_std[1], np.float64)),
        source=source,
    )
    _logger.info(
        "%r (seed %d, %s)",
        dataset,
        seed,
        f"streamed from the cache {source['cache']}" if stream else "in memory",
    )
    return dataset


def _in_memory(
    listing: Listing, rows: Rows, spec: DataSpec
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
    x: dict[str, np.ndarray] = {}
    y: dict[str, np.ndarray] = {}
    skipped: list[str] = []
    for name, (part, picked) in rows.items():
        out = aligned_empty((len(picked), *listing.shape), listing.dtype)
        labels, bad = read_part(listing, name, part, picked, out, spec, lambda n: None)
        x[name], y[name] = out[: len(labels)], labels
        skipped += bad
    manifest: dict[str, Any] = {"skipped_count": len(skipped), "skipped": skipped[:20]}
    if listing.value_range is None:
        manifest["value_range"] = value_range(x)
    return x, y, manifest


def _cached(
    listing: Listing, rows: Rows, spec: DataSpec, root: Path, needed: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
    key = _key(listing, rows, spec)
    folder = root / f"{listing.kind}-{_safe(listing.name)}-{key[:16]}"
    made = [p for p in (root, *root.parents) if not p.exists()]
    lock_file = root / f"{folder.name}.lock"
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = open(lock_file, "a+")  # noqa: SIM115 (held while building)
    except OSError as err:
        _remove_made(made)
        raise DataError(
            f"data.cache_dir: cannot write the data cache in {root} ({err.strerror or err}); "
            "set data.cache_dir to a writable folder on a local disk",
            key=("data", "cache_dir"),
        ) from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits for the first's pass
        if not (folder / "manifest.json").is_file():
            try:
                _check_room(root, needed, spec)
                _build(listing, rows, spec, folder)
            except BaseException:
                if made:  # the run made the cache's folders: leave nothing behind
                    lock_file.unlink(missing_ok=True)
                    _remove_made(made)
                raise
        else:
            _logger.info("data cache: %s (made earlier)", folder)
        return _open(listing, folder)


def _remove_made(made: list[Path]) -> None:
    """Remove the folders in ``made`` (deepest first) that are empty."""
    for path in made:
        with contextlib.suppress(OSError):
            path.rmdir()


def _build(listing: Listing, rows: Rows, spec: DataSpec, folder: Path) -> None:
    for stale in folder.parent.glob(f"{folder.name}.tmp-*"):  # a killed pass's (we hold the lock)
        shutil.rmtree(stale, ignore_errors=True)
    building = folder.parent / f"{folder.name}.tmp-{os.getpid()}"
    building.mkdir()
    total = sum(len(r) for _, r in rows.values())
    counter = _Progress(total, folder)
    try:
        skipped: list[str] = []
        counts: dict[str, int] = {}
        for name, (part, picked) in rows.items():
            shape = (len(picked), *listing.shape)
            out = np.lib.format.open_memmap(
                building / f"{name}.x.npy", mode="w+", dtype=listing.dtype, shape=shape
            )
            labels, bad = read_part(listing, name, part, picked, out, spec, counter)
            out.flush()
            del out
            if bad:
                _truncate(building / f"{name}.x.npy", len(labels), listing)
            np.save(building / f"{name}.y.npy", labels)
            counts[name] = len(labels)
            skipped += bad
        train = np.load(building / "train.x.npy", mmap_mode="r")
        mean, std = moments(train, per_channel=listing.image)
        manifest = {
            "format": FORMAT,
            "shape": list(listing.shape),
            "dtype": listing.dtype.str,
            "counts": counts,
            "skipped_count": len(skipped),
            "skipped": skipped[:20],
            "moments": [mean.tolist(), std.tolist()],
            "value_range": list(
                listing.value_range
                or value_range({n: np.load(building / f"{n}.x.npy", mmap_mode="r") for n in counts})
            ),
            "seconds": round(counter.seconds, 1),
        }
        del train
        (building / "manifest.json").write_text(json.dumps(manifest))
        try:
            os.rename(building, folder)
        except OSError:
            if not (folder / "manifest.json").is_file():
                raise
            shutil.rmtree(building, ignore_errors=True)  # another machine's pass finished first
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    _logger.info("data cache: %d examples in %s (%.0f s)", total, folder, counter.seconds)


def _truncate(file: Path, count: int, listing: Listing) -> None:
    """Rewrite the header of ``file`` for its first ``count`` rows and cut the rest off."""
    array = np.load(file, mmap_mode="r")
    offset = array.offset
    del array
    header = {
        "descr": listing.dtype.str,
        "fortran_order": False,
        "shape": (count, *listing.shape),
    }
    with open(file, "r+b") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        if handle.tell() != offset:  # the header grew or shrank: cannot happen for fewer rows
            raise DataError(
                f"{file}: could not rewrite the cache header", key=("data", "cache_dir")
            )
        handle.truncate(offset + count * listing.example_bytes)


def _open(
    listing: Listing, folder: Path
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        x = {name: np.load(folder / f"{name}.x.npy", mmap_mode="r") for name in manifest["counts"]}
        y = {name: np.load(folder / f"{name}.y.npy") for name in manifest["counts"]}
    except (OSError, ValueError, KeyError) as err:
        raise DataError(
            f"data.cache_dir: the data cache {folder} is damaged ({err}); remove that folder "
            "and run again",
            key=("data", "cache_dir"),
        ) from None
    for name, count in manifest["counts"].items():
        if x[name].shape != (count, *listing.shape) or len(y[name]) != count:
            raise DataError(
                f"data.cache_dir: the data cache {folder} does not match its manifest; remove "
                "that folder and run again",
                key=("data", "cache_dir"),
            )
    manifest["folder"] = str(folder)
    return x, y, manifest


def _check_room(root: Path, needed: int, spec: DataSpec) -> None:
    if spec.cache_max_gb is not None and needed > spec.cache_max_gb * 1e9:
        raise DataError(
            f"data.cache_max_gb: the data cache needs {needed / 1e9:.2f} GB, over the "
            f"{spec.cache_max_gb:g} GB allowed; raise it, lower data.train_size or "
            "data.image_size, or set data.stream: false",
            key=("data", "cache_max_gb"),
        )
    free = shutil.disk_usage(root).free
    if needed > free - DISK_MARGIN_BYTES:
        raise DataError(
            f"data.cache_dir: the data cache needs {needed / 1e9:.2f} GB but {root} has "
            f"{free / 1e9:.2f} GB free (autotune leaves {DISK_MARGIN_BYTES / 1e9:.0f} GB); set "
            "data.cache_dir to a disk with room, or lower data.train_size or data.image_size",
            key=("data", "cache_dir"),
        )


def _key(listing: Listing, rows: Rows, spec: DataSpec) -> str:
    digest = hashlib.sha256()
    head = {
        "format": FORMAT,
        "kind": listing.kind,
        "shape": list(listing.shape),
        "dtype": listing.dtype.str,
        "classes": list(listing.class_names),
        "on_bad_file": spec.on_bad_file,
    }
    digest.update(json.dumps(head, sort_keys=True).encode())
    for name, (part, picked) in rows.items():
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(picked, dtype=np.int64).tobytes())
        digest.update(json.dumps(part.identity(picked)).encode())
    return digest.hexdigest()


def _safe(name: str) -> str:
    kept = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:40].lstrip(".")
    return kept or "data"


class _Progress:
    """Logs the cache pass's progress every few seconds."""

    def __init__(self, total: int, folder: Path) -> None:
        self.total, self.folder, self.done = total, folder, 0
        self.started = self.last = time.perf_counter()

    def __call__(self, count: int) -> None:
        self.done += count
        now = time.perf_counter()
        if now - self.last >= 5.0 or self.done == self.total:
            self.last = now
            _logger.info(
                "data cache: %d of %d examples (%.0f%%), %.0f s",
                self.done,
                self.total,
                100.0 * self.done / max(1, self.total),
                now - self.started,
            )

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

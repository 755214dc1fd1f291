"""Memory of ``autotune run`` as the data grows: peak RSS and peak anonymous memory per run.

One trial of a tiny CNN (depth 1, width 8, batch 256), one epoch, on N RGB 64x64 uint8 images
in the form asked (``npz``: one archive; ``npy``: a folder of ``x.npy`` + ``y.npy``,
memory-mapped when streamed; ``image_dir``: a folder of JPEGs per class). The images are
Fashion-MNIST's, scaled to 64x64 and tinted per channel (random pixels where Fashion-MNIST is
not installed), so that a JPEG folder compresses like photos rather than noise. Each size is
built, run, and removed before the next (the disk holds one form at a time); a streamed run's
disk cache is under the run's results folder and goes with it.

The whole process tree of ``autotune run`` is sampled every 0.1 s from ``/proc``: peak RSS (what
``/usr/bin/time -v`` calls maximum resident set size, summed over the tree at each sample) and
peak ``RssAnon`` (memory that is the process's own; pages of a memory-mapped file are not).

    python -m benchmarks.data_memory --images 20000,60000 --form npz
    python -m benchmarks.data_memory --images 120000,480000,960000 --form npy --stream true
    python -m benchmarks.data_memory --smoke
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import FASHION, RESULTS, child_env, machine, table

NAME = "data_memory"
SIDE = 64


CHUNK = 10_000


def _images(
    start: int, count: int, seed: int = 0, side: int = SIDE
) -> tuple[np.ndarray, np.ndarray]:
    """Images ``start .. start+count`` of the benchmark's data: RGB ``side`` x ``side`` uint8
    and labels 0..9, from Fashion-MNIST when installed (the same for a given index whatever
    the chunking)."""
    base, labels = _fashion()
    picks = np.random.default_rng([seed, start]).integers(0, len(base), size=count)
    tint = np.random.default_rng([seed, start, 1]).uniform(0.6, 1.0, size=(count, 1, 1, 3))
    rows = (np.arange(side) * 28) // side  # 28 -> side, nearest neighbour
    big = base[picks][:, rows][:, :, rows]
    return (big[..., None] * tint.astype(np.float32)).astype(np.uint8), labels[picks]


def _fashion() -> tuple[np.ndarray, np.ndarray]:
    import gzip

    folder = Path(FASHION)
    images, labels = folder / "train-images-idx3-ubyte.gz", folder / "train-labels-idx1-ubyte.gz"
    if images.is_file() and labels.is_file():
        x = np.frombuffer(gzip.decompress(images.read_bytes())[16:], np.uint8).reshape(-1, 28, 28)
        y = np.frombuffer(gzip.decompress(labels.read_bytes())[8:], np.uint8).astype(np.int32)
        return x, y
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (6000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 6000)


def build(form: str, count: int, where: Path, side: int = SIDE) -> Path:
    """Write ``count`` images as ``form`` under ``where``, 10,000 at a time; returns the run
    file's data path. ``side``: the images' size in pixels (JPEG folders only)."""
    chunks = [(start, min(CHUNK, count - start)) for start in range(0, count, CHUNK)]
    if form == "npz":  # an npz is written whole: its arrays are in memory once here
        parts = [_images(start, n) for start, n in chunks]
        path = where / "images.npz"
        np.savez(
            path, x=np.concatenate([p[0] for p in parts]), y=np.concatenate([p[1] for p in parts])
        )
        return path
    if form == "npy":
        folder = where / "arrays"
        folder.mkdir()
        x = np.lib.format.open_memmap(folder / "x.npy", "w+", np.uint8, (count, SIDE, SIDE, 3))
        y = np.empty(count, np.int32)
        for start, n in chunks:
            x[start : start + n], y[start : start + n] = _images(start, n)
        x.flush()
        del x
        np.save(folder / "y.npy", y)
        return folder
    if form == "image_dir":
        from PIL import Image

        root = where / "images"
        for c in range(10):
            (root / f"class_{c}").mkdir(parents=True)
        for start, n in chunks:
            x, y = _images(start, n, side=side)
            for i in range(n):
                path = root / f"class_{y[i]}" / f"{start + i:07d}.jpg"
                Image.fromarray(x[i]).save(path, quality=90)
        return root
    raise ValueError(f"unknown form {form!r}")


def run_file(form: str, path: Path, stream: str | None, trials: int = 1) -> str:
    dataset = {"npz": "npz", "npy": "npy", "image_dir": "image_dir"}[form]
    lines = [
        "study: data_memory",
        "seed: 0",
        "data:",
        f"  dataset: {dataset}",
        f"  path: {path}",
        "  validation_split: 0.1",
        *([f"  stream: {stream}"] if stream else []),
        "model: cnn",
        "space:",
        "  depth: 1",
        "  width: 8",
        "  batch_size: 256",
        "  normalization: unit",
        "train:",
        "  epochs: 1",
        "search:",
        f"  trials: {trials}",
    ]
    return "\n".join(lines) + "\n"


def _tree_sample(pid: int) -> tuple[int, int, int]:
    """(RSS, RssAnon) in bytes, summed over ``pid`` and its descendants, and the largest
    RssAnon of one of them."""
    import psutil

    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0, 0
    rss = anon = largest = 0
    for proc in procs:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1]) * 1024
            elif line.startswith("RssAnon:"):
                own = int(line.split()[1]) * 1024
                anon += own
                largest = max(largest, own)
    return rss, anon, largest


def measure(run_yaml: Path, workers: int) -> dict[str, Any]:
    results = run_yaml.parent / "results"
    command = [
        sys.executable,
        "-m",
        "autotune",
        "run",
        str(run_yaml),
        "--results-dir",
        str(results),
    ]
    if workers > 1:
        command += ["--workers", str(workers)]
    began = time.perf_counter()
    proc = subprocess.Popen(
        command, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    peak = {"rss": 0, "anon": 0, "process": 0}

    def sample() -> None:
        while proc.poll() is None:
            for name, value in zip(peak, _tree_sample(proc.pid), strict=True):
                peak[name] = max(peak[name], value)
            time.sleep(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    thread.join()
    text = out.decode(errors="replace")
    return {
        "exit": proc.returncode,
        "seconds": round(time.perf_counter() - began, 1),
        "peak_rss_gb": round(peak["rss"] / 1e9, 2),
        "peak_anon_gb": round(peak["anon"] / 1e9, 2),
        "peak_anon_process_gb": round(peak["process"] / 1e9, 2),
        "tail": text.strip().splitlines()[-3:],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--images", default="20000,60000", help="comma-separated image counts")
    p.add_argument("--form", default="npz", choices=("npz", "npy", "image_dir"))
    p.add_argument("--stream", default=None, choices=("auto", "true", "false"))
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--work-dir", type=Path, default=None, help="where the data is written")
    p.add_argument("--smoke", action="store_true", help="2,000 images only")
    p.add_argument("--out", type=Path, default=None, help=f"default: results/{NAME}.json")
    args = p.parse_args(argv)
    counts = [2000] if args.smoke else [int(n) for n in args.images.split(",")]
    rows, runs = [], []
    for count in counts:
        work = Path(tempfile.mkdtemp(prefix="autotune-mem-", dir=args.work_dir))
        try:
            path = build(args.form, count, work)
            data_bytes = count * SIDE * SIDE * 3
            run_yaml = work / "run.yaml"
            run_yaml.write_text(run_file(args.form, path, args.stream, trials=args.workers))
            result = measure(run_yaml, args.workers)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        result.update(images=count, data_gb=round(data_bytes / 1e9, 3))
        runs.append(result)
        rows.append(
            [
                f"{count:,}",
                f"{data_bytes / 1e9:.2f} GB",
                f"{result['peak_rss_gb']:.2f} GB",
                f"{result['peak_anon_gb']:.2f} GB",
                f"{result['peak_anon_process_gb']:.2f} GB",
                f"{result['peak_rss_gb'] / (data_bytes / 1e9):.1f}x",
                f"{result['seconds']:.0f} s",
                str(result["exit"]),
            ]
        )
        print(json.dumps(result), flush=True)
    print(
        table(
            [
                "images",
                "data (uint8)",
                "peak RSS (all)",
                "peak RssAnon (all)",
                "peak RssAnon (one process)",
                "RSS / data",
                "time",
                "exit",
            ],
            rows,
        )
    )
    document = {
        "benchmark": NAME,
        "form": args.form,
        "stream": args.stream,
        "workers": args.workers,
        "machine": machine(),
        "runs": runs,
    }
    out = args.out or (None if args.smoke else RESULTS / f"{NAME}.json")
    if out is not None:
        out.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {out}")
    failed = [r for r in runs if r["exit"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Speed of the data paths: an image folder against Keras' own, and Fashion-MNIST before/after.

Two tables, each competitor in a child process of its own, order alternating across repeats,
medians over ``--repeats``:

1. **Image folder** (N JPEGs of ``--side`` x ``--side`` RGB pixels, Fashion-MNIST scaled and
   tinted, 10 class folders, read at 64x64 by both): a 3-epoch trial of one CNN (autotune's
   cnn family, ``--model small``: depth 2, width 16; ``tiny``: depth 1, width 8, the issue's
   memory measurement's; batch 256, adam 1e-3, unit normalization, no augmentation, 10 %
   validation) trained by ``autotune_stream``: autotune's data path forced to stream
   (list, split by index, cache pass of decoded uint8 into a memory-mapped file, batches read
   by index) and autotune's trainer (``autotune.train.fit``, its speed defaults); ``keras``:
   ``keras.utils.image_dataset_from_directory`` (which decodes every epoch) + ``model.fit``
   with the same model, compiled the same way. Timed from before the data is read to each
   epoch's end, so autotune's cache pass is inside its first epoch.
2. **Fashion-MNIST (60k) epochs after the first**: the same trainer and model on
   ``fashion_mnist`` with the pipeline of ``--before`` (a git revision, the in-memory pipeline
   before streaming), with this tree's in memory, and with this tree's streamed from a disk
   cache (the IDX data written as ``.npy``, ``stream: true``).

    python -m benchmarks.data_speed                       # 20,000 64x64 JPEGs, 5 repeats
    python -m benchmarks.data_speed --side 256            # photo-sized JPEGs, read at 64x64
    python -m benchmarks.data_speed --smoke               # seconds
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, ROOT, child_env, machine, ordered, table

NAME = "data_speed"
EPOCHS = 3
MODELS = {"small": {"depth": 2, "width": 16}, "tiny": {"depth": 1, "width": 8}}
"""``small``: the default; ``tiny``: the issue's memory measurement's CNN (depth 1, width 8)."""
CONFIG = {
    "depth": 2,
    "width": 16,
    "batch_size": 256,
    "learning_rate": 1e-3,
    "optimizer": "adam",
    "normalization": "unit",
    "lr_schedule": "constant",
}

CHILD = textwrap.dedent(
    """
    import json, sys, time
    began = time.perf_counter()
    competitor, data, work = sys.argv[1], sys.argv[2], sys.argv[5]
    epochs, config = int(sys.argv[3]), json.loads(sys.argv[4])
    import numpy as np
    import keras
    import tensorflow as tf
    from autotune.models import build_model
    from autotune.space import Space, defaults
    trial = Space(defaults()).fixed({}).replace(**config)
    marks = []

    class Marks(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            marks.append(time.perf_counter())

    if competitor == "keras":
        start = time.perf_counter()
        train, val = keras.utils.image_dataset_from_directory(
            data, image_size=(64, 64), batch_size=config["batch_size"], validation_split=0.1,
            subset="both", seed=0, label_mode="int", shuffle=True)
        scale = lambda x, y: (x / 255.0, y)
        train = train.map(scale, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
        val = val.map(scale, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
        model = build_model(trial, family="cnn", input_shape=(64, 64, 3), num_classes=10, seed=0)
        model.compile(optimizer=keras.optimizers.Adam(config["learning_rate"]),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(
            train, validation_data=val, epochs=epochs, verbose=0, callbacks=[Marks()])
        accuracy = float(history.history["val_accuracy"][-1])
    else:
        from autotune.data import load_dataset, make_datasets
        from autotune.spec import DataSpec
        from autotune.train import fit
        if competitor.startswith("folder"):
            spec = DataSpec(dataset="image_dir", path=data, image_size=(64, 64),
                            validation_split=0.1, stream=True, cache_dir=work)
        elif competitor.endswith("stream"):
            spec = DataSpec(dataset="npy", path=data, validation_split=0.1, stream=True,
                            cache_dir=work)
        else:
            spec = DataSpec(dataset="fashion_mnist", validation_split=0.1)
        start = time.perf_counter()
        dataset = load_dataset(spec, seed=0)
        loaded = time.perf_counter()
        pipes = make_datasets(dataset, trial, seed=0)

        def report(epoch, accuracy):
            marks.append(time.perf_counter())
            return False

        outcome = fit(trial, build_model=lambda: build_model(
            trial, family="cnn", input_shape=dataset.input_shape, num_classes=dataset.num_classes,
            seed=0), train=pipes.train, validation=pipes.validation,
            train_examples=pipes.train_examples, epochs=epochs, devices=("/cpu:0",), report=report)
        result = getattr(outcome, "result", outcome)
        accuracy = result.accuracy
    edges = [start, *marks]
    print("RESULT " + json.dumps({
        "epoch_seconds": [b - a for a, b in zip(edges, edges[1:])],
        "accuracy": accuracy,
        "import_seconds": start - began,
    }), flush=True)
    """
)


def _child(
    competitor: str,
    data: Path,
    tree: Path,
    work: Path,
    epochs: int,
    config: dict[str, Any],
    timeout: float = 1800,
) -> dict[str, Any]:
    env = child_env()
    env["PYTHONPATH"] = str(tree)
    command = [
        sys.executable,
        "-c",
        CHILD,
        competitor,
        str(data),
        str(epochs),
        json.dumps(config),
        str(work),
    ]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f}s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
            return result
    return {"error": " | ".join((done.stderr or done.stdout).strip().splitlines()[-5:])}


def _fashion_npy(where: Path) -> Path:
    """Fashion-MNIST's training IDX files as a folder of x.npy, y.npy (for the streamed row)."""
    import gzip

    import numpy as np

    source = Path("/usr/share/datasets/fashion-mnist")
    images = gzip.decompress((source / "train-images-idx3-ubyte.gz").read_bytes())
    labels = gzip.decompress((source / "train-labels-idx1-ubyte.gz").read_bytes())
    folder = where / "fashion_npy"
    folder.mkdir()
    np.save(folder / "x.npy", np.frombuffer(images[16:], np.uint8).reshape(-1, 28, 28))
    np.save(folder / "y.npy", np.frombuffer(labels[8:], np.uint8))
    return folder


def _tree_at(revision: str, where: Path) -> Path:
    tree = where / "before"
    subprocess.run(
        ["git", "worktree", "add", "--detach", "-f", str(tree), revision],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return tree


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--images", type=int, default=20_000)
    p.add_argument(
        "--side",
        type=int,
        default=64,
        help="the JPEGs' size in pixels (photos are larger than the 64x64 trained on)",
    )
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--model", choices=sorted(MODELS), default="small", help="the cnn's size")
    p.add_argument("--before", default="cdc3789", help="the revision of the old pipeline")
    p.add_argument("--smoke", action="store_true", help="1,000 images, 1 repeat, 2 epochs")
    p.add_argument("--out", type=Path, default=None, help=f"default: results/{NAME}.json")
    args = p.parse_args(argv)
    from benchmarks.data_memory import build

    config = {**CONFIG, **MODELS[args.model]}
    count = 1000 if args.smoke else args.images
    repeats = 1 if args.smoke else args.repeats
    epochs = 2 if args.smoke else EPOCHS
    work = Path(tempfile.mkdtemp(prefix="autotune-speed-"))
    runs: list[dict[str, Any]] = []
    try:
        folder = build("image_dir", count, work, side=args.side)
        fashion = Path("/usr/share/datasets/fashion-mnist").is_dir() and not args.smoke
        before = _tree_at(args.before, work) if fashion else None
        npy = _fashion_npy(work) if fashion else None
        for repeat in range(repeats):
            for competitor in ordered(["keras", "folder_stream"], repeat):
                cache = work / f"cache-{repeat}-{competitor}"  # every repeat makes its cache
                result = _child(competitor, folder, ROOT, cache, epochs, config)
                runs.append(
                    {"table": "folder", "competitor": competitor, "repeat": repeat, **result}
                )
                shutil.rmtree(cache, ignore_errors=True)
                print(json.dumps(runs[-1]), flush=True)
            if not fashion or before is None or npy is None:
                continue
            for competitor in ordered(["before_memory", "memory", "memory_stream"], repeat):
                tree = before if competitor == "before_memory" else ROOT
                cache = work / f"cache-{repeat}-{competitor}"
                result = _child(competitor, npy, tree, cache, epochs, config)
                runs.append(
                    {"table": "fashion", "competitor": competitor, "repeat": repeat, **result}
                )
                shutil.rmtree(cache, ignore_errors=True)
                print(json.dumps(runs[-1]), flush=True)
    finally:
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False)
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False)
    print(_report(runs, epochs))
    out = args.out or (None if args.smoke else RESULTS / f"{NAME}.json")
    if out is not None:
        document = {
            "benchmark": NAME,
            "images": count,
            "side": args.side,
            "epochs": epochs,
            "repeats": repeats,
            "config": config,
            "model": args.model,
            "before": args.before,
            "machine": machine(),
            "runs": runs,
        }
        out.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {out}")
    return 1 if any("error" in r for r in runs) else 0


def _report(runs: list[dict[str, Any]], epochs: int) -> str:
    def med(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    lines = []
    ok = [r for r in runs if "epoch_seconds" in r]
    keras_runs = [r for r in ok if r["competitor"] == "keras"]
    ours = [r for r in ok if r["competitor"] == "folder_stream"]
    if keras_runs and ours:
        rows = []
        for name, mine in (("keras", keras_runs), ("autotune (streamed)", ours)):
            rows.append(
                [
                    name,
                    f"{med([r['epoch_seconds'][0] for r in mine]):.1f}",
                    f"{med([sum(r['epoch_seconds'][1:]) / max(1, epochs - 1) for r in mine]):.1f}",
                    f"{med([sum(r['epoch_seconds']) for r in mine]):.1f}",
                    f"{med([r['accuracy'] for r in mine]):.4f}",
                ]
            )
        pairs = [(k, o) for k in keras_runs for o in ours if k["repeat"] == o["repeat"]]
        total = [sum(k["epoch_seconds"]) / sum(o["epoch_seconds"]) for k, o in pairs]
        first = [k["epoch_seconds"][0] / o["epoch_seconds"][0] for k, o in pairs]
        lines.append(
            table(
                ["image folder", "1st epoch s", "later epoch s", f"{epochs} epochs s", "val acc"],
                rows,
            )
        )
        lines.append(
            f"autotune vs keras, {epochs} epochs: {med(total):.2f}x "
            f"[{min(total):.2f}-{max(total):.2f}]; first epoch {med(first):.2f}x "
            f"[{min(first):.2f}-{max(first):.2f}] (keras seconds / autotune seconds)"
        )
    fashion = {
        c: [r for r in ok if r["competitor"] == c]
        for c in ("before_memory", "memory", "memory_stream")
    }
    if all(fashion.values()):
        later = {
            c: [sum(r["epoch_seconds"][1:]) / max(1, epochs - 1) for r in rs]
            for c, rs in fashion.items()
        }
        rows = [
            [c, f"{med(v):.2f}", f"{med(later['before_memory']) / med(v):.2f}x"]
            for c, v in later.items()
        ]
        lines.append(table(["fashion-mnist 60k", "later epoch s", "speed vs before"], rows))
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())

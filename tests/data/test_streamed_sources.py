"""Sources read by index: image folders and .npy arrays, in memory or streamed from one disk cache.

Every test writes its own small data: image folders of mixed sizes and kinds (PNG, JPEG, grey
and colour), a folder already split into train/ val/ test/, a corrupt file, .npy arrays.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorflow as tf

from autotune.cli import main
from autotune.data import DataError, load_dataset, make_datasets
from autotune.data._examples import on_disk
from autotune.spec import DataSpec


def _write_images(folder: Path, per_class: int = 6, seed: int = 0) -> None:
    """Three classes of colour images of mixed sizes, as PNG and JPEG, one of them grey."""
    rng = np.random.default_rng(seed)
    for c, name in enumerate(("ant", "bee", "cat")):
        (folder / name).mkdir(parents=True)
        for i in range(per_class):
            size = (10 + 2 * i, 12 + i)
            pixels = rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
            pixels[..., 0] = 40 * c  # something per class to learn
            if i % 3 == 0:
                encoded = tf.io.encode_jpeg(pixels, quality=95)
                (folder / name / f"{i:03d}.jpg").write_bytes(encoded.numpy())
            elif i % 3 == 1:
                grey = pixels[..., :1]
                (folder / name / f"{i:03d}.png").write_bytes(tf.io.encode_png(grey).numpy())
            else:
                (folder / name / f"{i:03d}.PNG").write_bytes(tf.io.encode_png(pixels).numpy())


def _caches(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.is_dir()]


def _spec(**fields: Any) -> DataSpec:
    return DataSpec(**fields)


def test_a_streamed_image_folder_holds_what_the_in_memory_one_holds(tmp_path: Path) -> None:
    _write_images(tmp_path / "imgs")
    common = dict(dataset="image_dir", path=str(tmp_path / "imgs"), image_size=(8, 8), test=True)
    memory = load_dataset(_spec(**common, stream=False), seed=3)
    streamed = load_dataset(_spec(**common, stream=True, cache_dir=str(tmp_path / "cache")), seed=3)

    assert not on_disk(memory.x_train) and on_disk(streamed.x_train)
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(streamed, name), getattr(memory, name), err_msg=name)
    assert streamed.input_shape == (8, 8, 3) and streamed.class_names == ("ant", "bee", "cat")
    assert streamed.source["stream"] is True and memory.source["stream"] is False
    (folder,) = _caches(tmp_path / "cache")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"] == {"train": 11, "validation": 3, "test": 4}
    # the cache keeps uint8 as decoded; standardize's statistics come from its manifest
    assert streamed.x_train.dtype == np.uint8
    mean = np.asarray(memory.x_train, np.float64).reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(streamed.moments[0], mean)  # type: ignore[index]


def test_trials_train_on_the_streamed_examples_in_the_same_batches(
    tmp_path: Path, make_config: Any
) -> None:
    _write_images(tmp_path / "imgs")
    common = dict(dataset="image_dir", path=str(tmp_path / "imgs"), image_size=(8, 8))
    memory = load_dataset(_spec(**common, stream=False), seed=0)
    streamed = load_dataset(_spec(**common, stream=True, cache_dir=str(tmp_path / "c")), seed=0)
    config = make_config(normalization="standardize", batch_size=4)
    for got, want in zip(
        make_datasets(streamed, config, seed=1).train,
        make_datasets(memory, config, seed=1).train,
        strict=True,
    ):
        # a streamed batch is read in file order: the same examples, maybe in another order
        order_got = np.lexsort(got[0].numpy().reshape(len(got[0]), -1).T)
        order_want = np.lexsort(want[0].numpy().reshape(len(want[0]), -1).T)
        np.testing.assert_allclose(got[0].numpy()[order_got], want[0].numpy()[order_want], 1e-6)
        np.testing.assert_array_equal(got[1].numpy()[order_got], want[1].numpy()[order_want])


def test_the_cache_is_made_once_and_again_only_when_a_file_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _write_images(tmp_path / "imgs")
    spec = _spec(
        dataset="image_dir",
        path=str(tmp_path / "imgs"),
        image_size=(8, 8),
        stream=True,
        cache_dir=str(tmp_path / "cache"),
    )
    first = load_dataset(spec, seed=0)
    with caplog.at_level(logging.INFO, logger="autotune.data.sources._cache"):
        again = load_dataset(spec, seed=0)
    assert "made earlier" in caplog.text
    assert again.source["cache"] == first.source["cache"]
    other_seed = load_dataset(spec, seed=1)  # another split: another cache
    assert other_seed.source["cache"] != first.source["cache"]

    changed = next((tmp_path / "imgs" / "bee").iterdir())
    os.utime(changed, ns=(1, 1))
    assert load_dataset(spec, seed=0).source["cache"] != first.source["cache"]
    assert not list((tmp_path / "cache").glob("*.tmp-*"))


def test_processes_that_start_together_share_one_cache_pass(tmp_path: Path) -> None:
    _write_images(tmp_path / "imgs", per_class=30)
    spec = _spec(
        dataset="image_dir",
        path=str(tmp_path / "imgs"),
        image_size=(16, 16),
        stream=True,
        cache_dir=str(tmp_path / "cache"),
    )
    script = textwrap.dedent(
        f"""
        import logging, sys
        logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
        from autotune.data import load_dataset
        from autotune.spec import DataSpec
        ds = load_dataset(DataSpec(**{spec.model_dump()!r}), seed=0)
        print("FOLDER", ds.source["cache"], int(ds.x_train.sum()))
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    folders = {line for out in outputs for line in out.splitlines() if line.startswith("FOLDER")}
    assert len(folders) == 1  # the same cache, the same examples
    built = sum("data cache: 90 of 90 examples" in out for out in outputs)
    reused = sum("made earlier" in out for out in outputs)
    assert (built, reused) == (1, 1), outputs


def test_a_folder_split_into_train_val_test_keeps_its_parts(tmp_path: Path) -> None:
    _write_images(tmp_path / "set" / "train", per_class=6, seed=0)
    _write_images(tmp_path / "set" / "val", per_class=2, seed=1)
    _write_images(tmp_path / "set" / "test", per_class=3, seed=2)
    spec = _spec(dataset="image_dir", path=str(tmp_path / "set"), image_size=(8, 8), test=True)
    for stream in (False, True):
        ds = load_dataset(
            spec.model_copy(update={"stream": stream, "cache_dir": str(tmp_path)}), seed=0
        )
        assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (18, 6, 9)  # type: ignore[arg-type]
        assert ds.class_names == ("ant", "bee", "cat")
        assert sorted(np.bincount(ds.y_val).tolist()) == [2, 2, 2]


def test_train_size_reads_only_what_it_trains(tmp_path: Path) -> None:
    _write_images(tmp_path / "imgs", per_class=20)
    spec = _spec(
        dataset="image_dir",
        path=str(tmp_path / "imgs"),
        image_size=(8, 8),
        validation_size=6,
        train_size=9,
        stream=True,
        cache_dir=str(tmp_path / "cache"),
    )
    ds = load_dataset(spec, seed=0)
    (folder,) = _caches(tmp_path / "cache")
    assert json.loads((folder / "manifest.json").read_text())["counts"] == {
        "train": 9,
        "validation": 6,
    }
    assert len(ds.x_train) == 9
    assert (folder / "train.x.npy").stat().st_size < 9 * 8 * 8 * 3 + 256


def test_a_corrupt_image_stops_the_run_by_default_and_is_left_out_on_request(
    tmp_path: Path,
) -> None:
    _write_images(tmp_path / "imgs")
    broken = tmp_path / "imgs" / "bee" / "099.jpg"
    broken.write_bytes(tf.io.encode_jpeg(np.zeros((9, 9, 3), np.uint8)).numpy()[:40])  # truncated
    empty = tmp_path / "imgs" / "cat" / "098.png"
    empty.write_bytes(b"")
    spec = _spec(
        dataset="image_dir",
        path=str(tmp_path / "imgs"),
        image_size=(8, 8),
        validation_size=3,
        stream=True,
        cache_dir=str(tmp_path / "cache" / "data"),
    )
    with pytest.raises(DataError) as caught:
        load_dataset(spec, seed=0)
    message = str(caught.value)
    assert "cannot be decoded as an image" in message and "on_bad_file: skip" in message
    assert str(broken) in message or str(empty) in message
    assert "Traceback" not in message and "\n" not in message
    assert not (tmp_path / "cache").exists()  # nothing half-written, no folder it made

    skipped = load_dataset(spec.model_copy(update={"on_bad_file": "skip"}), seed=0)
    assert skipped.source["skipped_files"] == 2
    assert len(skipped.x_train) + len(skipped.x_val) == 18
    memory = load_dataset(spec.model_copy(update={"on_bad_file": "skip", "stream": False}), seed=0)
    np.testing.assert_array_equal(memory.x_train, skipped.x_train)
    np.testing.assert_array_equal(memory.y_train, skipped.y_train)


def test_npy_arrays_are_mapped_and_split_as_the_same_npz_is(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(300, 6, 6, 3), dtype=np.uint8)
    y = rng.integers(0, 4, size=300)
    (tmp_path / "arrays").mkdir()
    np.save(tmp_path / "arrays" / "x_train.npy", x)
    np.save(tmp_path / "arrays" / "y_train.npy", y)
    np.savez(tmp_path / "same.npz", x_train=x, y_train=y)

    npz = load_dataset(_spec(dataset="npz", path=str(tmp_path / "same.npz"), test=True), seed=4)
    npy = load_dataset(
        _spec(
            dataset="npy",
            path=str(tmp_path / "arrays"),
            test=True,
            stream=True,
            cache_dir=str(tmp_path / "cache"),
        ),
        seed=4,
    )
    assert on_disk(npy.x_train)
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(npy, name), getattr(npz, name), err_msg=name)


def test_npy_float_features_take_their_range_from_the_examples(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    (tmp_path / "a").mkdir()
    np.save(tmp_path / "a" / "x.npy", (rng.normal(size=(200, 5)) * 3 + 10).astype(np.float32))
    np.save(tmp_path / "a" / "y.npy", np.array(["no", "yes"])[rng.integers(0, 2, 200)])
    for stream in (False, True):
        ds = load_dataset(
            _spec(dataset="npy", path=str(tmp_path / "a"), stream=stream, cache_dir=str(tmp_path)),
            seed=0,
        )
        assert ds.class_names == ("no", "yes") and ds.input_shape == (5,) and not ds.image
        low, high = ds.value_range  # over the examples the run reads, as an npz's is
        used = np.concatenate([ds.x_train, ds.x_val])
        assert (low, high) == pytest.approx((float(used.min()), float(used.max())))


@pytest.mark.parametrize(
    ("setup", "fields", "key", "text"),
    [
        ("none", {"dataset": "npy"}, "data.path", "does not exist"),
        ("empty_folder", {"dataset": "npy"}, "data.path", "has no x_train.npy"),
        ("pickled", {"dataset": "npy"}, "data.path", "not a readable .npy"),
        ("images", {"dataset": "image_dir", "cache_dir": "FILE"}, "data.cache_dir", "cannot write"),
        ("images", {"dataset": "image_dir", "cache_max_gb": 1e-9}, "data.cache_max_gb", "needs"),
        ("unknown_class", {"dataset": "image_dir"}, "data.path", "lacks: dog"),
    ],
)
def test_bad_sources_and_caches_are_refused_in_one_line(
    tmp_path: Path, setup: str, fields: dict[str, Any], key: str, text: str
) -> None:
    data = tmp_path / "data"
    if setup == "empty_folder":
        data.mkdir()
    elif setup == "pickled":
        data.mkdir()
        np.save(data / "x.npy", np.array([{"a": 1}, {"b": 2}], dtype=object), allow_pickle=True)
        np.save(data / "y.npy", np.array([0, 1]))
    elif setup == "images":
        _write_images(data)
    elif setup == "unknown_class":
        _write_images(data / "train")
        _write_images(data / "val")
        (data / "val" / "dog").mkdir()
    (tmp_path / "FILE").write_text("a file, not a folder")
    fields = {**fields, "cache_dir": str(tmp_path / fields.get("cache_dir", "cache"))}
    with pytest.raises(DataError) as caught:
        load_dataset(_spec(path=str(data), stream=True, **fields), seed=0)
    assert ".".join(caught.value.key) == key
    assert text in str(caught.value) and "\n" not in str(caught.value)


def test_autotune_run_names_a_corrupt_file_and_exits_2_leaving_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_images(tmp_path / "imgs")
    (tmp_path / "imgs" / "ant" / "zz.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    run_file = tmp_path / "run.yaml"
    run_file.write_text(
        f"data: {{dataset: image_dir, path: {tmp_path / 'imgs'}, image_size: [8, 8], "
        "stream: true}\nmodel: cnn\nsearch: {trials: 1}\n"
    )
    assert main(["run", str(run_file), "--results-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "zz.png" in err and "cannot be decoded" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_threads_of_one_process_wait_for_one_pass(tmp_path: Path) -> None:
    _write_images(tmp_path / "imgs")
    spec = _spec(
        dataset="image_dir",
        path=str(tmp_path / "imgs"),
        image_size=(8, 8),
        stream=True,
        cache_dir=str(tmp_path / "cache"),
    )
    found: list[str] = []
    threads = [
        threading.Thread(target=lambda: found.append(load_dataset(spec, seed=0).source["cache"]))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 3 and len(set(found)) == 1


@pytest.mark.parametrize("compressed", [False, True])
def test_an_npz_streams_out_of_its_archive_into_the_cache(tmp_path: Path, compressed: bool) -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, size=(500, 7, 7), dtype=np.uint8)  # (N, H, W): gains a channel
    y = rng.integers(0, 3, size=500)
    x_test = rng.integers(0, 256, size=(40, 7, 7), dtype=np.uint8)
    y_test = rng.integers(0, 3, size=40)
    save = np.savez_compressed if compressed else np.savez
    save(tmp_path / "d.npz", x_train=x, y_train=y, x_test=x_test, y_test=y_test)
    common = dict(dataset="npz", path=str(tmp_path / "d.npz"), test=True, train_size=300)
    memory = load_dataset(_spec(**common, stream=False), seed=5)
    streamed = load_dataset(_spec(**common, stream=True, cache_dir=str(tmp_path / "c")), seed=5)
    assert on_disk(streamed.x_train) and streamed.input_shape == (7, 7, 1)
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(streamed, name), getattr(memory, name), err_msg=name)

    cut = (tmp_path / "d.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(cut[: len(cut) // 2])
    with pytest.raises(DataError) as caught:
        load_dataset(_spec(dataset="npz", path=str(tmp_path / "cut.npz"), stream=True), seed=0)
    assert "cut.npz" in str(caught.value) and "\n" not in str(caught.value)


def _table(rows: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    lines = ["a,b,kind,c"]
    for _ in range(rows):
        kind = ["red", "green", "blue"][int(rng.integers(0, 3))]
        lines.append(f"{rng.normal():.4f},{rng.integers(0, 9)},{kind},{rng.uniform(5, 9):.3f}")
    return "\n".join(lines) + "\n"


def test_a_glob_of_csv_files_is_read_in_chunks_like_the_same_table_in_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autotune.data.sources import _csv as _csv_chunks

    monkeypatch.setattr(_csv_chunks, "CHUNK_ROWS", 7)  # many chunks per file
    parts = [_table(40, seed) for seed in range(3)]
    (tmp_path / "parts").mkdir()
    for i, text in enumerate(parts):
        (tmp_path / "parts" / f"part-{i}.csv").write_text(text)
    whole = parts[0] + "".join(p.split("\n", 1)[1] for p in parts[1:])
    (tmp_path / "whole.csv").write_text(whole)

    one = load_dataset(
        _spec(dataset="csv", path=str(tmp_path / "whole.csv"), target="kind", test=True), seed=2
    )
    globbed = load_dataset(
        _spec(
            dataset="csv",
            path=str(tmp_path / "parts" / "part-*.csv"),
            target="kind",
            test=True,
            stream=True,
            cache_dir=str(tmp_path / "cache"),
        ),
        seed=2,
    )
    assert on_disk(globbed.x_train) and globbed.class_names == one.class_names
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(globbed, name), getattr(one, name), err_msg=name)
    assert globbed.value_range == pytest.approx(one.value_range)


def test_csv_chunks_name_the_file_and_row_of_a_bad_cell_and_an_empty_glob(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "a.csv").write_text(_table(10, 0))
    (tmp_path / "p" / "b.csv").write_text(_table(3, 1) + "0.5,seven,red,6.0\n")
    spec = _spec(
        dataset="csv",
        path=str(tmp_path / "p" / "*.csv"),
        target="kind",
        validation_size=2,
        cache_dir=str(tmp_path / "c"),
    )
    with pytest.raises(DataError) as caught:
        load_dataset(spec, seed=0)
    assert f"{tmp_path / 'p' / 'b.csv'} row 4: column 'b' is not numeric" in str(caught.value)
    with pytest.raises(DataError, match="matches no file"):
        load_dataset(spec.model_copy(update={"path": str(tmp_path / "p" / "*.tsv")}), seed=0)


def _example(features: dict[str, Any]) -> bytes:
    feature = {}
    for name, value in features.items():
        if isinstance(value, bytes):
            feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
        elif isinstance(value, int):
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
        else:
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=list(value)))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _write_records(path: Path, records: list[bytes]) -> None:
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)


def test_tfrecord_images_are_decoded_resized_and_split_like_an_image_folder(tmp_path: Path) -> None:
    _write_images(tmp_path / "imgs")
    files = sorted((tmp_path / "imgs").rglob("*.*"), key=lambda p: (p.parent.name, p.name))
    records = [
        _example({"image/encoded": f.read_bytes(), "image/class": f.parent.name.encode()})
        for f in files
    ]
    _write_records(tmp_path / "shard-0.tfrecord", records[:7])
    _write_records(tmp_path / "shard-1.tfrecord", records[7:])
    folder = load_dataset(
        _spec(dataset="image_dir", path=str(tmp_path / "imgs"), image_size=(8, 8), test=True),
        seed=1,
    )
    recorded = load_dataset(
        _spec(
            dataset="tfrecord",
            path=str(tmp_path / "shard-*.tfrecord"),
            image_feature="image/encoded",
            label_feature="image/class",
            image_size=(8, 8),
            test=True,
            stream=True,
            cache_dir=str(tmp_path / "cache"),
        ),
        seed=1,
    )
    assert on_disk(recorded.x_train) and recorded.class_names == ("ant", "bee", "cat")
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(recorded, name), getattr(folder, name), err_msg=name)


def test_tfrecord_numbers_and_bad_records(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=(60, 4)).astype(np.float32)
    labels = rng.integers(0, 2, 60)
    records = [_example({"x": v, "label": int(c)}) for v, c in zip(values, labels, strict=True)]
    _write_records(tmp_path / "n.tfrecord", records)
    spec = _spec(dataset="tfrecord", path=str(tmp_path / "n.tfrecord"), values_feature="x")
    ds = load_dataset(spec, seed=0)
    assert ds.input_shape == (4,) and not ds.image and ds.num_classes == 2
    got = np.concatenate([ds.x_train, ds.x_val])
    np.testing.assert_allclose(np.sort(got, axis=0), np.sort(values, axis=0))

    with pytest.raises(DataError) as caught:
        load_dataset(spec.model_copy(update={"values_feature": "pixels"}), seed=0)
    assert ".".join(caught.value.key) == "data.values_feature" and "no feature 'pixels'" in str(
        caught.value
    )
    broken = [*records[:10], _example({"x": [1.0, 2.0], "label": 1}), *records[10:]]
    _write_records(tmp_path / "b.tfrecord", broken)  # one record with 2 numbers, not 4
    bad = spec.model_copy(update={"path": str(tmp_path / "b.tfrecord"), "cache_dir": str(tmp_path)})
    with pytest.raises(DataError, match=r"record 10 of .*b.tfrecord: feature 'x' cannot be read"):
        load_dataset(bad, seed=0)
    skipped = load_dataset(bad.model_copy(update={"on_bad_file": "skip"}), seed=0)
    assert skipped.source["skipped_files"] == 1 and len(skipped.x_train) + len(skipped.x_val) == 60
    (tmp_path / "junk.tfrecord").write_bytes(b"not a record file at all")
    with pytest.raises(DataError, match="not a readable TFRecord file"):
        load_dataset(spec.model_copy(update={"path": str(tmp_path / "junk.tfrecord")}), seed=0)


def test_a_damaged_cache_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    _write_images(tmp_path / "imgs")
    spec = _spec(
        dataset="image_dir",
        path=str(tmp_path / "imgs"),
        image_size=(8, 8),
        stream=True,
        cache_dir=str(tmp_path / "cache"),
    )
    folder = Path(load_dataset(spec, seed=0).source["cache"])
    train = folder / "train.x.npy"
    train.write_bytes(train.read_bytes()[:-100])  # cut short
    before = sorted((p.name, p.stat().st_size) for p in folder.iterdir())
    with pytest.raises(DataError) as caught:
        load_dataset(spec, seed=0)
    assert ".".join(caught.value.key) == "data.cache_dir" and str(folder) in str(caught.value)
    assert "remove that folder" in str(caught.value)
    assert sorted((p.name, p.stat().st_size) for p in folder.iterdir()) == before


def test_a_large_jpeg_is_decoded_at_a_smaller_scale_and_downsampled_no_worse(
    tmp_path: Path,
) -> None:
    """A 400x400 JPEG read at 16x16 is decoded at 1/8 scale first (libjpeg's DCT scaling, an
    average over 8x8 blocks) and then resized: nearer the area average of the full image than
    decoding every pixel and resizing (bilinear, which samples and aliases)."""
    from autotune.data.sources._image_files import image_decoder

    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, size=(20, 20, 3), dtype=np.uint8)
    photo = tf.image.resize(small, (400, 400), method="nearest").numpy().astype(np.uint8)
    encoded = tf.io.encode_jpeg(photo, quality=95)
    scaled = image_decoder((16, 16), 3)(encoded).numpy()
    decoded = tf.io.decode_jpeg(encoded, channels=3)
    full = np.round(tf.image.resize(decoded, (16, 16)).numpy())
    area = tf.image.resize(decoded, (16, 16), method="area").numpy()
    assert scaled.shape == (16, 16, 3) and scaled.dtype == np.uint8
    assert np.abs(scaled - area).mean() < np.abs(full - area).mean()


@pytest.mark.parametrize("stream", [False, True])
def test_npy_features_with_nan_are_refused(tmp_path: Path, stream: bool) -> None:
    x = np.ones((50, 3), np.float32)
    x[7, 1] = np.nan
    (tmp_path / "a").mkdir()
    np.save(tmp_path / "a" / "x.npy", x)
    np.save(tmp_path / "a" / "y.npy", np.arange(50) % 2)
    spec = _spec(dataset="npy", path=str(tmp_path / "a"), stream=stream, cache_dir=str(tmp_path))
    with pytest.raises(DataError, match="NaN or infinite"):
        load_dataset(spec.model_copy(update={"validation_size": 5}), seed=0)
    with pytest.raises(DataError, match="NaN or infinite"):  # in validation or in training
        load_dataset(spec.model_copy(update={"validation_size": 45}), seed=0)

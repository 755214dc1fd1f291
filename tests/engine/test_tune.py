"""autotune.tune on a Space: the built-in trainer on arrays or a data section, on the engine
the command line uses (study, ranking, results files, best model, resume, bad arguments)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.datasets import load_digits

import autotune as at


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_digits(return_X_y=True)
    return x[:300], y[:300]


def test_space_on_arrays_ranks_writes_results_and_keeps_the_best_model(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    x, y = digits
    space = at.Space(width=at.Choice([8, 16]), learning_rate=at.Float(1e-3, 3e-2, log=True))
    events: list[at.TrialEvent] = []
    study = at.tune(
        space,
        data=(x, y),
        trials=3,
        epochs=2,
        sampler="random",
        pruner="none",
        study="arrays",
        results_dir=tmp_path,
        on_trial=events.append,
    )
    board = study.leaderboard()
    assert isinstance(board, pd.DataFrame) and len(board) == 3
    # the same ranking as the leaderboard.csv the command line writes
    written = pd.read_csv(tmp_path / "arrays" / "leaderboard.csv")
    assert written["trial"].tolist() == board["trial"].tolist()
    best = study.best
    assert isinstance(best, at.TrialConfig) and best["width"] in (8, 16)
    assert best.width == best["width"] and dict(best)["optimizer"] == "adam"
    top = study.optuna.trials[int(board["trial"][0])]
    assert best["learning_rate"] == top.params["learning_rate"]
    result = study.best_result
    assert isinstance(result, at.TrialResult) and result.epochs == 2 and result.wall_seconds > 0
    assert result.accuracy == pytest.approx(board["accuracy"][0])
    model = study.best_model()
    assert model.name == "autotune_mlp"  # flat data -> mlp
    assert model.predict(x[:5].astype("float32") / 16.0, verbose=0).shape == (5, 10)
    assert {p.name for p in study.directory.iterdir()} >= {
        "study.db",
        "trials.csv",
        "leaderboard.csv",
        "best.yaml",
        "best_model.keras",
    }
    assert [e.done for e in events] == [1, 2, 3]
    # a later call with the same study name resumes it
    again = at.tune(
        space,
        data=(x, y),
        trials=4,
        epochs=2,
        sampler="random",
        pruner="none",
        study="arrays",
        results_dir=tmp_path,
    )
    assert again.report.resumed and len(again.optuna.trials) == 4
    # ...but not on other data
    with pytest.raises(at.SpecError, match="data"):
        at.tune(
            space, data=(x[:200], y[:200]), trials=5, epochs=2, study="arrays", results_dir=tmp_path
        )


def test_images_get_a_cnn_and_a_data_section_gives_a_runnable_best_yaml(tmp_path: Path) -> None:
    x, y = load_digits(return_X_y=True)
    images = x.reshape(-1, 8, 8)[:200]
    study = at.tune(
        {"width": 8, "depth": 1}, data=(images, y[:200]), trials=1, epochs=1, results_dir=tmp_path
    )
    assert study.best_model().name == "autotune_cnn"

    section = {"dataset": "digits", "train_size": 200, "validation_size": 100}
    study = at.tune(
        at.Space(width=[8, 16]),
        data=section,
        model="mlp",
        trials=1,
        epochs=1,
        study="section",
        results_dir=tmp_path,
    )
    best = at.load_run_file(study.directory / "best.yaml")
    assert best.data.dataset == "digits" and best.model == "mlp"
    assert best.space["width"] == study.best["width"]


def test_a_model_builder_reads_its_own_dimensions(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    import keras

    def build(config: at.TrialConfig, input_shape: tuple[int, ...], num_classes: int):
        return keras.Sequential(
            [
                keras.Input(input_shape),
                keras.layers.Dense(config["hidden"], activation=config["activation"]),
                keras.layers.Dense(num_classes, activation="softmax"),
            ]
        )

    x, y = digits
    space = at.Space(hidden=at.Int(4, 12, step=4), activation=["relu", "tanh"], learning_rate=0.01)
    study = at.tune(
        space, data=(x, y), model=build, trials=2, epochs=1, sampler="random", results_dir=tmp_path
    )
    assert study.best["hidden"] in (4, 8, 12)
    assert study.best_model().layers[0].units == study.best["hidden"]
    assert "python:" in study.optuna.user_attrs["autotune:spec"]["model"]


def test_arguments_autotune_cannot_use_are_spec_errors(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    x, y = digits
    cases = [
        (dict(target={"widht": [8, 16]}, data=(x, y)), "space.widht", "did not|built-in"),
        (dict(target={"width": [0, 8]}, data=(x, y)), "space.width", ">= 1"),
        (dict(target={"width": [8]}, data=(x, y), sampler="annealing"), "search.sampler", "tpe"),
        (dict(target={"width": [8]}), "data", "arrays"),
        (dict(target={"width": [8]}, data=(x, y[:10])), "data", "labels"),
        (dict(target={"width": [8]}, data=(x, y), budget="soon"), "search.budget", "duration"),
        (
            dict(target={"width": [8, 16]}, data=(x, y), start_with=[{"depth": 2}]),
            "search.start_with[0].depth",
            "searched dimension",
        ),
        (dict(target={"width": [8]}, data=(x, y), metric="loss"), "metric", "accuracy"),
        (
            dict(target={"width": [8]}, data={"dataset": "digits"}, validation=(x, y)),
            "validation",
            "validation_size",
        ),
        (
            dict(target={"width": [8]}, data={"dataset": "digits", "train_size": 0}),
            "data.train_size",
            "an integer > 0",
        ),
    ]
    for kwargs, key, text in cases:
        target = kwargs.pop("target")
        with pytest.raises(at.SpecError) as caught:
            at.tune(target, trials=1, results_dir=tmp_path, **kwargs)
        assert caught.value.key == key, (kwargs, str(caught.value))
        assert any(t in str(caught.value) for t in text.split("|")), str(caught.value)
    assert not any(tmp_path.iterdir())  # nothing was created for a refused tune
    assert optuna.__version__


def test_a_tf_data_dataset_is_data_too(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    import tensorflow as tf

    x, y = digits
    batches = tf.data.Dataset.from_tensor_slices((x[:240], y[:240])).batch(32)
    validation = tf.data.Dataset.from_tensor_slices((x[240:], y[240:]))
    study = at.tune(
        {"width": 8}, data=batches, validation=validation, trials=1, epochs=1, results_dir=tmp_path
    )
    assert study.best_result is not None and study.best_result.epochs == 1
    stored = study.optuna.user_attrs["autotune:spec"]["data"]
    assert stored["examples"] == {"train": 240, "validation": 60} and len(stored["sha1"]) == 80


def test_a_large_tf_data_dataset_is_streamed_from_the_cache_not_held(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dataset over the in-memory limit (here made 0 bytes) is written once under the
    results folder's cache and trained on from there; the scratch copy is gone afterwards."""
    import tensorflow as tf

    from autotune.data.sources import _listing

    monkeypatch.setattr(_listing, "STREAM_ABOVE_BYTES", 0)
    x, y = digits

    def examples():  # a generator: there are no arrays to take
        yield from zip(x[:300], y[:300], strict=True)

    data = tf.data.Dataset.from_generator(
        examples,
        output_signature=(tf.TensorSpec((64,), tf.float64), tf.TensorSpec((), tf.int64)),
    )
    study = at.tune({"width": 8}, data=data, trials=1, epochs=1, results_dir=tmp_path)
    assert study.best_result is not None and study.best_result.accuracy > 0
    source = study.optuna.user_attrs["autotune:data"]
    assert source["stream"] is True and source["examples"] == {"train": 240, "validation": 60}
    cached = Path(source["cache"])
    assert cached.parent == tmp_path / ".cache" / "data" and (cached / "train.x.npy").is_file()
    assert not list(cached.parent.glob("tf-data-*"))


def test_a_path_is_data_too(tmp_path: Path) -> None:
    """An image folder's path reads as ``{"dataset": "image_dir", "path": ...}`` would; a csv
    file's is refused with the data section it needs."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for c in range(2):
        (tmp_path / "imgs" / f"c{c}").mkdir(parents=True)
        for i in range(10):
            pixels = rng.integers(0, 60, size=(6, 6, 1), dtype=np.uint8) + 150 * c
            png = tf.io.encode_png(pixels.astype(np.uint8)).numpy()
            (tmp_path / "imgs" / f"c{c}" / f"{i}.png").write_bytes(png)
    study = at.tune(
        {"width": 8}, data=tmp_path / "imgs", trials=1, epochs=2, results_dir=tmp_path / "out"
    )
    assert study.best_result is not None
    assert study.optuna.user_attrs["autotune:spec"]["data"]["dataset"] == "image_dir"
    assert study.optuna.user_attrs["autotune:data"]["examples"] == {"train": 16, "validation": 4}
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    with pytest.raises(at.SpecError, match="a data section"):
        at.tune({"width": 8}, data=str(tmp_path / "t.csv"), trials=1, results_dir=tmp_path)

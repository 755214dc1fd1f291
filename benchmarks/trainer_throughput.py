"""Benchmark 1: steady-state training throughput, autotune's trainer vs plain ``model.fit``.

Four fixed configurations on Fashion-MNIST (12k training examples): a small MLP, a small CNN,
a larger CNN and a CNN with augmentation. For each, the identical model (autotune's
``build_model``) trains

- ``autotune``: through autotune's pipeline and trainer, with the speed knobs its throughput
  probe picks for this model among a few candidates (probe time reported, not counted); with
  ``--mode defaults``, with the knobs a run file that names none gets (``steps_per_execution:
  auto``, cached and prefetched pipeline) and no probe: what users get;
- ``keras``: ``model.fit(x, y, batch_size=...)`` on the normalized arrays, the way the Keras
  guides show it (augmentation as Keras preprocessing layers at the front of the model).

Throughput is examples/second over the epochs after the first (the first traces and
compiles), training phase only. Run::

    python -m benchmarks.trainer_throughput            # full: 4 configs x 3 seeds
    python -m benchmarks.trainer_throughput --mode defaults   # autotune's defaults, no probe
    python -m benchmarks.trainer_throughput --smoke    # seconds
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    FASHION,
    emit,
    finish,
    machine,
    ordered,
    parser,
    run_child,
    spread,
    summary,
    table,
)

NAME = "trainer_throughput"
COMPETITORS = ("autotune", "keras")
CONFIGS: dict[str, dict[str, Any]] = {
    "small_mlp": {"family": "mlp", "depth": 2, "width": 128},
    "small_cnn": {"family": "cnn", "depth": 2, "width": 32},
    "larger_cnn": {"family": "cnn", "depth": 3, "width": 64},
    "cnn_augmented": {"family": "cnn", "depth": 2, "width": 32, "flip": True, "translate": True},
}
KNOB_CANDIDATES: tuple[dict[str, Any], ...] = (
    {"steps_per_execution": 1},
    {"steps_per_execution": 32},
    {"steps_per_execution": 32, "jit_compile": True},
)
"""What the autotune side probes per model (with augmentation also ``augment_on: model``)."""
GOALS = {"small_mlp": 2.0, "small_cnn": 1.2}
"""The issue's goals for autotune/keras; every configuration should be >= 1.0."""


def _load(smoke: bool, seed: int) -> Any:
    from autotune.data import load_dataset
    from autotune.spec import DataSpec

    sizes = (600, 200) if smoke else (12000, 3000)
    if Path(FASHION).exists():
        spec = DataSpec(
            dataset="fashion_mnist", path=FASHION, train_size=sizes[0], validation_size=sizes[1]
        )
    else:  # a machine without the Debian package: digits, clearly labelled in the result
        spec = DataSpec(dataset="digits", validation_split=0.2)
    return load_dataset(spec, seed=seed)


def _config(name: str, batch_size: int, **knobs: Any) -> Any:
    from autotune.space import CATALOGUE, TrialConfig

    values = {k: e.default for k, e in CATALOGUE.items()}
    values.update({k: v for k, v in CONFIGS[name].items() if k != "family"})
    values.update(batch_size=batch_size, normalization="unit", augment_strength=0.1, **knobs)
    return TrialConfig(values)


def child(
    config_name: str, competitor: str, seed: int, epochs: int, smoke: bool, mode: str = "probed"
) -> None:
    import keras

    from autotune.data import make_datasets
    from autotune.train import probe

    dataset = _load(smoke, seed)
    family = CONFIGS[config_name]["family"]
    batch_size = 64
    keras.utils.set_random_seed(seed)
    result: dict[str, Any] = {"dataset": dataset.name, "examples": len(dataset.x_train)}
    if competitor == "autotune" and mode == "defaults":
        config = _config(config_name, batch_size)
        result["knobs"] = {"steps_per_execution": config["steps_per_execution"]}
        result.update(_train(config, dataset, family, seed, epochs))
    elif competitor == "autotune":
        candidates = list(KNOB_CANDIDATES)
        if CONFIGS[config_name].get("flip"):
            candidates += [{**c, "augment_on": "model"} for c in KNOB_CANDIDATES[1:]]
        probes: list[dict[str, Any]] = []
        began = time.perf_counter()
        for knobs in candidates:
            config = _config(config_name, batch_size, **knobs)
            data = make_datasets(dataset, config, seed=seed)
            build = _builder(config, data, family, dataset, seed)
            measured = probe(
                config, build_model=build, train=data.train, batch_size=batch_size, steps=40
            )
            probes.append({"knobs": knobs, "examples_per_second": measured.examples_per_second})
            keras.backend.clear_session()
        best = max(probes, key=lambda p: p["examples_per_second"])
        result.update(probes=probes, knobs=best["knobs"], probe_seconds=time.perf_counter() - began)
        config = _config(config_name, batch_size, **best["knobs"])
        result.update(_train(config, dataset, family, seed, epochs))
    else:
        result.update(_plain_fit(config_name, dataset, family, batch_size, epochs, seed))
    emit(result)


def _train(config: Any, dataset: Any, family: str, seed: int, epochs: int) -> dict[str, Any]:
    """Train ``config`` with autotune's pipeline and trainer; its speed, accuracy and end."""
    from autotune.data import make_datasets
    from autotune.train import fit

    data = make_datasets(dataset, config, seed=seed)
    outcome = fit(
        config,
        build_model=_builder(config, data, family, dataset, seed),
        train=data.train,
        validation=data.validation,
        train_examples=data.train_examples,
        epochs=epochs,
    )
    return {
        "examples_per_second": outcome.result.examples_per_second,
        "accuracy": outcome.result.accuracy,
        "end": outcome.result.end,
    }


def _builder(config: Any, data: Any, family: str, dataset: Any, seed: int) -> Any:
    from autotune.models import build_model

    def build() -> Any:
        return build_model(
            config,
            family=family,
            input_shape=dataset.input_shape,
            num_classes=dataset.num_classes,
            seed=seed,
            augment=None if data.model_augment is None else data.model_augment(),
        )

    return build


def _plain_fit(
    config_name: str, dataset: Any, family: str, batch_size: int, epochs: int, seed: int
) -> dict[str, Any]:
    """The plain Keras way: arrays in, ``model.fit(x, y, batch_size=...)``."""
    import keras
    import numpy as np

    from autotune.models import build_model

    low, high = dataset.value_range
    x = ((dataset.x_train.astype("float32") - low) / (high - low)).astype("float32")
    y = dataset.y_train.astype("int32")
    config = _config(config_name, batch_size)
    base = build_model(
        config,
        family=family,
        input_shape=dataset.input_shape,
        num_classes=dataset.num_classes,
        seed=seed,
    )
    model = base
    if CONFIGS[config_name].get("flip"):  # the Keras guide: preprocessing layers in the model
        inputs = keras.Input(shape=dataset.input_shape)
        h = keras.layers.RandomFlip("horizontal", seed=seed)(inputs)
        h = keras.layers.RandomTranslation(0.1, 0.1, seed=seed)(h)
        model = keras.Model(inputs, base(h))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = _EpochTimer()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[timer])
    steady = timer.seconds[1:] or timer.seconds
    return {
        "examples_per_second": float(len(x) * len(steady) / np.sum(steady)),
        "end": "complete",
    }


class _EpochTimer:
    """A Keras callback timing each epoch (created lazily to keep imports in the child)."""

    def __new__(cls) -> Any:
        import keras

        class EpochTimer(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.seconds: list[float] = []
                self._began = 0.0

            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                self._began = time.perf_counter()

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                self.seconds.append(time.perf_counter() - self._began)

        return EpochTimer()


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__ or NAME)
    p.add_argument("--configs", nargs="*", default=None, help="subset of " + ", ".join(CONFIGS))
    p.add_argument("--epochs", type=int, default=None, help="epochs per measurement (>= 2)")
    p.add_argument("--config", help="(child) configuration")
    p.add_argument("--competitor", help="(child) competitor")
    p.add_argument("--seed", type=int, default=0, help="(child) seed")
    p.add_argument(
        "--mode",
        choices=("probed", "defaults"),
        default="probed",
        help="autotune's knobs: picked by its probe, or a run file's defaults (no probe)",
    )
    args = p.parse_args(argv)
    epochs = args.epochs or (2 if args.smoke else 4)
    if args.child:
        child(args.config, args.competitor, args.seed, epochs, args.smoke, args.mode)
        return 0
    seeds = args.seeds or (1 if args.smoke else 3)
    names = args.configs or (["small_mlp"] if args.smoke else list(CONFIGS))
    runs: list[dict[str, Any]] = []
    for seed in range(seeds):
        for name in names:
            for competitor in ordered(COMPETITORS, seed):
                child_args = ["--config", name, "--competitor", competitor, "--seed", str(seed)]
                child_args += ["--epochs", str(epochs), "--mode", args.mode]
                child_args += ["--smoke"] if args.smoke else []
                result = run_child("benchmarks." + NAME, child_args, timeout=1800)
                runs.append({"config": name, "competitor": competitor, "seed": seed, **result})
                print(
                    f"seed {seed} {name:<14} {competitor:<9} "
                    f"{result.get('examples_per_second', result.get('error'))}",
                    file=sys.stderr,
                )
    rows, configs = [], {}
    for name in names:
        per = {
            c: [r for r in runs if r["config"] == name and r["competitor"] == c]
            for c in COMPETITORS
        }
        ratios = [
            a.get("examples_per_second") / k["examples_per_second"]
            if a.get("examples_per_second") and k.get("examples_per_second")
            else None
            for a, k in zip(per["autotune"], per["keras"], strict=True)
        ]
        stats = {c: summary(r.get("examples_per_second") for r in per[c]) for c in COMPETITORS}
        ratio = summary(ratios)
        knobs = [r.get("knobs") for r in per["autotune"]]
        configs[name] = {
            "examples_per_second": stats,
            "ratio": ratio,
            "knobs_picked": knobs,
            "goal_ratio": GOALS.get(name, 1.0),
        }
        rows.append(
            [
                name,
                spread(stats["autotune"]),
                spread(stats["keras"]),
                spread(ratio, 2) + "x",
                f">= {GOALS.get(name, 1.0):g}x",
                _knob_text(knobs[0] if knobs else None),
            ]
        )
    text = table(
        [
            "configuration",
            "autotune ex/s",
            "model.fit ex/s",
            "ratio",
            "goal",
            "knobs picked (seed 0)" if args.mode == "probed" else "knobs (defaults)",
        ],
        rows,
    )
    print(text)
    return finish(
        NAME if args.mode == "probed" else f"{NAME}_defaults",
        {
            "benchmark": NAME,
            "mode": args.mode,
            "smoke": args.smoke,
            "seeds": seeds,
            "epochs": epochs,
            "machine": machine(),
            "configs": configs,
            "runs": runs,
            "table": text,
        },
        runs,
        out=args.out,
        smoke=args.smoke,
    )


def _knob_text(knobs: dict[str, Any] | None) -> str:
    if not knobs:
        return "-"
    return ", ".join(f"{k}={v}" for k, v in knobs.items())


if __name__ == "__main__":
    sys.exit(main())

"""The run-file schema (pydantic v2). Field names here are the contract users write in YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from autotune.space import IMAGE_ONLY_OPS
from autotune.spec._custom import check_import_path, is_import_path, names_code
from autotune.spec._duration import parse_duration
from autotune.spec._errors import Described, Problem, closest
from autotune.spec._names import STUDY_NAME
from autotune.spec._search import check_search
from autotune.spec._sizes import parse_mebibytes
from autotune.spec._space import parse_space
from autotune.spec._values import can_take

DATASETS = (
    "digits",
    "mnist",
    "fashion_mnist",
    "cifar10",
    "npz",
    "npy",
    "csv",
    "image_dir",
    "tfrecord",
)
SAMPLERS = ("tpe", "random", "grid", "cmaes", "gp", "nsga2")
PRUNERS = ("asha", "hyperband", "successive_halving", "median", "none")
OBJECTIVES = ("accuracy", "accuracy_per_second", "pareto")
RANKINGS = ("accuracy_per_second", "accuracy", "time_to_target", "metric")
MODELS = ("auto", "mlp", "cnn")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class DataSpec(_Section):
    """``data:``: where examples come from and how they are split."""

    dataset: Literal[
        "digits", "mnist", "fashion_mnist", "cifar10", "npz", "npy", "csv", "image_dir", "tfrecord"
    ]
    path: str | None = None
    target: str | None = None
    train_size: int | None = Field(default=None, gt=0)
    validation_size: int | None = Field(default=None, gt=0)
    validation_split: float | None = Field(default=None, gt=0.0, lt=1.0)
    test: bool = False
    image_size: tuple[int, int] | None = None
    stream: Literal["auto"] | bool = "auto"
    """Read the examples from a disk cache (memory-mapped) instead of holding them in memory:
    ``auto`` streams ``image_dir``, ``npy`` and ``npz`` data over ``STREAM_ABOVE_BYTES``."""
    cache_dir: str | None = None
    """Where streamed examples are cached, decoded (default: ``<results dir>/.cache/data``)."""
    cache_max_gb: float | None = Field(default=None, gt=0)
    """The most disk the cache may take (default: what the disk has, less 1 GB)."""
    on_bad_file: Literal["error", "skip"] = "error"
    """An image that cannot be decoded stops the run (``error``) or is left out (``skip``)."""
    image_feature: str | None = None
    """``tfrecord``: the feature holding each example's encoded image (JPEG, PNG, ...)."""
    values_feature: str | None = None
    """``tfrecord``: the feature holding each example's numbers (a float list)."""
    label_feature: str = "label"
    """``tfrecord``: the feature holding each example's class (an int or a string)."""

    @field_validator("image_size", mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        # YAML has lists, not tuples; strict mode would refuse [32, 32]
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _check(self) -> DataSpec:
        if self.dataset in ("npz", "npy", "csv", "image_dir", "tfrecord") and self.path is None:
            raise Problem(
                ("path",),
                expected=f"a path: dataset {self.dataset} reads its examples from files",
                received=Described("no path"),
                hint="add path: /where/the/data/is",
            )
        if self.dataset == "csv" and self.target is None:
            raise Problem(
                ("target",),
                expected="the name of the csv column to predict",
                received=Described("no target"),
                hint="add target: <column name>",
            )
        if self.dataset == "tfrecord" and (self.image_feature is None) == (
            self.values_feature is None
        ):
            raise Problem(
                ("image_feature",),
                expected="one of image_feature (encoded images) or values_feature (numbers): "
                "the tf.train.Example feature that holds each example",
                received=Described("both" if self.image_feature is not None else "neither"),
                hint="add image_feature: image/encoded",
            )
        if self.target is not None and self.dataset != "csv":
            raise Problem(
                ("target",),
                expected=f"no target: only csv data sets take one (dataset is {self.dataset})",
                received=self.target,
            )
        if self.validation_size is not None and self.validation_split is not None:
            raise Problem(
                ("validation_split",),
                expected="validation_size or validation_split, not both",
                received=self.validation_split,
            )
        return self


MAX_PROCESSES_PER_TRIAL = 64


class ProbeSpec(_Section):
    """``train.probe:``: a short throughput measurement before each trial trains.

    ``probe: true`` takes these defaults.
    """

    steps: int = Field(default=200, ge=10, le=100_000)
    skip_slower: float | None = Field(default=1.5, ge=1.0)
    """Skip a trial whose model and batch size already ran this many times faster with other
    speed knobs (None: never skip for that). A trial whose probed speed cannot finish its
    epochs in the budget left is always skipped."""


class TrainSpec(_Section):
    """``train:``: how each trial trains."""

    epochs: int = Field(default=10, ge=1, le=10_000)
    devices: Literal["auto", "cpu"] | list[int] = "auto"
    steps_per_execution: int | None = Field(default=None, ge=1)
    """The old place of ``space.steps_per_execution``; still read as that dimension fixed."""
    probe: ProbeSpec | None = None
    # Devices and workers (see autotune/train/_devices.py and autotune/engine/workers/_pool.py).
    devices_per_trial: int | Literal["all"] = Field(default=1)
    processes_per_trial: int = Field(default=1)
    """Processes that train each trial together (``MultiWorkerMirroredStrategy``), each on
    ``devices_per_trial`` devices of its own; ``batch_size`` stays the global batch."""
    logical_cpus: int | None = Field(default=None, ge=1, le=64)
    trial_timeout: float | None = None
    max_trials_per_worker: int = Field(default=50, ge=1)
    worker_rss_limit: float | None = None
    """MiB; the YAML takes ``4096``, ``"4GiB"``, ``"1500MB"``."""
    scale_lr_with_batch: Literal["none", "linear"] = "none"
    lr_reference_batch: int = Field(default=256, ge=1)
    reuse_compiled: bool = True
    """Keep compiled models between trials (``autotune.train.CompiledModels``)."""
    trial_seed: int | None = Field(default=None, ge=0)
    """Trial N trains with seed ``trial_seed + N`` (weights, dropout, shuffling, augmentation);
    None: the run's ``seed``, which also draws the data split. ``best.yaml`` sets it to the
    winning trial's seed, so its one trial retrains that model."""

    @field_validator("probe", mode="before")
    @classmethod
    def _probe(cls, value: Any) -> Any:
        if value is True:
            return ProbeSpec()
        return None if value is False else value

    @field_validator("devices")
    @classmethod
    def _devices(cls, value: Any) -> Any:
        if isinstance(value, list) and (not value or any(i < 0 for i in value)):
            raise Problem((), expected="auto, cpu or a list of GPU indices >= 0", received=value)
        return value

    @field_validator("devices_per_trial")
    @classmethod
    def _per_trial(cls, value: Any) -> Any:
        if isinstance(value, int) and value < 1:
            raise Problem((), expected="all or a number of devices >= 1", received=value)
        return value

    @field_validator("processes_per_trial")
    @classmethod
    def _processes(cls, value: Any) -> Any:
        if value < 1 or value > MAX_PROCESSES_PER_TRIAL:
            raise Problem(
                (),
                expected=f"a number of processes from 1 to {MAX_PROCESSES_PER_TRIAL}",
                received=value,
            )
        return value

    @field_validator("trial_timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> float | None:
        if value is None:
            return None
        try:
            return parse_duration(value)
        except ValueError:
            raise Problem(
                (), expected="a positive duration like 300, 90s, 10m or 1h", received=value
            ) from None

    @field_validator("worker_rss_limit", mode="before")
    @classmethod
    def _rss(cls, value: Any) -> float | None:
        if value is None:
            return None
        try:
            return parse_mebibytes(value)
        except ValueError:
            raise Problem(
                (), expected="a memory size like 4096 (MiB), 1500MB or 4GiB", received=value
            ) from None

    @model_validator(mode="after")
    def _check(self) -> TrainSpec:
        per_trial = self.devices_per_trial
        if isinstance(self.devices, list) and isinstance(per_trial, int):
            if per_trial > len(self.devices):
                raise Problem(
                    ("devices_per_trial",),
                    expected=f"at most the {len(self.devices)} devices listed in train.devices",
                    received=per_trial,
                )
            if len(self.devices) % per_trial:
                raise Problem(
                    ("devices_per_trial",),
                    expected=f"a divisor of the {len(self.devices)} devices in train.devices",
                    received=per_trial,
                    hint="each worker gets devices_per_trial devices of its own",
                )
        if self.processes_per_trial > 1 and per_trial == "all":
            raise Problem(
                ("devices_per_trial",),
                expected="a number of devices per process with processes_per_trial > 1",
                received=per_trial,
                hint="each process of a group trains on devices of its own; all would give "
                "every process the same devices",
            )
        cpus = self.logical_cpus or 1
        if self.devices == "cpu" and isinstance(per_trial, int) and per_trial > cpus:
            raise Problem(
                ("devices_per_trial",),
                expected=f"at most train.logical_cpus ({cpus}) CPU devices",
                received=per_trial,
                hint="set train.logical_cpus to split the CPU into that many devices",
            )
        return self


class SearchSpec(_Section):
    """``search:``: sampler, pruner, objective, trial count and time budget."""

    sampler: Literal["tpe", "random", "grid", "cmaes", "gp", "nsga2"] = "tpe"
    sampler_options: dict[str, Any] = Field(default_factory=dict)
    pruner: Literal["asha", "hyperband", "successive_halving", "median", "none"] | None = None
    pruner_options: dict[str, Any] = Field(default_factory=dict)
    objective: Literal["accuracy", "accuracy_per_second", "pareto"] = "accuracy"
    start_with: list[dict[str, Any]] = Field(default_factory=list)
    trials: int = Field(default=20, ge=1)
    budget: float | None = None
    """Seconds; the YAML takes ``90``, ``"90s"``, ``"10m"``, ``"1.5h"``."""
    max_retries: int = Field(default=1, ge=0, le=100)
    """Times the configuration of a trial lost with its worker is run again."""
    heartbeat_interval: int = Field(default=10, ge=1, le=3600)
    """Seconds between a running trial's heartbeats (database server storages)."""
    grace_period: int = Field(default=60, ge=2, le=86_400)
    """Seconds without a heartbeat after which a running trial's worker counts as dead."""

    @field_validator("budget", mode="before")
    @classmethod
    def _budget(cls, value: Any) -> float | None:
        if value is None:
            return None
        try:
            return parse_duration(value)
        except ValueError:
            raise Problem(
                (), expected="a positive duration like 90, 90s, 10m or 1.5h", received=value
            ) from None

    @property
    def resolved_pruner(self) -> str:
        """The pruner in force: the one named, else ``asha`` (seconds as the resource) for a
        study with a budget (``--budget`` sets it too) or the ``pareto`` objective, else
        ``hyperband`` (epochs).

        ``pruner_options`` without ``pruner`` were written for the epoch-based default of
        earlier versions: they keep ``hyperband`` (but for ``pareto``, which it cannot prune).
        """
        if self.pruner is not None:
            return self.pruner
        if self.objective == "pareto":
            return "asha"
        return "asha" if self.budget is not None and not self.pruner_options else "hyperband"

    @model_validator(mode="after")
    def _check(self) -> SearchSpec:
        if self.grace_period <= self.heartbeat_interval:
            raise Problem(
                ("grace_period",),
                expected=f"more seconds than heartbeat_interval ({self.heartbeat_interval})",
                received=self.grace_period,
                hint="a worker misses a heartbeat or two before it counts as dead",
            )
        if self.objective == "pareto" and self.pruner not in (None, "none", "asha"):
            raise Problem(
                ("pruner",),
                expected="pruner: asha or none with objective pareto",
                received=self.pruner,
                hint="epoch-based Optuna pruners cannot prune multi-objective studies; "
                "asha ranks trials by non-dominated rank at equal seconds",
            )
        return self


class RankSpec(_Section):
    """``rank:``: how finished trials are ordered."""

    by: Literal["accuracy_per_second", "accuracy", "time_to_target", "metric"] = (
        "accuracy_per_second"
    )
    min_accuracy: float | Literal["auto"] = "auto"
    tolerance: float = Field(default=0.01, ge=0.0, le=1.0)
    target: float | None = Field(default=None, gt=0.0, le=1.0)
    metric: str | None = Field(default=None, min_length=1)
    """``by: metric``: the user attribute ranked on (a key a custom objective returns)."""
    direction: Literal["maximize", "minimize"] = "maximize"
    """``by: metric``: whether larger or smaller values rank first."""

    @model_validator(mode="after")
    def _check(self) -> RankSpec:
        if self.by == "metric" and self.metric is None:
            raise Problem(
                ("metric",),
                expected="the name of a metric the objective returns, to rank by metric",
                received=Described("no metric"),
                hint="add metric: latency_ms (and direction: minimize) under rank",
            )
        if self.by == "time_to_target" and self.target is None:
            raise Problem(
                ("target",),
                expected="a target accuracy (0 < target <= 1) to rank by time_to_target",
                received=Described("no target"),
                hint="add target: 0.9 under rank",
            )
        if isinstance(self.min_accuracy, float) and not 0.0 <= self.min_accuracy <= 1.0:
            raise Problem(
                ("min_accuracy",),
                expected="auto or a number from 0 to 1",
                received=self.min_accuracy,
            )
        return self


class RunSpec(_Section):
    """A whole validated run file.

    ``space`` holds the raw ``space:`` mapping, checked on construction (unknown dimensions,
    values, conditions, start_with, sampler fit); ``autotune.spec.space_of`` gives the parsed
    ``autotune.space.Space``. Build one from YAML with ``load_run_file`` (errors with lines).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, arbitrary_types_allowed=True
    )

    study: str | None = Field(default=None, min_length=1, pattern=STUDY_NAME.pattern)
    seed: int = 0
    data: DataSpec
    model: str = "auto"
    """``auto``, ``mlp``, ``cnn``, or an import path (``mypkg.models:build``) naming a model
    builder or a KerasTuner HyperModel."""
    custom_objective: str | None = None
    """An import path (``mypkg.objectives:fn``) of an objective that trains each trial."""
    space: dict[str, Any] = Field(default_factory=dict)
    train: TrainSpec = Field(default_factory=TrainSpec)
    search: SearchSpec = Field(default_factory=SearchSpec)
    rank: RankSpec = Field(default_factory=RankSpec)
    storage: str | None = None

    _file: Path | None = PrivateAttr(default=None)
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> Path | None:
        """The run file this spec was read from (None when built in code)."""
        return self._file

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        if value not in MODELS and not is_import_path(value):
            raise Problem(
                (),
                expected="one of auto, mlp, cnn, or an import path like mypkg.models:build",
                received=value,
                hint=closest(value, MODELS),
            )
        return value

    @field_validator("custom_objective")
    @classmethod
    def _objective(cls, value: str | None) -> str | None:
        if value is not None:
            check_import_path(value, what="a custom objective")
        return value

    @model_validator(mode="after")
    def _check(self) -> RunSpec:
        parsed = parse_space(self.space, custom=names_code(self))
        if self.data.dataset == "csv":
            if self.model == "cnn":
                raise Problem(
                    ("model",),
                    expected="auto or mlp for a csv data set (a cnn needs images)",
                    received=self.model,
                )
            for op in sorted(IMAGE_ONLY_OPS & parsed.dims.keys(), key=str):
                if can_take(parsed.dims[op], True):
                    raise Problem(
                        ("space", *parsed.paths[op]),
                        expected="ops that work on table rows (noise) for a csv data set",
                        received=op,
                        hint=f"{op} needs images; remove it",
                    )
        if self.train.steps_per_execution is not None and "steps_per_execution" in parsed.dims:
            raise Problem(
                ("train", "steps_per_execution"),
                expected="steps_per_execution given once, under space:",
                received=Described("both train.steps_per_execution and space.steps_per_execution"),
                hint="steps_per_execution is a dimension now; remove it from train:",
            )
        check_search(self.search, parsed)
        if self.train.processes_per_trial > 1 and self.custom_objective is not None:
            raise Problem(
                ("train", "processes_per_trial"),
                expected=f"1 with custom_objective: {self.custom_objective} (a group trains "
                "with autotune's own distributed step: model auto, mlp, cnn or a model builder)",
                received=self.train.processes_per_trial,
                hint="Keras 3's model.fit cannot train under MultiWorkerMirroredStrategy",
            )
        return self

    def line_of(self, *path: str | int) -> int | None:
        """The line of a key path in the run file, or of its nearest parent."""
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return None

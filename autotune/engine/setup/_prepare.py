"""What a run needs before anything is created: what its trials are made of, devices, sampler,
pruner, and the ``TrialSetup`` its trials share (in this process or in a worker). One
:func:`prepare` serves run files and the Python API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna

from autotune.data import DataError, load_dataset
from autotune.engine.study._study import make_pruner, make_sampler
from autotune.engine.trial._base import BestFile, TrialBody, TrialSetup
from autotune.engine.trial._code import code_of
from autotune.models import choose_family
from autotune.space import IMAGE_ONLY_OPS, Choice, Fixed, Space
from autotune.spec import RunSpec, SpecError, fixed_run_file, space_of
from autotune.spec._errors import Described, dotted
from autotune.spec._paths import DATA_EXPECTED
from autotune.train import CompiledModels, resolve_devices

if TYPE_CHECKING:
    from autotune.data import Dataset


@dataclass(frozen=True)
class Given:
    """What a run's trials are made of: the space, the data, and the code that trains.

    A run file's is read from the file (:func:`given_by_run_file`); the Python API
    (``autotune.tune``) makes its own in the caller's process from Python objects: ``body`` runs
    each trial instead of the built-in trainer (see ``TrialBody``), ``objectives`` names the
    metrics and directions told to Optuna, ``document`` replaces entries of the run-file
    document stored on the study (what in-memory data or a Python model was), and
    ``best_file`` writes ``best.yaml``. A run given one runs its trials in the caller's process:
    its callables and in-memory arrays are not sent to worker processes.
    """

    space: Space
    dataset: Dataset | None
    family: str
    body: TrialBody | None = None
    objectives: tuple[tuple[str, str], ...] | None = None
    document: Mapping[str, Any] = field(default_factory=dict)
    best_file: BestFile = fixed_run_file


@dataclass(frozen=True)
class Prepared:
    """What a run needs, made before anything is created on disk: what its trials are made of
    (``Given``), the devices, and the study's sampler and pruner."""

    space: Space
    dataset: Dataset | None
    family: str
    devices: tuple[str, ...]
    sampler: optuna.samplers.BaseSampler
    pruner: optuna.pruners.BasePruner
    body: TrialBody | None = None
    objectives: tuple[tuple[str, str], ...] | None = None
    document: Mapping[str, Any] = field(default_factory=dict)
    best_file: BestFile = fixed_run_file


def prepare(
    spec: RunSpec,
    *,
    seed: int | None = None,
    sampler_seed: int | None = None,
    devices: tuple[str, ...] | None = None,
    parallel: bool = False,
    given: Given | None = None,
    data_cache: Path | None = None,
) -> Prepared:
    """Everything that can refuse a run before anything is created, for a run file and for the
    Python API alike: what the trials are made of (``given``, else read from the run file),
    devices, sampler and pruner, and ``start_with`` against the space.

    ``devices`` (a worker's own devices) replaces ``train.devices``; ``parallel`` prepares the
    sampler for several workers sharing the study; ``data_cache`` is where streamed data is
    cached unless the run file's ``data.cache_dir`` says otherwise.

    Raises:
        SpecError: the data cannot be had, the space does not fit the data, a device is not
            there, or an Optuna option value is refused.
    """
    seed = spec.seed if seed is None else seed
    sampler_seed = seed if sampler_seed is None else sampler_seed
    found = given_by_run_file(spec, seed=seed, data_cache=data_cache) if given is None else given
    try:
        devices = devices or resolve_devices(spec.train.devices)
    except ValueError as error:
        raise SpecError.at(
            spec, ("train", "devices"), expected="devices this machine has", received=str(error)
        ) from None
    try:
        sampler = make_sampler(spec, found.space, seed=sampler_seed, parallel=parallel)
    except (ValueError, TypeError) as error:
        raise SpecError.at(
            spec,
            ("search", "sampler_options"),
            expected=f"options the {spec.search.sampler} sampler accepts",
            received=Described(str(error)),
        ) from None
    try:
        pruner = make_pruner(spec)
    except (ValueError, TypeError) as error:
        raise SpecError.at(
            spec,
            ("search", "pruner_options"),
            expected=f"options the {spec.search.resolved_pruner} pruner accepts",
            received=Described(str(error)),
        ) from None
    _check_start_with(spec, found.space)
    return Prepared(
        found.space,
        found.dataset,
        found.family,
        devices,
        sampler,
        pruner,
        body=found.body,
        objectives=found.objectives,
        document=found.document,
        best_file=found.best_file,
    )


def given_by_run_file(spec: RunSpec, *, seed: int, data_cache: Path | None = None) -> Given:
    """What a run file's trials are made of: its data, its space, and its own code if it names
    any (``model: package.module:attr``, ``custom_objective``).

    Raises:
        SpecError: the data cannot be had, the code cannot be imported, or the space does not
            fit the data.
    """
    space = space_of(spec)
    try:
        dataset = load_dataset(spec.data, seed=seed, cache_root=data_cache)
    except DataError as error:
        raise SpecError.at(
            spec,
            error.key,
            expected=DATA_EXPECTED,
            received=Described(str(error).removeprefix(f"{dotted(error.key)}: ")),
        ) from None
    code = code_of(spec, space, dataset)
    try:
        family = "custom" if code is not None else choose_family(spec.model, image=dataset.image)
    except ValueError as error:
        raise SpecError.at(
            spec, ("model",), expected="mlp for flat data", received=str(error)
        ) from None
    if not dataset.image:
        for op in sorted(IMAGE_ONLY_OPS):
            if _can_be_true(space.get(op)):
                raise SpecError.at(
                    spec,
                    ("space", "augmentation"),
                    expected="augmentation ops that fit flat data (noise)",
                    received=Described(
                        f"{op}, an image op, for flat data of shape {dataset.input_shape}"
                    ),
                )
    if code is None:
        return Given(space, dataset, family)
    return Given(code.space, dataset, family, body=code.body, best_file=code.best_file)


def _check_start_with(spec: RunSpec, space: Space) -> None:
    """``start_with`` names searched dimensions of the space the trials are made of (a run
    file's is checked with the file; a HyperModel's or the Python API's only here)."""
    searched = space.searched()
    for index, params in enumerate(spec.search.start_with):
        for key in params:
            if key not in searched:
                raise SpecError.at(
                    spec,
                    ("search", "start_with", index, key),
                    expected="a searched dimension of the space: " + ", ".join(searched),
                    received=Described(f"{key!r}"),
                )


def _can_be_true(dim: Any) -> bool:
    if isinstance(dim, Fixed):
        return bool(dim.value)
    if isinstance(dim, Choice):
        return True in dim.choices
    return False


def trial_setup(
    spec: RunSpec, prepared: Prepared, *, devices: tuple[str, ...], seed: int
) -> TrialSetup:
    """The ``TrialSetup`` every trial of this process shares, with its own compiled-model
    cache unless ``train.reuse_compiled`` is off."""
    return TrialSetup(
        space=prepared.space,
        dataset=prepared.dataset,
        family=prepared.family,
        epochs=spec.train.epochs,
        devices=devices,
        seed=seed if spec.train.trial_seed is None else spec.train.trial_seed,
        objective=spec.search.objective,
        probe=spec.train.probe,
        steps_per_execution=spec.train.steps_per_execution,
        scale_lr_with_batch=spec.train.scale_lr_with_batch,
        lr_reference_batch=spec.train.lr_reference_batch,
        body=prepared.body,
        compiled=CompiledModels() if spec.train.reuse_compiled else None,
    )

"""What a run needs before anything is created: data, model family, devices, sampler, pruner,
and the ``TrialSetup`` its trials share (in this process or in a worker)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import optuna

from autotune.data import DataError, load_dataset
from autotune.engine._code import code_of
from autotune.engine._objective import TrialBody, TrialSetup
from autotune.engine._study import make_pruner, make_sampler
from autotune.models import choose_family
from autotune.space import IMAGE_ONLY_OPS, Choice, Fixed, Space
from autotune.spec import RunSpec, SpecError, fixed_run_file, space_of
from autotune.spec._errors import Described, dotted
from autotune.spec._paths import DATA_EXPECTED
from autotune.train import CompiledModels, resolve_devices

if TYPE_CHECKING:
    from autotune.data import Dataset


class BestFile(Protocol):
    """``best_file(spec, config, study=..., trial_seed=...) -> the text of best.yaml``
    (``fixed_run_file``)."""

    def __call__(
        self,
        spec: RunSpec,
        config: Mapping[str, object],
        *,
        study: str,
        trial_seed: int | None = None,
    ) -> str: ...


@dataclass(frozen=True)
class Prepared:
    """What a run needs, made before anything is created on disk.

    The Python API (``autotune.tune``) makes its own: ``body`` runs each trial instead of the
    built-in trainer (see ``TrialBody``), ``objectives`` names the metrics and directions told
    to Optuna, ``document`` replaces entries of the run-file document stored on the study
    (what in-memory data or a Python model was), and ``best_file`` writes ``best.yaml``.
    """

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
) -> Prepared:
    """Everything that can refuse a run before anything is created: data, model family, ops,
    devices, sampler and pruner.

    ``devices`` (a worker's own devices) replaces ``train.devices``; ``parallel`` prepares the
    sampler for several workers sharing the study.

    Raises:
        SpecError: the data cannot be had, the space does not fit the data, a device is not
            there, or an Optuna option value is refused.
    """
    seed = spec.seed if seed is None else seed
    sampler_seed = seed if sampler_seed is None else sampler_seed
    space = space_of(spec)
    try:
        dataset = load_dataset(spec.data, seed=seed)
    except DataError as error:
        raise SpecError.at(
            spec,
            error.key,
            expected=DATA_EXPECTED,
            received=Described(str(error).removeprefix(f"{dotted(error.key)}: ")),
        ) from None
    code = code_of(spec, space, dataset)
    body = None if code is None else code.body
    space = space if code is None else code.space
    try:
        family = "custom" if code is not None else choose_family(spec.model, image=dataset.image)
    except ValueError as error:
        raise SpecError.at(
            spec, ("model",), expected="mlp for flat data", received=str(error)
        ) from None
    if not dataset.image:
        for op in sorted(IMAGE_ONLY_OPS):
            dim = space.get(op)
            if _can_be_true(dim):
                raise SpecError.at(
                    spec,
                    ("space", "augmentation"),
                    expected="augmentation ops that fit flat data (noise)",
                    received=Described(
                        f"{op}, an image op, for flat data of shape {dataset.input_shape}"
                    ),
                )
    try:
        devices = devices or resolve_devices(spec.train.devices)
    except ValueError as error:
        raise SpecError.at(
            spec, ("train", "devices"), expected="devices this machine has", received=str(error)
        ) from None
    try:
        sampler = make_sampler(spec, space, seed=sampler_seed, parallel=parallel)
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
    best_file = fixed_run_file if code is None else code.best_file
    return Prepared(
        space, dataset, family, devices, sampler, pruner, body=body, best_file=best_file
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

"""Run files that name Python code: the trial body that runs ``model:``/``custom_objective:``.

The code is imported and checked by ``autotune.spec._code``, the same functions that
``autotune validate`` calls. Because a run file names code by import path, a worker process
can import the same code again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from autotune.engine.trial._bodies import Custom, builder_body, hypermodel_body, objective_body
from autotune.space import Fixed, Space, Value
from autotune.spec import RunSpec, SpecError, fixed_run_file, load_run_mapping
from autotune.spec._code import is_hypermodel, load_model, load_objective
from autotune.spec._errors import Described

if TYPE_CHECKING:
    from autotune.data import Dataset
    from autotune.engine.trial._base import BestFile, TrialBody

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Code:
    """What a run file's own code changes in a run: the body, and a HyperModel's space."""

    body: TrialBody
    space: Space
    best_file: BestFile = fixed_run_file


def code_of(spec: RunSpec, space: Space, dataset: Dataset) -> Code | None:
    """The trial body for a run file's ``custom_objective`` or ``model: package.module:attr``.

    Returns None for a run file without code of its own.

    Raises:
        SpecError: the code cannot be imported or is not an objective, a model builder or a
            KerasTuner HyperModel.
    """
    pruning = spec.search.resolved_pruner != "none" and spec.search.objective != "pareto"
    custom = Custom(
        metric="accuracy",
        names=("accuracy",),
        prune=pruning,
        train=(dataset.x_train, dataset.y_train),
        validation=(dataset.x_val, dataset.y_val),
        train_examples=len(dataset.x_train),
        tell_values=False,
        stop_overrun=True,  # autotune owns this process (the CLI's, or a worker's)
    )
    objective = load_objective(spec)
    if objective is not None:
        return Code(objective_body(objective, custom), space)
    found = load_model(spec)
    if found is None:
        return None
    if is_hypermodel(found):
        from autotune.space._keras_tuner import discover_space

        found_space = discover_space(found.build, found.declare_hyperparameters)
        pinned = _pinned(spec, found_space)
        found_space = Space({**dict(found_space), **{k: Fixed(v) for k, v in pinned.items()}})
        fit = {"epochs": spec.train.epochs}
        body = hypermodel_body(found, custom, fit, pinned=pinned)
        return Code(body, found_space, best_file=_hypermodel_best_file)
    return Code(builder_body(found), space)


def _pinned(spec: RunSpec, declared: Space) -> dict[str, Value]:
    """The hyperparameters a HyperModel's run file fixes in ``space:`` (values only)."""
    pinned: dict[str, Value] = {}
    for name, raw in spec.space.items():
        if name not in declared:
            raise SpecError.at(
                spec,
                ("space", name),
                expected="a hyperparameter the HyperModel declares: " + ", ".join(declared),
                received=Described(repr(name)),
            )
        if isinstance(raw, list | dict):
            raise SpecError.at(
                spec,
                ("space", name),
                expected="a fixed value: a HyperModel searches the values it declares",
                received=raw,
            )
        pinned[name] = raw
    return pinned


def _hypermodel_best_file(
    spec: RunSpec, config: Mapping[str, object], *, study: str, trial_seed: int | None = None
) -> str:
    """best.yaml of a HyperModel run: the run file with every hyperparameter fixed."""
    document = {
        "study": study,
        "seed": spec.seed,
        "data": spec.data.model_dump(mode="json", exclude_none=True),
        "model": spec.model,
        "space": dict(config),
        "train": with_trial_seed(spec.train.model_dump(mode="json"), trial_seed),
        "search": {"sampler": spec.search.sampler, "pruner": "none", "trials": 1},
        "rank": spec.rank.model_dump(mode="json", exclude_none=True),
    }
    load_run_mapping(document)
    return (
        f"# One configuration of study {spec.study}: the HyperModel's hyperparameters fixed.\n"
        "# Train it again with: autotune run <this file>\n"
        + yaml.safe_dump(document, sort_keys=False)
    )


def with_trial_seed(train: dict[str, Any], trial_seed: int | None) -> dict[str, Any]:
    """A run file's ``train:`` with the winning trial's seed, when it recorded one."""
    return train if trial_seed is None else {**train, "trial_seed": trial_seed}

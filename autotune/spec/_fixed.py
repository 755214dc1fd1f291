"""A run file with every dimension fixed: what ``best.yaml`` holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from autotune.space import AUGMENTATION_OPS, Fixed, Value
from autotune.spec._errors import SpecError
from autotune.spec._load import load_run_mapping
from autotune.spec._schema import RunSpec
from autotune.spec._space import space_of


def fixed_run_file(
    spec: RunSpec, config: Mapping[str, object], *, study: str, trial_seed: int | None = None
) -> str:
    """The YAML text of a run file that trains one configuration of ``spec``.

    Data, model, train and rank are kept; each dimension is fixed to its value in ``config``
    (fixed dimensions missing from ``config`` keep their value; conditional dimensions whose
    condition does not hold are left out); ``search`` runs one trial with the same sampler,
    pruner, objective and budget, without ``start_with``; ``storage`` is null.

    Args:
        spec: the run file the configuration came from.
        config: a value for each searched dimension, e.g. a TrialConfig.
        study: the ``study:`` name of the new run file.
        trial_seed: the seed the configuration's trial trained with, written as
            ``train.trial_seed`` so the one trial of the new file trains the same model (the
            data split still follows ``seed``). Defaults to None: ``spec``'s own.

    Raises:
        ValueError: ``config`` names a dimension the space does not have, lacks a searched
            dimension, or holds a value the run file cannot take.

    Example:
        >>> from autotune.spec import load_run_mapping
        >>> spec = load_run_mapping({"data": {"dataset": "digits"}, "space": {"width": [16, 32]}})
        >>> print(fixed_run_file(spec, {"width": 32}, study="best").splitlines()[2])
        study: best
    """
    space = space_of(spec)
    unknown = sorted(set(config) - set(space))
    if unknown:
        raise ValueError(f"expected dimensions of the space, got unknown {', '.join(unknown)}")
    values: dict[str, Value] = {}
    for name, dim in space.items():
        if not dim.active(values):
            continue
        if name in config:
            values[name] = config[name]  # type: ignore[assignment]
        elif isinstance(dim, Fixed):
            values[name] = dim.value
        else:
            raise ValueError(f"expected a value for the searched dimension {name}, got none")
    document = {
        "study": study,
        "seed": spec.seed,
        "data": spec.data.model_dump(mode="json", exclude_none=True),
        "model": spec.model,
        **({"custom_objective": spec.custom_objective} if spec.custom_objective else {}),
        "space": _space_section(values),
        "train": _train_section(spec, trial_seed),
        "search": _search_section(spec),
        "rank": spec.rank.model_dump(mode="json", exclude_none=True),
        "storage": None,
    }
    text = (
        f"# One configuration of study {spec.study}, every dimension fixed.\n"
        f"# Train it again with: autotune run <this file>\n"
        + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    )
    try:
        load_run_mapping(yaml.safe_load(text))
    except SpecError as exc:
        raise ValueError(f"the configuration does not make a valid run file: {exc}") from None
    return text


def _train_section(spec: RunSpec, trial_seed: int | None) -> dict[str, Any]:
    """``train:`` of a fixed run file: the spec's, with the trial's own seed when known."""
    out = spec.train.model_dump(mode="json", exclude={"steps_per_execution"})
    if trial_seed is not None:
        out["trial_seed"] = trial_seed
    return out


def _space_section(values: Mapping[str, Value]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    augmentation = {op: values[op] for op in AUGMENTATION_OPS if op in values}
    if "augment_strength" in values:
        augmentation["strength"] = values["augment_strength"]
    for name, value in values.items():
        if name in AUGMENTATION_OPS or name == "augment_strength":
            if augmentation and "augmentation" not in out:
                out["augmentation"] = augmentation
            continue
        out[name] = value
    return out


def _search_section(spec: RunSpec) -> dict[str, Any]:
    search = spec.search
    out: dict[str, Any] = {"sampler": search.sampler}
    if search.sampler_options:
        out["sampler_options"] = dict(search.sampler_options)
    if search.pruner is not None:
        out["pruner"] = search.pruner
    if search.pruner_options:
        out["pruner_options"] = dict(search.pruner_options)
    out["objective"] = search.objective
    out["trials"] = 1
    if search.budget is not None:
        out["budget"] = search.budget
    return out

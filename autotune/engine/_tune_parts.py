"""What ``tune`` turns its arguments into: a checked run spec, a checked space, best.yaml."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from autotune.engine._run import BestFile
from autotune.space import CATALOGUE, Space, check, defaults
from autotune.spec import RunSpec, SpecError, fixed_run_file, load_run_mapping
from autotune.spec._errors import Described

_PLACEHOLDER_DATA = {"dataset": "digits"}
"""Validates the other sections when the data are given in Python; replaced by None after."""


def spec_for(
    *,
    name: str,
    seed: int,
    data: Mapping[str, Any] | None,
    model: str,
    epochs: int | None,
    devices: Any,
    search: dict[str, Any],
    rank: dict[str, Any],
    start_with: Sequence[Mapping[str, Any]],
    multi: bool,
) -> RunSpec:
    """The run spec of a tune: every section checked as in a run file.

    ``data`` is None (on the spec too) when the data are given in Python rather than as a
    data section. ``start_with`` is checked against the space later, once it is known.

    Raises:
        SpecError: a value a run file could not hold (its key names the run-file key).
    """
    if multi and search.get("pruner") not in (None, "none"):
        raise SpecError(
            key="pruner",
            expected="pruner none with several objectives (directions=)",
            received=repr(search["pruner"]),
            hint="Optuna cannot prune multi-objective studies",
        )
    mapping: dict[str, Any] = {
        "study": name,
        "seed": seed,
        "data": dict(data) if data is not None else _PLACEHOLDER_DATA,
        "model": model,
        "train": {"epochs": 10 if epochs is None else epochs, "devices": _devices(devices)},
        "search": {k: v for k, v in search.items() if v is not None},
        "rank": rank,
    }
    spec = load_run_mapping(mapping)
    search_section = spec.search.model_copy(update={"start_with": [dict(s) for s in start_with]})
    update: dict[str, Any] = {"search": search_section}
    if data is None:
        update["data"] = None
    return spec.model_copy(update=update)


def _devices(devices: Any) -> Any:
    return list(devices) if isinstance(devices, tuple) else devices


def checked_space(target: Space | Mapping[str, Any], *, custom: bool, builder: bool) -> Space:
    """The space trials are drawn from.

    For the built-in trainer every dimension must be a built-in one (checked as in a run file)
    and the rest take their defaults; a model builder may add dimensions of its own; a custom
    objective's space is used as given.

    Raises:
        SpecError: a dimension that does not fit.
    """
    try:
        space = target if isinstance(target, Space) else Space(target)
    except ValueError as error:
        raise SpecError(
            key="space",
            expected="dimensions: Fixed, Choice, Int, Float, a plain value or a list",
            received=Described(str(error)),
        ) from None
    if custom:
        return space
    for name, dim in space.items():
        if name in CATALOGUE:
            try:
                check(name, dim)
            except ValueError as error:
                raise SpecError(
                    key=f"space.{name}",
                    expected=CATALOGUE[name].expected(),
                    received=Described(str(error).removeprefix("expected ")),
                ) from None
        elif not builder:
            raise SpecError(
                key=f"space.{name}",
                expected="a built-in dimension: " + ", ".join(CATALOGUE),
                received=Described(f"unknown dimension {name!r}"),
                hint="a custom objective= or a model= builder reads dimensions of its own",
            )
    return Space({**defaults(space), **dict(space)})


def best_file_for(document: Mapping[str, Any], *, runnable: bool) -> BestFile:
    """How a tune writes best.yaml: a runnable run file when the data are a data section and
    the trainer is the built-in one, else the same layout with notes on what lives in Python.
    """

    def write(spec: RunSpec, config: Mapping[str, object], *, study: str) -> str:
        if runnable:
            return fixed_run_file(spec, config, study=study)
        notes = [
            f"# One configuration of study {spec.study}, found with autotune.tune() in Python.",
        ]
        out: dict[str, Any] = {"study": study, "seed": spec.seed}
        if spec.data is not None:
            out["data"] = spec.data.model_dump(mode="json", exclude_none=True)
        else:
            notes.append(
                f"# data: given in Python {document.get('data')}; add a data: section to run "
                "this file with autotune run."
            )
        model = document.get("model", spec.model)
        out["model"] = spec.model
        if str(model).startswith("python:"):
            notes.append(f"# model: {model}, a Python object.")
        out["space"] = dict(config)
        out["train"] = spec.train.model_dump(mode="json")
        out["search"] = {"sampler": spec.search.sampler, "trials": 1}
        out["rank"] = spec.rank.model_dump(mode="json", exclude_none=True)
        return "\n".join(notes) + "\n" + yaml.safe_dump(out, sort_keys=False)

    return write

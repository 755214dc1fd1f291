"""What ``tune`` turns its arguments into: a checked run spec, the run's ``Prepared`` (data,
space, trial body, sampler, pruner) and how best.yaml is written."""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from autotune.data import DataError, load_dataset
from autotune.data._arrays import Arrays, dataset_of, split_arrays
from autotune.data.sources import default_cache_dir, load_tf_dataset
from autotune.engine.setup._prepare import Given
from autotune.engine.trial._base import BestFile
from autotune.engine.trial._bodies import Custom, builder_body, hypermodel_body, objective_body
from autotune.engine.trial._code import with_trial_seed
from autotune.models import choose_family
from autotune.space import CATALOGUE, Space, check, defaults
from autotune.spec import RunSpec, SpecError, fixed_run_file, load_run_mapping
from autotune.spec._errors import Described

if TYPE_CHECKING:
    from autotune.data import Dataset

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

    def write(
        spec: RunSpec, config: Mapping[str, object], *, study: str, trial_seed: int | None = None
    ) -> str:
        if runnable:
            return fixed_run_file(spec, config, study=study, trial_seed=trial_seed)
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
        out["train"] = with_trial_seed(spec.train.model_dump(mode="json"), trial_seed)
        out["search"] = {"sampler": spec.search.sampler, "trials": 1}
        out["rank"] = spec.rank.model_dump(mode="json", exclude_none=True)
        return "\n".join(notes) + "\n" + yaml.safe_dump(out, sort_keys=False)

    return write


def given_for_tune(
    spec: RunSpec,
    *,
    kind: str,
    target: Any,
    data: Any,
    validation: Any,
    objective: Any,
    model: Any,
    objectives: tuple[tuple[str, str], ...],
    fit_kwargs: Mapping[str, Any],
    seed: int,
    data_cache: Path | None = None,
) -> Given:
    """What a tune's trials are made of: data, space and the body (``setup.prepare`` adds the
    devices, sampler and pruner, as for a run file)."""
    dataset, arrays, document = _data(spec, kind, data, validation, seed, data_cache)
    if kind == "hypermodel":
        from autotune.space._keras_tuner import discover_space

        space = discover_space(target.build, target.declare_hyperparameters)
        _release()
    else:
        space = checked_space(target, custom=kind == "objective", builder=kind == "builder")
    family = "custom"
    if kind == "builtin" and dataset is not None:
        try:
            family = choose_family(spec.model, image=dataset.image)
        except ValueError as error:
            raise SpecError(
                key="model", expected="mlp for flat data", received=str(error)
            ) from None
    custom = Custom(
        metric=objectives[0][0] if len(objectives) == 1 else "accuracy",
        names=tuple(n for n, _ in objectives),
        prune=len(objectives) == 1 and spec.search.resolved_pruner != "none",
        train=None if arrays is None else _pair(arrays, "train"),
        validation=None if arrays is None else _pair(arrays, "validation"),
        train_examples=None if arrays is None else len(arrays.x_train),
    )
    if arrays is None and data is not None and not isinstance(data, Mapping):
        custom = Custom(custom.metric, custom.names, custom.prune, data, validation)
    body = None
    if kind == "objective":
        body = objective_body(objective, custom)
        document = {**document, "model": _describe(objective), "objective": _describe(objective)}
    elif kind == "hypermodel":
        body = hypermodel_body(target, custom, fit_kwargs)
        document = {**document, "model": _describe(target)}
    elif kind == "builder":
        body = builder_body(model)
        document = {**document, "model": _describe(model)}
    return Given(
        space=space,
        dataset=dataset,
        family=family,
        body=body,
        objectives=None if kind in ("builtin", "builder") else objectives,
        document=document,
        best_file=best_file_for(document, runnable=kind == "builtin" and spec.data is not None),
    )


def _data(
    spec: RunSpec, kind: str, data: Any, validation: Any, seed: int, data_cache: Path | None
) -> tuple[Dataset | None, Arrays | None, dict[str, Any]]:
    """The built-in trainer's Dataset and the custom bodies' arrays, and how to describe them."""
    needs_data = kind in ("builtin", "builder", "hypermodel")
    if data is None:
        if needs_data:
            raise SpecError(
                key="data",
                expected="(x, y) arrays, a tf.data.Dataset or a data section",
                received=Described("no data"),
                hint="pass data=(x_train, y_train)",
            )
        return None, None, {}
    if spec.data is not None and validation is not None:
        raise SpecError(
            key="validation",
            expected="no validation= with a data section (it draws validation itself)",
            received=Described("validation data"),
            hint="use validation_size or validation_split in the data section",
        )
    try:
        if spec.data is not None:
            loaded = load_dataset(spec.data, seed=seed, cache_root=data_cache)
            arrays = Arrays(loaded.x_train, loaded.y_train, loaded.x_val, loaded.y_val)
            return loaded, arrays, {}
        if kind != "builtin" and kind != "builder" and validation is not None and _is_tf(data):
            return None, None, {"data": {"tf.data": str(data.element_spec)}}
        if (
            kind in ("builtin", "builder")
            and _is_tf(data)
            and (validation is None or _is_tf(validation))
        ):
            # written once under the cache folder, split, and kept in memory or streamed
            root = data_cache or default_cache_dir(Path("results"))
            dataset = load_tf_dataset(data, validation, seed=seed, cache_root=root)
            return dataset, None, {"data": {"tf.data": str(data.element_spec), **dataset.source}}
        arrays = split_arrays(data, validation, seed=seed)
        dataset = dataset_of(arrays) if kind in ("builtin", "builder") else None
        return dataset, arrays, {"data": arrays.fingerprint()}
    except DataError as error:
        raise SpecError(
            key=".".join(error.key),
            expected="data autotune can train on",
            received=Described(str(error)),
        ) from None


BUILT_IN_DATA = ("digits", "mnist", "fashion_mnist", "cifar10")


def section_of_path(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The data section a path given as ``data=`` stands for: a folder of ``.npy`` arrays
    (``x_train.npy`` or ``x.npy``), an image folder, or an ``.npz`` file; the name of a
    built-in data set (``"digits"``) stands for that data set.

    Raises:
        SpecError: the path is none of these (a csv or TFRecord source needs its keys: give
            the data section itself).

    Example:
        >>> section_of_path("data/fashion.npz")
        {'dataset': 'npz', 'path': 'data/fashion.npz'}
        >>> section_of_path("digits")
        {'dataset': 'digits'}
    """
    if str(path) in BUILT_IN_DATA:
        return {"dataset": str(path)}
    where = Path(path).expanduser()
    if where.is_dir():
        arrays = any((where / f"{x}.npy").is_file() for x in ("x_train", "x"))
        return {"dataset": "npy" if arrays else "image_dir", "path": str(path)}
    if where.suffix == ".npz":
        return {"dataset": "npz", "path": str(path)}
    raise SpecError(
        key="data",
        expected="an image folder, a folder of .npy arrays or an .npz file; for csv or "
        "TFRecord files a data section such as {'dataset': 'csv', 'path': ..., 'target': ...}",
        received=Described(f"{path} ({'missing' if not where.exists() else 'a file'})"),
    )


def _is_tf(data: Any) -> bool:
    return type(data).__module__.startswith("tensorflow")


def _pair(arrays: Arrays, which: str) -> tuple[Any, Any]:
    if which == "train":
        return arrays.x_train, arrays.y_train
    return arrays.x_val, arrays.y_val


def _describe(thing: Any) -> str:
    kind = thing if inspect.isfunction(thing) or inspect.isclass(thing) else type(thing)
    return f"python:{kind.__module__}.{kind.__qualname__}"


def _release() -> None:
    import keras

    keras.backend.clear_session()

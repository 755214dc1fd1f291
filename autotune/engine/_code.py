"""Run files that name Python code: import ``model:``/``custom_objective:`` by path and make the
trial body that runs it.

The object is imported from the module the run file names (``importlib.import_module`` then
attribute access); no string is ever evaluated. Because a run file names code by import path,
a worker process can import the same code again.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from autotune.engine._bodies import Custom, builder_body, hypermodel_body, objective_body
from autotune.space import Fixed, Space, Value
from autotune.spec import RunSpec, SpecError, fixed_run_file, load_run_mapping
from autotune.spec._custom import is_import_path
from autotune.spec._errors import Described

if TYPE_CHECKING:
    from autotune.data import Dataset
    from autotune.engine._objective import TrialBody
    from autotune.engine._prepare import BestFile

logger = logging.getLogger(__name__)


def load_object(path: str) -> Any:
    """The object an import path ``package.module:attribute`` names.

    Raises:
        ImportError: the module cannot be imported.
        AttributeError: the module has no such attribute.

    Example:
        >>> load_object("autotune.space:Int")
        <class 'autotune.space._dimensions.Int'>
    """
    module_name, _, attribute = path.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found


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
    )
    if spec.custom_objective:
        function = _load(spec, ("custom_objective",), spec.custom_objective)
        if not callable(function):
            raise _not(spec, ("custom_objective",), "a function objective(config, ctx)", function)
        return Code(objective_body(function, custom), space)
    if not is_import_path(spec.model):
        return None
    found = _load(spec, ("model",), spec.model)
    hypermodel = _hypermodel(found)
    if hypermodel is not None:
        from autotune.space._keras_tuner import discover_space

        found_space = discover_space(hypermodel.build, hypermodel.declare_hyperparameters)
        pinned = _pinned(spec, found_space)
        found_space = Space({**dict(found_space), **{k: Fixed(v) for k, v in pinned.items()}})
        fit = {"epochs": spec.train.epochs}
        body = hypermodel_body(hypermodel, custom, fit, pinned=pinned)
        return Code(body, found_space, best_file=_hypermodel_best_file)
    if inspect.isfunction(found):
        return Code(builder_body(found), space)
    raise _not(spec, ("model",), "a function build(config) or a KerasTuner HyperModel", found)


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


def _hypermodel(found: Any) -> Any:
    import sys

    kt = sys.modules.get("keras_tuner")
    if kt is None:
        return None
    if inspect.isclass(found) and issubclass(found, kt.HyperModel):
        return found()
    return found if isinstance(found, kt.HyperModel) else None


def _load(spec: RunSpec, key: tuple[str, ...], path: str) -> Any:
    try:
        return load_object(path)
    except ImportError as error:
        hint = ""
        if getattr(error, "name", "") == "keras_tuner":
            hint = "pip install 'autotune[keras-tuner]'"
        raise SpecError.at(
            spec,
            key,
            expected="an importable module (is its folder on PYTHONPATH?)",
            received=Described(f"{path}: {type(error).__name__}: {error}"),
            hint=hint,
        ) from None
    except AttributeError:
        module, _, attribute = path.partition(":")
        raise SpecError.at(
            spec,
            key,
            expected=f"an attribute of module {module}",
            received=Described(f"{path}: no attribute {attribute!r}"),
        ) from None
    except Exception as error:  # the user's module raised while importing
        raise SpecError.at(
            spec,
            key,
            expected="a module that imports without error",
            received=Described(f"{path}: {type(error).__name__}: {error}"),
        ) from None


def _not(spec: RunSpec, key: tuple[str, ...], expected: str, found: Any) -> SpecError:
    return SpecError.at(
        spec, key, expected=expected, received=Described(f"a {type(found).__name__}")
    )


def with_trial_seed(train: dict[str, Any], trial_seed: int | None) -> dict[str, Any]:
    """A run file's ``train:`` with the winning trial's seed, when it recorded one."""
    return train if trial_seed is None else {**train, "trial_seed": trial_seed}

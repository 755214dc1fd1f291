"""The ``search:`` section against Optuna: sampler and pruner classes, their options, start_with."""

from __future__ import annotations

import importlib.util
import inspect
from typing import TYPE_CHECKING, Any

from autotune.spec._errors import Described, KeyPath, Problem, closest
from autotune.spec._space import ParsedSpace
from autotune.spec._values import can_take, summary

if TYPE_CHECKING:
    import optuna

    from autotune.spec._schema import SearchSpec

_SAMPLERS = {
    "tpe": "TPESampler",
    "random": "RandomSampler",
    "grid": "GridSampler",
    "cmaes": "CmaEsSampler",
    "gp": "GPSampler",
    "nsga2": "NSGAIISampler",
}
_PRUNERS = {
    "asha": "TimeASHAPruner",
    "hyperband": "HyperbandPruner",
    "successive_halving": "SuccessiveHalvingPruner",
    "median": "MedianPruner",
    "none": "NopPruner",
}
_SET_BY_AUTOTUNE = {
    "seed": "autotune sets it from the run file's seed:",
    "search_space": "autotune builds it from space:",
}
_PYTHON_ONLY = frozenset(
    {
        "constraints_func",
        "independent_sampler",
        "mutation",
        "crossover",
        "elite_population_selection_strategy",
        "child_generation_strategy",
        "after_trial_strategy",
        "source_trials",
        "gamma",
        "weights",
    }
)
_EXTRAS = {"gp": ("torch", "pip install 'autotune[gp]'"), "cmaes": ("cmaes", "pip install cmaes")}


def sampler_class(name: str) -> type[optuna.samplers.BaseSampler]:
    """The Optuna sampler class for a run file's ``search.sampler``.

    Example:
        >>> sampler_class("tpe").__name__
        'TPESampler'
    """
    import optuna

    if name not in _SAMPLERS:
        raise ValueError(f"expected a sampler: one of {', '.join(_SAMPLERS)}, got {name!r}")
    cls: type[optuna.samplers.BaseSampler] = getattr(optuna.samplers, _SAMPLERS[name])
    return cls


def pruner_class(name: str) -> type[optuna.pruners.BasePruner]:
    """The Optuna pruner class for a run file's ``search.pruner``.

    Example:
        >>> pruner_class("none").__name__, pruner_class("asha").__name__
        ('NopPruner', 'TimeASHAPruner')
    """
    import optuna

    if name not in _PRUNERS:
        raise ValueError(f"expected a pruner: one of {', '.join(_PRUNERS)}, got {name!r}")
    if name == "asha":
        from autotune.pruners import TimeASHAPruner

        return TimeASHAPruner
    cls: type[optuna.pruners.BasePruner] = getattr(optuna.pruners, _PRUNERS[name])
    return cls


def settable_options(cls: type) -> list[str]:
    """The ``__init__`` keywords of an Optuna class that a run file may set."""
    return [
        name
        for name, parameter in inspect.signature(cls).parameters.items()
        if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        and name not in _SET_BY_AUTOTUNE
        and name not in _PYTHON_ONLY
    ]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: sys.modules[module] is None
        return False


def check_search(search: SearchSpec, parsed: ParsedSpace) -> None:
    """Raise Problem (path from the run file's root) if ``search`` cannot run on this space."""
    here: KeyPath = ("search",)
    if search.sampler in _EXTRAS:
        module, command = _EXTRAS[search.sampler]
        if not _installed(module):
            raise Problem(
                (*here, "sampler"),
                expected=f"a sampler that is installed ({search.sampler} needs {module})",
                received=search.sampler,
                hint=command,
            )
    if search.objective == "pareto" and search.sampler == "cmaes":
        raise Problem(
            (*here, "sampler"),
            expected="a sampler for objective pareto: nsga2, tpe, random, grid or gp",
            hint="CMA-ES optimizes a single objective",
            received=search.sampler,
        )
    if search.pruner_options and search.resolved_pruner == "none":
        raise Problem(
            (*here, "pruner_options"),
            expected="no pruner_options when nothing prunes",
            received=search.pruner_options,
            hint="objective pareto and pruner: none turn pruning off",
        )
    _check_options(
        search.sampler_options, sampler_class(search.sampler), (*here, "sampler_options")
    )
    _check_options(
        search.pruner_options, pruner_class(search.resolved_pruner), (*here, "pruner_options")
    )
    if search.sampler == "grid":
        for name, dim in parsed.dims.items():
            if dim.grid_values() is None:
                raise Problem(
                    ("space", *parsed.paths[name]),
                    expected="a list or a range with step: the grid sampler enumerates every value",
                    received=Described(f"a continuous range ({summary(dim)})"),
                    hint="add a step, list the values, or use sampler: tpe",
                )
    _check_start_with(search.start_with, parsed)


def _check_options(options: dict[str, Any], cls: type, path: KeyPath) -> None:
    accepted = settable_options(cls)
    for key in options:
        if key in _SET_BY_AUTOTUNE:
            raise Problem(
                (*path, key),
                expected="an option autotune does not set itself",
                received=key,
                hint=_SET_BY_AUTOTUNE[key],
            )
        if key not in accepted:
            names = ", ".join(accepted) or "none"
            raise Problem(
                (*path, key),
                expected=f"an option of {cls.__module__.split('.')[0]} {cls.__name__}: {names}",
                received=Described(f"unknown option {key!r}"),
                hint=closest(key, accepted),
            )


def _check_start_with(start_with: list[dict[str, Any]], parsed: ParsedSpace) -> None:
    full = parsed.full()
    for index, point in enumerate(start_with):
        base: KeyPath = ("search", "start_with", index)
        for key, value in point.items():
            if key not in full:
                hint = closest(key, full)
                if key == "augmentation" or key == "strength":
                    hint = "name the dimensions: flip, ..., augment_strength"
                raise Problem(
                    (*base, key),
                    expected="the name of a dimension: " + ", ".join(full),
                    received=Described(f"unknown dimension {key!r}"),
                    hint=hint,
                )
            if not can_take(full[key], value):
                fixed = "" if key in parsed.dims else f" (its default; add {key} to space)"
                raise Problem(
                    (*base, key),
                    expected=f"a value {key} can take: {summary(full[key])}{fixed}",
                    received=value,
                )

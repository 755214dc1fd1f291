"""The KerasTuner bridge: a HyperModel's ``HyperParameters`` whose values an Optuna trial draws.

KerasTuner declares its search space while a model is built (``hp.Int(...)`` inside
``build(hp)``), as Optuna does. ``hyperparameters_for(trial)`` returns a real
``keras_tuner.HyperParameters`` in which every newly declared, active hyperparameter takes its
value from ``trial`` instead of its default; everything else (conditional scopes,
``parent_name``/``parent_values``, ``Fixed``, ``hp.get``, ``hp.values``) is KerasTuner's own
code. Each hyperparameter maps to one autotune dimension with the same name and the same set of
values (``dimension_of``); where Optuna has no distribution with those values (an ``Int`` or
``Float`` with a ``step`` and log sampling) the values become an explicit ``Choice``.

keras-tuner is an optional dependency (``pip install 'autotune[keras-tuner]'``); this module is
imported only when a HyperModel is tuned.
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from autotune._private._keras_tuner import stepped_values
from autotune.space._dimensions import Choice, Dimension, Fixed, Float, Int, Value
from autotune.space._space import Space

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'autotune[keras-tuner]' (or pip install keras-tuner)"
MAX_DISCOVERY_BUILDS = 32
"""Builds ``discover_space`` makes at most while opening every conditional scope."""


def keras_tuner_module() -> Any:
    """The ``keras_tuner`` module, or an ImportError saying how to install it."""
    try:
        import keras_tuner
    except ImportError as error:
        raise ImportError(
            f"tuning a KerasTuner HyperModel needs keras-tuner: {INSTALL_HINT}"
        ) from (error)
    return keras_tuner


def dimension_of(hp: Any) -> Dimension:
    """The autotune dimension that draws the same values as a KerasTuner hyperparameter.

    ``Int``/``Float`` keep their range, ``step`` and log sampling where Optuna has the same
    distribution; with a ``step`` and ``log``/``reverse_log`` sampling (KerasTuner multiplies by
    the step) the values become a ``Choice``; ``reverse_log`` without a step keeps the range on a
    linear scale (same values, different density). ``Boolean`` is ``Choice([False, True])``.
    Conditions (``parent_name``/``parent_values``, conditional scopes) become ``when``.

    Example:
        >>> import keras_tuner as kt
        >>> hp = kt.HyperParameters()
        >>> _ = hp.Int("units", 32, 512, step=32)
        >>> _ = hp.Int("batch", 16, 128, step=2, sampling="log")
        >>> dimension_of(hp.space[0]).to_json()
        {'int': [32, 512], 'step': 32, 'log': False}
        >>> dimension_of(hp.space[1]).choices
        (16, 32, 64, 128)
    """
    kind = type(hp).__name__
    when = when_of(hp.conditions)
    if kind == "Fixed":
        return Fixed(_plain(hp.value), when=when)
    if kind == "Boolean":
        return Choice([False, True], when=when)
    if kind == "Choice":
        return Choice([_plain(v) for v in hp.values], when=when)
    if kind not in ("Int", "Float"):
        raise TypeError(f"unknown KerasTuner hyperparameter type {kind} ({hp.name})")
    sampling = hp.sampling or "linear"
    step = hp.step
    if step is not None and sampling != "linear":
        values = stepped_values(hp)
        cast: Callable[[Any], Value] = int if kind == "Int" else float
        return Choice(sorted({cast(v) for v in values}), when=when)  # type: ignore[type-var]
    log = sampling == "log"
    if kind == "Int":
        return Int(int(hp.min_value), int(hp.max_value), step=int(step or 1), log=log, when=when)
    return Float(
        float(hp.min_value),
        float(hp.max_value),
        step=None if step is None else float(step),
        log=log,
        when=when,
    )


def when_of(conditions: Any) -> dict[str, list[Value]]:
    """KerasTuner ``Parent`` conditions as an autotune ``when`` mapping (all must hold)."""
    when: dict[str, list[Value]] = {}
    for condition in conditions or ():
        values = [_plain(v) for v in condition.values]
        if condition.name in when:  # nested scopes on one parent: both must hold
            values = [v for v in when[condition.name] if v in values]
        when[condition.name] = values
    return when


def _plain(value: Any) -> Value:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    # numpy scalars and other number-likes a HyperModel may pass
    item = getattr(value, "item", None)
    if callable(item):
        plain = item()
        if isinstance(plain, bool | int | float | str):
            return plain
    raise TypeError(f"expected a plain value (bool, int, float, str, None), got {value!r}")


def hyperparameters_for(
    trial: optuna.Trial | None, *, pinned: Mapping[str, Value] | None = None
) -> Any:
    """A ``keras_tuner.HyperParameters`` whose new active hyperparameters ``trial`` draws.

    With ``trial=None`` it is KerasTuner's own (every value its default). ``pinned`` values
    are used as they are, never drawn (as KerasTuner's ``Fixed``).

    Example:
        >>> import optuna
        >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
        >>> trial = study.ask()
        >>> hp = hyperparameters_for(trial)
        >>> kind = hp.Choice("model_type", ["mlp", "cnn"])
        >>> with hp.conditional_scope("model_type", ["mlp"]):
        ...     units = hp.Int("units", 8, 64, step=8)
        >>> (units is None) == (kind == "cnn"), sorted(trial.params) == sorted(hp.values)
        (True, True)
    """
    hp = _bridge_class()(trial)
    hp.values.update(pinned or {})
    return hp


@functools.cache
def _bridge_class() -> type:
    kt = keras_tuner_module()

    class OptunaHyperParameters(kt.HyperParameters):  # type: ignore[name-defined]
        """KerasTuner's HyperParameters; an Optuna trial supplies each new active value."""

        def __init__(self, trial: optuna.Trial | None = None) -> None:
            super().__init__()
            self._trial = trial

        def _retrieve(self, hp: Any) -> Any:
            known = self._exists(hp.name, hp.conditions)
            if (
                not known
                and self._trial is not None
                and hp.name not in self.values
                and self.is_active(hp)
                and type(hp).__name__ != "Fixed"
            ):
                self.values[hp.name] = dimension_of(hp).suggest(self._trial, hp.name)
            return super()._retrieve(hp)

        def copy(self) -> Any:
            # KerasTuner copies through get_config; keep the copy a plain HyperParameters.
            return kt.HyperParameters.from_config(self.get_config())

    return OptunaHyperParameters


def discover_space(build: Callable[[Any], Any], declare: Callable[[Any], Any] | None) -> Space:
    """The search space a HyperModel declares, found as KerasTuner finds it.

    ``build(hp)`` runs with default values, then again with values that open each
    conditional scope not yet opened, as ``keras_tuner.Tuner`` does before its first trial.
    A build that raises ends the discovery with what was found so far (the trial that meets
    the same values fails on its own).

    Args:
        build: the HyperModel's ``build``.
        declare: its ``declare_hyperparameters``, or None.

    Returns:
        One dimension per hyperparameter name, in the order first declared.
    """
    kt = keras_tuner_module()
    hp = kt.HyperParameters()
    if declare is not None:
        declare(hp)
    never_active: list[Any] = []
    once_active: list[Any] = []
    for _ in range(MAX_DISCOVERY_BUILDS):
        try:
            build(hp)
        except Exception as error:
            logger.warning("building the HyperModel to find its space failed: %s", error)
            break
        for scope in hp.active_scopes:
            if scope not in once_active:
                once_active.append(copy.deepcopy(scope))
            if scope in never_active:
                never_active.remove(scope)
        for scope in hp.inactive_scopes:
            if scope not in once_active and scope not in never_active:
                never_active.append(copy.deepcopy(scope))
        if not never_active:
            break
        values = dict(hp.values)
        for condition in never_active.pop(0):
            values[condition.name] = condition.values[0]
        space = hp.space
        hp = kt.HyperParameters()
        hp.merge(space)
        hp.values = values
        hp.ensure_active_values()
    return space_of_hyperparameters(hp.space)


def space_of_hyperparameters(space: list[Any]) -> Space:
    """An autotune Space of KerasTuner hyperparameters (the first of two with one name wins)."""
    dims: dict[str, Dimension] = {}
    for hp in space:
        if hp.name in dims:
            continue
        dims[hp.name] = dimension_of(hp)
    names = set(dims)
    for name, dim in list(dims.items()):
        missing = [n for n in dim.depends_on() if n not in names]
        if missing:
            logger.warning("%s: its condition names %s, not declared; dropped", name, missing)
            del dims[name]
    return Space(dims)


def values_of(hp: Any) -> Mapping[str, Value]:
    """The active values of a HyperParameters, as plain JSON values."""
    return {name: _plain(value) for name, value in hp.values.items()}

"""``tune``: the Python API. Tunes a Space, a custom objective or a KerasTuner HyperModel on the
engine the command line uses (study, sampler, pruner, budget, failure isolation, ranking,
results files), with trials running one after another in the calling process.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from autotune.data.sources import default_cache_dir
from autotune.engine._events import RunEvent, TrialEvent
from autotune.engine.api._tune_parts import given_for_tune, section_of_path, spec_for
from autotune.engine.api._tuned import Study
from autotune.engine.loop._run import RunOptions, run
from autotune.space import Space
from autotune.spec import SpecError
from autotune.spec._errors import Described

if TYPE_CHECKING:
    import keras

    from autotune.engine.trial._context import TrialContext
    from autotune.space import TrialConfig

logger = logging.getLogger(__name__)

Direction = Literal["maximize", "minimize"]


def objective(fn: Callable[[TrialConfig, TrialContext], Any]) -> Callable[..., Any]:
    """Mark a function as a custom objective for ``tune`` (it is returned unchanged).

    The function gets the trial's ``TrialConfig`` and a ``TrialContext`` and returns a number
    (the metric, ``accuracy`` by default) or a dict whose ``accuracy`` key (or the key
    ``metric=`` names) is the objective and whose other keys are stored with the trial.

    Example:
        >>> import autotune as at
        >>> @at.objective
        ... def quadratic(config, ctx):
        ...     return {"accuracy": 1.0 - (config["x"] - 0.3) ** 2, "x_squared": config["x"] ** 2}
        >>> study = at.tune(at.Space(x=at.Float(0.0, 1.0)), objective=quadratic, trials=5,
        ...                 sampler="random", results_dir=getfixture("tmp_path"))
        >>> len(study.leaderboard()), round(study.best_result.extras["x_squared"], 3) >= 0.0
        (5, True)
    """
    fn.__autotune_objective__ = True  # type: ignore[attr-defined]
    return fn


def tune(
    target: Space | Mapping[str, Any] | Any,
    *,
    data: Any = None,
    validation: Any = None,
    objective: Callable[[TrialConfig, TrialContext], Any] | str | None = None,
    model: str | Callable[..., keras.Model] = "auto",
    metric: str = "accuracy",
    direction: Direction = "maximize",
    directions: Mapping[str, Direction] | None = None,
    trials: int = 20,
    budget: float | str | None = None,
    epochs: int | None = None,
    sampler: str = "tpe",
    sampler_options: Mapping[str, Any] | None = None,
    pruner: str | None = None,
    pruner_options: Mapping[str, Any] | None = None,
    rank: str | Mapping[str, Any] = "accuracy_per_second",
    start_with: Sequence[Mapping[str, Any]] = (),
    study: str | None = None,
    storage: str | None = None,
    results_dir: str | Path = "results",
    seed: int = 0,
    devices: str | Sequence[int] = "auto",
    fit_kwargs: Mapping[str, Any] | None = None,
    on_trial: Callable[[TrialEvent], None] | None = None,
) -> Study:
    """Tune a search space, a custom objective or a KerasTuner HyperModel; return the study.

    What is tuned follows ``target`` and ``objective``:

    * a ``Space`` (or a mapping of dimensions) with ``data=``: the built-in trainer, as
      ``autotune run`` does; the model family follows the data (images: cnn, flat: mlp)
      unless ``model=`` names one, or is a function ``build(config) -> keras.Model`` (which
      may also take ``input_shape=`` and ``num_classes=``) whose own dimensions the space holds;
    * a ``Space`` with ``objective=fn``: ``fn(config, ctx)`` trains as it likes and returns the
      metric (see ``autotune.objective``);
    * a ``keras_tuner.HyperModel`` (or a ``build(hp)`` function) with ``data=``: its ``build``
      and ``fit`` run as ``keras_tuner.Tuner`` runs them, with Optuna drawing the values.

    Trials run in this process, one after another (a Python callable and in-memory arrays are
    not sent to worker processes). The study is stored in ``storage`` (default: SQLite in
    ``results_dir/<study>/study.db``) and its results are written to ``results_dir/<study>``
    after every trial, as by the command line. A trial's failure is recorded on that trial.

    Args:
        target: a ``Space``, a mapping of dimensions, or a KerasTuner HyperModel.
        data: ``(x, y)`` arrays, a ``tf.data.Dataset`` of ``(x, y)``, a data section like
            the run file's (``{"dataset": "digits"}``), a built-in data set's name
            (``"digits"``), or the path of an image folder, a folder of ``.npy`` arrays or an
            ``.npz`` file (read as that data section would
            read it: split by index, streamed from a disk cache when large). Defaults to None
            (a custom objective that loads its own data).
        validation: validation data like ``data``. Defaults to None: a seeded, stratified
            20 % of ``data`` (a data section splits as in a run file).
        objective: a custom objective function, or for the built-in trainer the name of a
            run file's objective (``accuracy``, ``accuracy_per_second``, ``pareto``).
        model: ``auto``, ``mlp``, ``cnn`` or a model-building function.
        metric: the key (a custom objective's dict) or validation metric (Keras logs
            ``val_<metric>``) that is the objective. Defaults to ``accuracy``.
        direction: ``maximize`` or ``minimize`` the metric. Defaults to ``maximize``.
        directions: several objectives, ``{"accuracy": "maximize", "latency_ms": "minimize"}``:
            keys of the objective's dict, each an Optuna objective; pruning is then off.
        trials: the study-wide number of trials. Defaults to 20.
        budget: wall-clock budget, seconds or ``"90s"``, ``"10m"``, ``"1.5h"``. Defaults to
            None.
        epochs: epochs per trial. Defaults to 10 for the built-in trainer; for a HyperModel
            it is passed to ``fit`` only when given.
        sampler: ``tpe``, ``random``, ``grid``, ``cmaes``, ``gp`` or ``nsga2``.
        sampler_options: keyword options of the Optuna sampler.
        pruner: ``asha`` (seconds as the resource, ``autotune.TimeASHAPruner``),
            ``hyperband``, ``successive_halving``, ``median`` or ``none``. Defaults to asha with
            a budget, else hyperband (none with several objectives).
        pruner_options: keyword options of the Optuna pruner.
        rank: how trials are ranked: ``accuracy_per_second``, ``accuracy`` or
            ``time_to_target``, or a ``rank:`` section as a mapping (``{"by": "metric",
            "metric": "latency_ms", "direction": "minimize"}`` ranks by a returned key).
            Defaults to accuracy per second, or to ``metric`` in ``direction`` when the
            objective's metric is not accuracy.
        start_with: values of the searched dimensions to try first.
        study: the study name; an existing study of that name (same space and data) is
            resumed. Defaults to a new name, ``tune-<date>-<time>``.
        storage: an Optuna storage URL. Defaults to SQLite in the results folder.
        results_dir: the folder that holds one folder per study. Defaults to ``results``.
        seed: the run's seed (data split, sampler, each trial's weights).
        devices: ``auto``, ``cpu`` or GPU indices, for the built-in trainer.
        fit_kwargs: more keyword arguments of a HyperModel's ``fit`` (``batch_size=...``).
        on_trial: called with a ``TrialEvent`` after each trial.

    Returns:
        The tuned ``Study``: ``leaderboard()``, ``best``, ``best_result``, ``best_model()``.

    Raises:
        SpecError: an argument autotune cannot use (its ``key`` names the run-file key).
        ImportError: a HyperModel without keras-tuner installed.

    Example:
        >>> import autotune as at
        >>> from sklearn.datasets import load_digits
        >>> x, y = load_digits(return_X_y=True)
        >>> study = at.tune(at.Space(width=at.Choice([8, 16]), learning_rate=0.01),
        ...                 data=(x[:300], y[:300]), trials=2, epochs=1, sampler="random",
        ...                 results_dir=getfixture("tmp_path"))
        >>> study.best["width"] in (8, 16), list(study.leaderboard().columns[:3])
        (True, ['rank', 'trial', 'accuracy'])
    """
    kind = _kind(target, objective, model)
    objectives = _objectives(metric, direction, directions)
    if kind == "builtin" and (metric != "accuracy" or directions or direction != "maximize"):
        raise SpecError(
            key="metric",
            expected="accuracy, maximized, for the built-in trainer (objective= names "
            "accuracy, accuracy_per_second or pareto)",
            received=Described(f"metric={metric!r}, direction={direction!r}"),
            hint="pass objective=your_function to optimise another metric",
        )
    name = study or datetime.datetime.now().strftime("tune-%Y%m%d-%H%M%S-%f")
    if isinstance(data, str | os.PathLike):
        data = section_of_path(data)
    spec = spec_for(
        name=name,
        seed=seed,
        data=data if isinstance(data, Mapping) else None,
        model=model if isinstance(model, str) else "auto",
        epochs=epochs,
        devices=devices,
        search={
            "sampler": sampler,
            "sampler_options": dict(sampler_options or {}),
            "pruner": "none" if len(objectives) > 1 and pruner is None else pruner,
            "pruner_options": dict(pruner_options or {}),
            "objective": objective if isinstance(objective, str) else "accuracy",
            "trials": trials,
            "budget": budget,
        },
        rank=_rank(rank, metric, direction, multi=directions is not None),
        start_with=start_with,
        multi=len(objectives) > 1,
    )
    hypermodel = _as_hypermodel(target) if kind == "hypermodel" else None
    fit = dict(fit_kwargs or {})
    if epochs is not None and kind == "hypermodel":
        fit.setdefault("epochs", epochs)

    given = given_for_tune(
        spec,
        kind=kind,
        target=hypermodel if hypermodel is not None else target,
        data=data,
        validation=validation,
        objective=objective,
        model=model,
        objectives=objectives,
        fit_kwargs=fit,
        seed=seed,
        data_cache=default_cache_dir(Path(results_dir)),
    )
    options = RunOptions(study=name, storage=storage, results_dir=Path(results_dir))

    def ended(event: RunEvent) -> None:
        if on_trial is not None and isinstance(event, TrialEvent):
            on_trial(event)

    report = run(spec, options, on_event=ended, given=given)
    import optuna

    return Study(
        name=report.study,
        directory=report.directory,
        storage=report.storage,
        space=given.space,
        report=report,
        optuna=optuna.load_study(study_name=report.study, storage=report.storage),
        _rank=spec.rank,
    )


def _kind(target: Any, objective: Any, model: Any) -> str:
    if _is_hypermodel(target):
        if objective is not None:
            raise SpecError(
                key="objective",
                expected="no objective with a HyperModel (its fit returns the metric)",
                received=Described(repr(objective)),
            )
        return "hypermodel"
    if not isinstance(target, Space | Mapping):
        raise SpecError(
            key="target",
            expected="an autotune Space, a mapping of dimensions, a keras_tuner.HyperModel "
            "or a build(hp) function",
            received=Described(f"a {type(target).__name__}"),
        )
    if callable(objective):
        return "objective"
    if callable(model):
        return "builder"
    return "builtin"


def _is_hypermodel(target: Any) -> bool:
    kt = sys.modules.get("keras_tuner")
    if kt is not None and isinstance(target, kt.HyperModel):
        return True
    if isinstance(target, Space | Mapping) or not callable(target):
        return False
    parameters = list(inspect.signature(target).parameters)
    return len(parameters) == 1  # build(hp), as keras_tuner.Tuner accepts


def _as_hypermodel(target: Any) -> Any:
    from autotune.space._keras_tuner import keras_tuner_module

    kt = keras_tuner_module()
    if isinstance(target, kt.HyperModel):
        return target
    return _build_function_class(kt)(target)


@functools.cache
def _build_function_class(kt: Any) -> type:
    class BuildFunction(kt.HyperModel):
        """A ``build(hp)`` function as a HyperModel, as ``keras_tuner.Tuner`` wraps one."""

        def __init__(self, build: Callable[[Any], Any]) -> None:
            self._function = build
            super().__init__(name=getattr(build, "__name__", None))

        def build(self, hp: Any) -> Any:
            return self._function(hp)

    return BuildFunction


def _objectives(
    metric: str, direction: str, directions: Mapping[str, str] | None
) -> tuple[tuple[str, str], ...]:
    if directions:
        pairs = tuple((str(k), str(v)) for k, v in directions.items())
    else:
        pairs = ((metric, direction),)
    for key, value in pairs:
        if value not in ("maximize", "minimize"):
            raise SpecError(
                key=f"directions.{key}" if directions else "direction",
                expected="maximize or minimize",
                received=repr(value),
            )
    return pairs


def _rank(
    rank: str | Mapping[str, Any], metric: str, direction: str, *, multi: bool
) -> dict[str, Any]:
    """The ``rank:`` section: as given, else by the objective's metric when it is not accuracy."""
    if isinstance(rank, Mapping):
        return dict(rank)
    if (
        rank == "accuracy_per_second"
        and not multi
        and (metric, direction)
        != (
            "accuracy",
            "maximize",
        )
    ):
        return {"by": "metric", "metric": metric, "direction": direction}
    return {"by": rank}

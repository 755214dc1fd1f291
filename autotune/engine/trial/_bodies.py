"""Trial bodies for the Python API: a custom objective, a KerasTuner HyperModel, a model builder.

Each is a ``TrialBody``: the engine calls it for every trial in place of the built-in trainer
and records what it returns like any other trial. A problem inside the trial (an objective that
raises or returns NaN, a string or no ``accuracy``; a ``build`` that raises) is the trial's
recorded end, never an exception for the study.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import optuna

from autotune.engine.trial._base import TrialSetup
from autotune.engine.trial._builtin import train_trial
from autotune.engine.trial._context import TrialContext
from autotune.engine.trial._overrun import REMEDY, BudgetOverrun, overrun_seconds, stop_at
from autotune.space import TrialConfig
from autotune.spec._code import builder_keywords
from autotune.train import STOP_REASONS, TrainOutcome, TrialResult

if TYPE_CHECKING:
    import keras

    from autotune.data import Dataset

logger = logging.getLogger(__name__)

RESERVED = frozenset(
    {
        *TrialResult.__dataclass_fields__,
        *("accuracy_per_second", "config", "owner", "strategy", "seed", "partial", "rungs"),
    }
)
"""User-attribute names autotune writes itself; an objective's extra keys do not replace them."""


@dataclass(frozen=True)
class Returned:
    """What an objective's return value means for the study."""

    end: str = "complete"
    reason: str | None = None
    values: tuple[float, ...] = ()
    accuracy: float | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


def read_returned(returned: Any, *, metric: str, names: Sequence[str]) -> Returned:
    """Interpret an objective's return value.

    A number is the value of ``metric``. A dict's ``names`` keys are the objective values
    (``[metric]`` for one objective) and its other keys user attributes; a Keras ``History``
    gives its last epoch's ``val_<name>`` (else ``<name>``) for each name.

    Example:
        >>> read_returned({"accuracy": 0.9, "latency_ms": 3.5}, metric="accuracy",
        ...               names=["accuracy"]).values
        (0.9,)
        >>> read_returned(float("nan"), metric="accuracy", names=["accuracy"]).end
        'nan'
        >>> read_returned({"loss": 0.3}, metric="accuracy", names=["accuracy"]).reason[:42]
        "the objective's dict has no 'accuracy' key"
    """
    history = getattr(returned, "history", None)
    from_history = isinstance(history, Mapping)
    if isinstance(history, Mapping):
        returned = {
            key.removeprefix("val_"): values[-1]
            for key, values in sorted(history.items(), key=lambda kv: kv[0].startswith("val_"))
            if isinstance(values, list) and values
        }
    if isinstance(returned, Mapping):
        metrics = dict(returned)
    elif _is_number(returned):
        if len(names) > 1:
            return _error(
                f"the objective returned one number; a study with directions= needs a dict "
                f"with the keys {', '.join(names)}"
            )
        metrics = {metric: returned}
    else:
        return _error(
            f"the objective returned {_show(returned)}; expected a number or a dict of "
            f"numbers with the key {metric!r}"
        )
    values: list[float] = []
    for name in names:
        if name not in metrics:
            keys = ", ".join(sorted(map(str, metrics))) or "none"
            if from_history:
                return _error(
                    f"the training history has no 'val_{name}' or {name!r} key (keys: {keys}); "
                    f"compile the model with metrics=[{name!r}], or name the key with metric="
                )
            return _error(
                f"the objective's dict has no {name!r} key (keys: {keys}); return it, "
                "or name the key with metric="
            )
        value = metrics[name]
        if not _is_number(value):
            return _error(f"the objective's {name!r} is {_show(value)}, not a number")
        if not math.isfinite(float(value)):
            return Returned(end="nan", reason=f"the objective returned {name}={float(value)}")
        values.append(float(value))
    attrs: dict[str, Any] = {}
    for key, value in metrics.items():
        if key in names and key != "accuracy":
            attrs[str(key)] = float(value)
        elif key != "accuracy":
            attrs[str(key) if key not in RESERVED else f"user:{key}"] = _attr(value)
    accuracy: Any = metrics.get("accuracy")
    accuracy = float(accuracy) if _is_number(accuracy) else None
    return Returned(
        values=tuple(values),
        accuracy=accuracy if accuracy is not None and math.isfinite(accuracy) else None,
        attrs=attrs,
    )


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    item = getattr(value, "item", None)  # numpy / TensorFlow scalars
    return callable(item) and getattr(value, "ndim", None) == 0 and _is_number(item())


def _attr(value: Any) -> Any:
    if _is_number(value):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, bool | str) or value is None:
        return value
    return _show(value)


def _show(value: Any) -> str:
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} (a {type(value).__name__})"


def _error(reason: str) -> Returned:
    return Returned(end="error", reason=reason)


def _failure(error: BaseException, where: str) -> tuple[str, str]:
    if isinstance(error, optuna.TrialPruned):
        detail = f" ({error})" if str(error) else ""
        return "pruned", f"{where} raised TrialPruned{detail}"
    if isinstance(error, KeyboardInterrupt):
        return "interrupted", STOP_REASONS["interrupted"]
    if isinstance(error, BudgetOverrun):
        return "deadline", "stopped after the budget"
    if isinstance(error, MemoryError) or type(error).__name__ == "ResourceExhaustedError":
        return "oom", f"out of memory: {_first_line(error)}"
    return "error", f"{where} raised {type(error).__name__}: {_first_line(error)}"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else type(error).__name__


@dataclass(frozen=True)
class Custom:
    """What the custom bodies share: the metric(s), pruning, and the data for the context."""

    metric: str
    names: tuple[str, ...]
    prune: bool
    train: Any = None
    validation: Any = None
    train_examples: int | None = None
    tell_values: bool = True
    """False: Optuna is told the run file's objective of ``accuracy`` (a run file's objective)."""
    stop_overrun: bool = False
    """True: stop an objective still running ``OVERRUN_MARGIN`` s past the budget (a run file's
    code, in a process autotune owns); False: record the overrun (the Python API)."""


def _outcome(
    ctx: TrialContext,
    setup: TrialSetup,
    custom: Custom,
    times: tuple[float, float | None],
    returned: Any,
    failure: tuple[str, str] | None,
) -> TrainOutcome:
    """The TrialResult of a custom trial from what the context saw and the objective gave."""
    read = (
        Returned() if failure else read_returned(returned, metric=custom.metric, names=custom.names)
    )
    end, reason = failure or (read.end, read.reason)
    if end == "complete" and ctx.stopped is not None:
        end = ctx.stopped
        reason = {"pruned": f"pruned after epoch {len(ctx.curve())}", **STOP_REASONS}.get(end, end)
    started, deadline = times  # time.perf_counter() values: the trial's start, the budget's end
    over = overrun_seconds(deadline)
    extras = dict(read.attrs)
    if over and end in ("complete", "deadline"):
        end = "deadline"
        extras["overrun_seconds"] = round(over, 1)
        stopped = failure is not None
        reason = (
            f"{'stopped' if stopped else 'returned'} {over:.0f}s after the budget ended: "
            f"it never let autotune stop it; {REMEDY}"
        )
        logger.warning("trial %d %s", ctx.number, reason)
    curve = ctx.curve()
    accuracy = read.accuracy
    if accuracy is None and custom.metric == "accuracy" and curve and end != "complete":
        accuracy = curve[-1][1]
    result = TrialResult(
        accuracy=accuracy,
        wall_seconds=time.perf_counter() - started,
        epochs=len(curve),
        curve=tuple(curve),
        devices=tuple(setup.devices),
        end=end,
        reason=reason,
        extras=extras,
        values=read.values if end in ("complete", "deadline") and custom.tell_values else (),
        **ctx.timing(custom.train_examples),
    )
    kept = end == "complete" or result.partial  # a partial trial may rank first: keep its model
    return TrainOutcome(result=result, model=ctx.model if kept else None)


def objective_body(
    objective: Callable[[TrialConfig, TrialContext], Any], custom: Custom
) -> Callable[..., tuple[TrialConfig | None, TrainOutcome]]:
    """A body that suggests a TrialConfig and calls ``objective(config, ctx)``."""

    def body(
        trial: optuna.Trial, setup: TrialSetup, *, deadline: float | None
    ) -> tuple[TrialConfig | None, TrainOutcome]:
        started = time.perf_counter()
        ctx = _context(trial, setup, custom, deadline, started)
        config: TrialConfig | None = None
        returned: Any = None
        failure = None
        try:
            config = setup.space.suggest(trial)
            trial.set_user_attr("config", config.to_dict())
            _seed(ctx.seed)
            with stop_at(deadline, enabled=custom.stop_overrun):
                returned = objective(config, ctx)
        except (Exception, KeyboardInterrupt, BudgetOverrun) as error:  # never ends the study
            logger.debug("objective failed", exc_info=True)
            where = "the objective" if config is not None else "suggesting values"
            failure = _failure(error, where)
        return config, _outcome(ctx, setup, custom, (started, deadline), returned, failure)

    return body


def hypermodel_body(
    hypermodel: Any,
    custom: Custom,
    fit_kwargs: Mapping[str, Any],
    *,
    pinned: Mapping[str, Any] | None = None,
) -> Callable[..., tuple[TrialConfig | None, TrainOutcome]]:
    """A body that builds and fits a KerasTuner HyperModel with Optuna-drawn HyperParameters.

    ``hypermodel.fit(hp, model, x, y, validation_data=..., callbacks=[...], **fit_kwargs)`` is
    called as ``keras_tuner.Tuner`` calls it; a HyperModel without its own ``fit`` runs
    ``model.fit``. ``pinned`` hyperparameters take the given values instead of being searched.
    """
    from autotune.space._keras_tuner import hyperparameters_for, values_of

    def body(
        trial: optuna.Trial, setup: TrialSetup, *, deadline: float | None
    ) -> tuple[TrialConfig | None, TrainOutcome]:
        started = time.perf_counter()
        ctx = _context(trial, setup, custom, deadline, started)
        hp = hyperparameters_for(trial, pinned=pinned)
        returned: Any = None
        failure = None
        where = "build"
        try:
            _seed(ctx.seed)
            model = hypermodel.build(hp)
            trial.set_user_attr("config", dict(values_of(hp)))
            ctx.keep_model(model)
            where = "fit"
            args, kwargs = _fit_arguments(ctx, fit_kwargs)
            with stop_at(deadline, enabled=custom.stop_overrun):
                returned = hypermodel.fit(hp, model, *args, **kwargs)
            del model
        except (Exception, KeyboardInterrupt, BudgetOverrun) as error:
            logger.debug("HyperModel %s failed", where, exc_info=True)
            failure = _failure(error, f"the HyperModel's {where}")
        config = TrialConfig(values_of(hp))
        trial.set_user_attr("config", config.to_dict())
        if returned is None and failure is None and ctx.curve():
            returned = {custom.metric: ctx.curve()[-1][1]}
        return config, _outcome(ctx, setup, custom, (started, deadline), returned, failure)

    return body


def _fit_arguments(
    ctx: TrialContext, fit_kwargs: Mapping[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    kwargs = dict(fit_kwargs)
    kwargs["callbacks"] = [*kwargs.get("callbacks", []), ctx.keras_callback()]
    kwargs.setdefault("verbose", 0)
    args: tuple[Any, ...] = tuple(ctx.train) if isinstance(ctx.train, tuple) else (ctx.train,)
    if ctx.validation is not None:
        kwargs.setdefault("validation_data", ctx.validation)
    return args, kwargs


class BuilderBody:
    """The built-in trainer with the user's ``build(config)`` making each trial's model.

    ``build`` may also take ``input_shape`` and ``num_classes`` keywords (the data's);
    ``autotune.spec._code.load_model`` checks a run file's builder for this call. ``make`` is
    what a group's members build the same model with (``processes_per_trial``).
    """

    def __init__(self, build: Callable[..., keras.Model]) -> None:
        self.build = build
        self.wants = builder_keywords(build)

    def make(self, config: TrialConfig, dataset: Dataset, seed: int) -> keras.Model:
        """The trial's fresh model from the user's builder."""
        data = {"input_shape": dataset.input_shape, "num_classes": dataset.num_classes}
        return self.build(config, **{name: data[name] for name in self.wants})

    def __call__(
        self, trial: optuna.Trial, setup: TrialSetup, *, deadline: float | None
    ) -> tuple[TrialConfig | None, TrainOutcome]:
        return train_trial(trial, setup, deadline=deadline, build=self.make)


def builder_body(build: Callable[..., keras.Model]) -> BuilderBody:
    """The built-in trainer with the user's ``build(config)`` (see ``BuilderBody``)."""
    return BuilderBody(build)


def _context(
    trial: optuna.Trial,
    setup: TrialSetup,
    custom: Custom,
    deadline: float | None,
    started: float,
) -> TrialContext:
    seed = setup.seed + trial.number
    trial.set_user_attr("seed", seed)  # best.yaml's train.trial_seed
    return TrialContext(
        trial,
        seed=seed,
        epochs=setup.epochs,
        deadline=deadline,
        started_at=started,
        prune=custom.prune,
        metric=custom.metric,
        train=custom.train,
        validation=custom.validation,
    )


def _seed(seed: int) -> None:
    import keras

    keras.utils.set_random_seed(seed)

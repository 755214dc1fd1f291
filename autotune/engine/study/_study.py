"""Creating or resuming the Optuna study a run file describes."""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import optuna
import psutil

from autotune._private._optuna import trial_id
from autotune._stored import DATA_ATTR, SPACE_ATTR, SPEC_ATTR, STUDY_FILE, sqlite_path, sqlite_url
from autotune.engine.storages._local import storage_for
from autotune.space import Space
from autotune.spec import RunSpec, SpecError, pruner_class, sampler_class

logger = logging.getLogger(__name__)

STARTED_ATTR = "autotune:start_with_enqueued"
UNCOUNTED_ENDS = frozenset({"abandoned", "worker_died"})
"""End reasons of trials that do not count toward ``--trials``: their work was lost, not done."""


def default_storage(directory: Path) -> str:
    """The default storage: a SQLite file in the study's results folder."""
    return sqlite_url(directory / STUDY_FILE)


def directions(spec: RunSpec) -> list[Literal["maximize", "minimize"]]:
    """Optuna directions for the run file's objective."""
    if spec.search.objective == "pareto":
        return ["maximize", "minimize"]
    return ["maximize"]


def metric_names(spec: RunSpec) -> list[str]:
    """Names of the objective values, as Optuna Dashboard shows them."""
    return metric_names_of(spec.search.objective)


def metric_names_of(objective: str) -> list[str]:
    """The metric names of a run file's ``search.objective`` (the values autotune tells)."""
    return ["accuracy", "wall_seconds"] if objective == "pareto" else [objective]


def make_sampler(
    spec: RunSpec, space: Space, *, seed: int, parallel: bool = False
) -> optuna.samplers.BaseSampler:
    """The sampler the run file names, seeded from the run's seed.

    With ``parallel`` (several workers on one study) TPE runs with its constant liar, so that
    workers do not propose the configurations other workers are running.
    """
    name = spec.search.sampler
    options: dict[str, Any] = dict(spec.search.sampler_options)
    cls = sampler_class(name)
    if name == "grid":
        return _GridSampler(space.grid(), seed=seed, **options)
    if name == "tpe":
        options.setdefault("multivariate", True)
        options.setdefault("n_startup_trials", startup_trials(spec.search.budget))
        if parallel:
            options.setdefault("constant_liar", True)
    sampler: optuna.samplers.BaseSampler = cls(seed=seed, **options)  # type: ignore[call-arg]
    return sampler


class _GridSampler(optuna.samplers.GridSampler):
    """Optuna's grid sampler, usable from an ask/tell loop.

    Optuna's ``after_trial`` only calls ``study.stop()`` once the grid is exhausted, which
    raises outside ``study.optimize`` and would leave the last trial un-told. The engine instead
    asks ``is_exhausted`` before each trial, so this one does nothing after a trial.
    """

    def after_trial(
        self,
        study: optuna.Study,
        trial: optuna.trial.FrozenTrial,
        state: optuna.trial.TrialState,
        values: Sequence[float] | None,
    ) -> None:
        return None


def exhausted(study: optuna.Study) -> bool:
    """Whether the study's sampler has nothing new left to propose (a finished grid)."""
    sampler = study.sampler
    return isinstance(sampler, optuna.samplers.GridSampler) and sampler.is_exhausted(study)


STARTUP_TRIALS = 5
"""TPE's random start-up without a budget, and its least with one.

Three were too few: on the quickstart (16 trials of a 10-dimension space, 150-s budget) TPE
modelling from the third trial on found a best validation accuracy lower than with five on 4
of 8 seeds and higher on 1 (0.9826 against 0.9861 in the median; with five, every seed's best
equals the version before the budget sizing; ``benchmarks/before_after.py``, issue 14)."""


def startup_trials(budget: float | None) -> int:
    """TPE's random start-up, sized to the budget: one trial per minute, 5 to 10 (5 without a
    budget). The first trial (``start_with`` or the space's defaults) counts among them.

    Example:
        >>> [startup_trials(b) for b in (None, 60.0, 150.0, 300.0, 420.0, 3600.0)]
        [5, 5, 5, 5, 7, 10]
    """
    if budget is None:
        return STARTUP_TRIALS
    return min(10, max(STARTUP_TRIALS, round(budget / 60.0)))


def first_rung_seconds(budget: float | None) -> float:
    """The asha pruner's first rung: a fiftieth of the budget, 1 to 30 s (5 s without one).

    Example:
        >>> [first_rung_seconds(b) for b in (None, 20.0, 150.0, 3600.0)]
        [5.0, 1.0, 3.0, 30.0]
    """
    if budget is None:
        return 5.0
    return float(min(30.0, max(1.0, budget / 50.0)))


def make_pruner(spec: RunSpec) -> optuna.pruners.BasePruner:
    """The pruner the run file names: ``asha`` counts seconds (``TimeASHAPruner``), hyperband
    and successive halving count epochs."""
    name = spec.search.resolved_pruner
    options: dict[str, Any] = dict(spec.search.pruner_options)
    if name == "asha":
        options.setdefault("min_seconds", first_rung_seconds(spec.search.budget))
    elif name == "hyperband":
        options.setdefault("min_resource", 1)
        options.setdefault("max_resource", spec.train.epochs)
    elif name == "successive_halving":
        options.setdefault("min_resource", 1)
    elif name == "median":
        options.setdefault("n_startup_trials", 3)
        options.setdefault("n_warmup_steps", 1)
    return pruner_class(name)(**options)


def study_exists(storage: str | optuna.storages.BaseStorage, name: str) -> bool:
    """Whether ``storage`` holds a study called ``name``, without creating anything."""
    path = sqlite_path(storage) if isinstance(storage, str) else None
    if path is not None and not path.exists():
        return False
    try:
        return name in optuna.get_all_study_names(storage=storage)
    except Exception:  # an empty or foreign database
        return False


def open_study(
    spec: RunSpec,
    space: Space,
    *,
    name: str,
    storage: str | optuna.storages.BaseStorage,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    spec_document: dict[str, Any],
    objectives: Sequence[tuple[str, str]] | None = None,
    data_source: Mapping[str, Any] | None = None,
) -> tuple[optuna.Study, bool]:
    """Create the study, or load it when it exists and was made with the same space, data,
    model and epochs.

    ``objectives`` (``(metric name, "maximize" or "minimize")`` pairs) replaces the directions
    and metric names the run file's objective implies (the Python API's custom objectives).
    ``data_source`` (how this run read its data: in memory or streamed, the cache, files left
    out) is recorded on the study as ``autotune:data``.

    Returns:
        The study and whether it was resumed.

    Raises:
        SpecError: the study exists with a different space, data, model, epochs or objective.
    """
    resumed = study_exists(storage, name)
    opened = storage_for(storage) if isinstance(storage, str) else storage
    if resumed:
        study = optuna.load_study(study_name=name, storage=opened, sampler=sampler, pruner=pruner)
        _check_compatible(spec, study, space, name, spec_document, objectives)
        if not study.metric_names:  # made before autotune named its objectives
            study.set_metric_names(
                metric_names(spec) if objectives is None else [n for n, _ in objectives]
            )
    else:
        study = optuna.create_study(
            study_name=name,
            storage=opened,
            sampler=sampler,
            pruner=pruner,
            directions=_directions(spec, objectives),
        )
        study.set_user_attr(SPACE_ATTR, space.to_json())
        study.set_metric_names(
            metric_names(spec) if objectives is None else [n for n, _ in objectives]
        )
    study.set_user_attr(SPEC_ATTR, spec_document)
    if data_source:
        study.set_user_attr(DATA_ATTR, dict(data_source))
    if not study.user_attrs.get(STARTED_ATTR):
        for params in first_trials(spec, space):
            study.enqueue_trial(params)
        study.set_user_attr(STARTED_ATTR, True)
    return study, resumed


def first_trials(spec: RunSpec, space: Space) -> list[dict[str, Any]]:
    """The configurations a new study tries before sampling: ``start_with``, else the space's
    default configuration (``Space.default_point``), as KerasTuner starts from its defaults.

    A grid enumerates every point anyway, and a space with nothing searched has one point.
    """
    searched = set(space.searched())
    if spec.search.start_with:
        return [{k: v for k, v in p.items() if k in searched} for p in spec.search.start_with]
    if not searched or spec.search.sampler == "grid":
        return []
    return [space.default_point()]


def _directions(
    spec: RunSpec, objectives: Sequence[tuple[str, str]] | None
) -> list[Literal["maximize", "minimize"]]:
    if objectives is None:
        return directions(spec)
    return ["minimize" if d == "minimize" else "maximize" for _, d in objectives]


def _check_compatible(
    spec: RunSpec,
    study: optuna.Study,
    space: Space,
    name: str,
    document: dict[str, Any],
    objectives: Sequence[tuple[str, str]] | None = None,
) -> None:
    stored = study.user_attrs.get(SPACE_ATTR)
    if stored is None:
        raise SpecError.at(
            spec,
            ("study",),
            expected="a new study name, or a study created by autotune",
            received=name,
            hint="this storage holds a study of that name that autotune did not create",
        )
    if stored != space.to_json():
        before = json.loads(stored)
        after = json.loads(space.to_json())
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        raise SpecError.at(
            spec,
            ("space", changed[0]) if changed else ("space",),
            expected=f"the space study {name!r} was created with",
            received="a different space (changed: " + ", ".join(changed) + ")",
            hint="use --study NEW_NAME for a new study, or restore the old space to resume",
        )
    before_doc = study.user_attrs.get(SPEC_ATTR) or {}
    for key in (("data",), ("model",), ("train", "epochs")):
        old, new = _lookup(before_doc, key), _lookup(document, key)
        if key == ("data",):
            old, new = _what_is_read(old), _what_is_read(new)
        if old is not None and old != new:
            raise SpecError.at(
                spec,
                key,
                expected=f"the {'.'.join(key)} study {name!r} was created with ({old})",
                received=new,
                hint="trials trained otherwise do not compare; use --study NEW_NAME",
            )
    if [d.name.lower() for d in study.directions] != _directions(spec, objectives):
        raise SpecError.at(
            spec,
            ("search", "objective"),
            expected=f"the objective study {name!r} was created with",
            received=spec.search.objective,
            hint="use --study NEW_NAME for a new study",
        )


HOW_DATA_IS_READ = frozenset({"stream", "cache_dir", "cache_max_gb"})
"""``data:`` keys that change how the examples are read, not which: a study resumes across them."""


def _what_is_read(data: Any) -> Any:
    """A ``data:`` document without ``HOW_DATA_IS_READ``, with keys added since a study was made
    at their defaults (so studies made before them resume)."""
    if not isinstance(data, dict):
        return data
    kept = {k: v for k, v in data.items() if k not in HOW_DATA_IS_READ}
    return {"on_bad_file": "error", **kept}


def _lookup(document: dict[str, Any], key: tuple[str, ...]) -> Any:
    value: Any = document
    for part in key:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def owner() -> dict[str, Any]:
    """Who runs a trial: host, process id and that process's start time."""
    process = psutil.Process()
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": process.create_time()}


def _owner_alive(info: Any) -> bool | None:
    """True/False for a trial owned on this host; None when it belongs to another host."""
    if not isinstance(info, dict) or info.get("host") != socket.gethostname():
        return None if isinstance(info, dict) else False
    try:
        process = psutil.Process(int(info["pid"]))
        return abs(process.create_time() - float(info["since"])) < 1.0
    except (psutil.Error, KeyError, ValueError, TypeError):
        return False


def mark_abandoned(study: optuna.Study) -> list[int]:
    """Mark FAIL, reason ``abandoned``, every RUNNING trial whose process on this host is gone.

    Running trials of other hosts are left alone: they may still be running.
    """
    marked: list[int] = []
    for frozen in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        info = frozen.user_attrs.get("owner")
        if _owner_alive(info) is not False:
            continue
        trial = optuna.trial.Trial(study, trial_id(study, frozen))
        trial.set_user_attr("end", "abandoned")
        pid = info.get("pid") if isinstance(info, dict) else "unknown"
        trial.set_user_attr("reason", f"its process (pid {pid}) ended before the trial did")
        study.tell(frozen.number, state=optuna.trial.TrialState.FAIL)
        marked.append(frozen.number)
    if marked:
        logger.warning("marked abandoned trials %s as failed", marked)
    return marked


def counted(trials: Sequence[optuna.trial.FrozenTrial]) -> int:
    """Trials that count toward ``--trials``: finished in any way but lost to a dead process."""
    finished = (
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
        optuna.trial.TrialState.FAIL,
    )
    return sum(
        1 for t in trials if t.state in finished and t.user_attrs.get("end") not in UNCOUNTED_ENDS
    )

"""A whole run: prepare data and study, run trials until the count or the budget, keep results."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import optuna

from autotune._stored import sqlite_path
from autotune.data.sources import default_cache_dir
from autotune.engine._events import RunEvent, TrialEvent, TrialStarted
from autotune.engine.output._kept_models import evaluate_test, keep_models
from autotune.engine.output._refresh import Rewriter
from autotune.engine.output._review import write_report_safely
from autotune.engine.reserved._claim import (
    reserve_shared,
    sampler_offset,
    study_lock,
    wait_for_others,
)
from autotune.engine.setup._prepare import Given, prepare, trial_setup
from autotune.engine.step._interrupts import noted_interrupts
from autotune.engine.step._step import Step, started_params
from autotune.engine.storages._connect import require_server, resolve_storage
from autotune.engine.study._planner import may_start, reachable
from autotune.engine.study._study import (
    counted,
    default_storage,
    mark_abandoned,
    open_study,
    study_exists,
)
from autotune.engine.trial._base import TrialSetup
from autotune.engine.workers._plan import check_group_body, worker_plan
from autotune.engine.workers._pool import run_pool
from autotune.spec import RunSpec, SpecError, check_study_name, study_name_from
from autotune.train import (
    freeze_long_lived,
    gradient_names,
    placement_attrs,
)

if TYPE_CHECKING:
    import keras

    from autotune.results import RankedTrial

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """Command-line overrides of a run file.

    Attributes:
        trials: the study-wide total of trials (default: ``search.trials``).
        budget: wall-clock seconds for this invocation (default: ``search.budget``).
        study: the study name (default: ``study:`` or the run file's stem).
        storage: an Optuna storage URL (default: ``storage:`` or SQLite in the results folder).
        results_dir: the folder holding one sub-folder per study.
        seed: the run's seed (default: ``seed:``).
        workers: worker processes sharing the study (default: one per device group; on a
            CPU-only machine, trials run in this process).
        worker: join the study as one of many workers (``autotune worker``; a database
            server storage): run trials until the study holds its total, write no files.
    """

    trials: int | None = None
    budget: float | None = None
    study: str | None = None
    storage: str | None = None
    results_dir: Path = Path("results")
    seed: int | None = None
    workers: int | None = None
    worker: bool = False
    join: bool = False
    """``autotune worker --join``: each worker process joins a group formed through the
    storage with other machines' processes (``train.processes_per_trial``)."""


@dataclass(frozen=True)
class RunReport:
    """What a run did and wrote."""

    study: str
    directory: Path
    storage: str
    resumed: bool
    done: int
    total: int
    interrupted: bool
    ranked: list[RankedTrial]
    test_accuracy: float | None
    rank_by: str = "accuracy_per_second"
    abandoned: list[int] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    running_elsewhere: int = 0
    """Trials of the study still running in other processes or machines when this run ended:
    counted in ``done``, not yet in ``ranked``."""


def study_name(spec: RunSpec, options: RunOptions) -> str:
    """The study's name: ``--study``, else ``study:``, else the run file's stem.

    Raises:
        SpecError: ``--study`` (or the Python API's ``study=``) could leave the results folder.
    """
    if options.study:
        return check_study_name(options.study, key="--study")
    if spec.study:
        return check_study_name(spec.study)
    return study_name_from(spec.file.stem) if spec.file is not None else "autotune"


def run(
    spec: RunSpec,
    options: RunOptions | None = None,
    *,
    on_event: Callable[[RunEvent], None] | None = None,
    given: Given | None = None,
) -> RunReport:
    """Run (or resume) the study a run file describes, and write its results.

    The missing trials are reserved (a window at a time), so the study ends with exactly ``trials``
    counted trials however many processes run them: this one, or worker processes pinned to
    their devices (``autotune.engine.workers._pool``). No trial starts that the planner expects to
    end after the budget. A trial's failure is recorded on that trial and the run goes on.
    Ctrl-C stops the running trials (PRUNED, reason ``interrupted``), writes the results and
    returns with ``interrupted=True``.

    ``given``: what the trials are made of when not the run file's own data and code (the
    Python API makes it in the caller's process: its trials then always run in this process,
    since its callables and in-memory data are not sent to workers).

    Raises:
        SpecError: the run file cannot run as written (data, space, existing study).
    """
    options = options or RunOptions()
    seed = spec.seed if options.seed is None else options.seed
    name = study_name(spec, options)
    directory = options.results_dir / name
    resolved = resolve_storage(spec, options.storage, default_storage(directory))
    storage, shared = resolved.storage, resolved.server  # shared: workers on many machines
    if options.worker and not shared:
        require_server(spec, options.storage, resolved.shown)
    total = options.trials or spec.search.trials
    budget = options.budget if options.budget is not None else spec.search.budget
    if budget != spec.search.budget:  # --budget: the pruner and sampler are sized to it
        spec = spec.model_copy(update={"search": spec.search.model_copy(update={"budget": budget})})
    if seed != spec.seed:  # --seed: best.yaml draws the same split
        spec = spec.model_copy(update={"seed": seed})
    # The data split always follows the seed; a resumed study's sampler goes on from a seed
    # its earlier trials did not use.
    if given is not None and spec.train.processes_per_trial > 1:
        raise SpecError.at(
            spec,
            ("train", "processes_per_trial"),
            expected="1 in the Python API (its trials run in the caller's process)",
            received=spec.train.processes_per_trial,
            hint="run the file with autotune run, which starts each group's processes",
        )
    plan = worker_plan(spec, options.workers, join=options.join) if given is None else []
    prepared = prepare(
        spec,
        seed=seed,
        sampler_seed=seed + _existing_trials(storage, name) + (sampler_offset() if shared else 0),
        devices=plan[0].trial_devices() if plan else None,
        parallel=shared,
        given=given,
        data_cache=default_cache_dir(options.results_dir),
    )
    # the budget is for trials: it starts once the data is ready (a first run's cache pass of a
    # streamed source, minutes for a large image folder, is not in it)
    deadline = None if budget is None else time.perf_counter() + budget
    if plan and spec.train.processes_per_trial > 1:
        check_group_body(spec, prepared.body)
    database = sqlite_path(storage) if isinstance(storage, str) else None
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
    dataset = prepared.dataset
    document = spec.model_dump(mode="json")
    document.update(prepared.document)
    document["study"] = name
    with study_lock(storage, name):
        study, resumed = open_study(
            spec,
            prepared.space,
            name=name,
            storage=storage,
            sampler=prepared.sampler,
            pruner=prepared.pruner,
            spec_document=document,
            objectives=prepared.objectives,
            data_source=None if dataset is None else dataset.source,
        )
    directory.mkdir(parents=True, exist_ok=True)
    # On a database server, heartbeats find dead workers of any machine (and retry their trials)
    abandoned = [] if shared else mark_abandoned(study)
    reserved = reachable(total, prepared.space, grid=spec.search.sampler == "grid")
    reserve_shared(study, reserved)
    baseline = gradient_names()
    freeze_long_lived()
    setup = trial_setup(spec, prepared, devices=prepared.devices, seed=seed)
    own_code = prepared.body is not None  # the model may not be autotune's: no test evaluation
    write = not options.worker  # a worker of a shared study writes no files

    rewriter = Rewriter(directory, study, spec, name, prepared.best_file, write=write)
    ranked: list[RankedTrial] = rewriter.now()
    interrupted = False
    if plan:
        # On a database server other machines' trials may still run, and one may need a retry.
        while True:
            left = None if deadline is None else deadline - time.perf_counter()
            interrupted = run_pool(
                study,
                spec=spec,
                name=name,
                storage=resolved.url,
                total=total,
                reserved=reserved,
                seed=seed,
                plan=plan,
                deadline=None if left is None else time.time() + left,
                directory=directory,
                on_event=on_event,
                write=lambda trials: rewriter.after_trial(rewriter.ranked(trials), trials),
                sampler_offset=sampler_offset() if shared else 0,
                join=options.join,
            )
            if interrupted or not wait_for_others(study, deadline=deadline):
                break
    while not plan and may_start(
        study, None if deadline is None else deadline - time.perf_counter()
    ):
        outcome_end, ranked = _one_trial(
            study,
            setup,
            rewriter,
            deadline=deadline,
            on_event=on_event,
            total=total,
            reserved=reserved,
            baseline=baseline,
        )
        if outcome_end == "no_trials_left" and wait_for_others(study, deadline=deadline):
            continue  # a retry of another machine's trial
        if outcome_end in ("no_trials_left", "interrupted"):
            interrupted = outcome_end == "interrupted"
            break
    if rewriter.pending or plan:  # the pool's trials were ranked in its callbacks
        ranked = rewriter.now()
    test_accuracy = None
    if write and not interrupted and dataset is not None and not own_code and spec.data is not None:
        test_accuracy = evaluate_test(spec, study, dataset, directory, ranked)
    if test_accuracy is not None:
        ranked = rewriter.now()
    if write:
        write_report_safely(directory, study, spec)
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix != ".tmp")
    trials = study.get_trials(deepcopy=False)
    return RunReport(
        study=name,
        directory=directory,
        storage=resolved.shown,
        resumed=resumed,
        done=counted(trials),
        total=total,
        interrupted=interrupted,
        ranked=ranked,
        test_accuracy=test_accuracy,
        rank_by=spec.rank.by,
        abandoned=abandoned,
        files=files,
        running_elsewhere=sum(t.state == optuna.trial.TrialState.RUNNING for t in trials),
    )


def _existing_trials(storage: str | optuna.storages.BaseStorage, name: str) -> int:
    if not study_exists(storage, name):
        return 0
    return len(optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False))


def _one_trial(
    study: optuna.Study,
    setup: TrialSetup,
    rewriter: Rewriter,
    *,
    deadline: float | None,
    on_event: Callable[[RunEvent], None] | None,
    total: int,
    reserved: int,
    baseline: frozenset[str],
) -> tuple[str, list[RankedTrial]]:
    """One step (``step._step``) in this process, then the ranking, files and progress event.

    Ctrl-C while training ends the trial as ``interrupted``; Ctrl-C while the study or the
    results are being written is held until they are consistent, then stops the run.
    """
    ranked: list[RankedTrial] = []

    def started(trial: optuna.Trial) -> None:
        if on_event is not None:
            params = started_params(trial, setup)
            on_event(TrialStarted(trial.number, 0, tuple(setup.devices), params))

    def recorded(
        trials: Sequence[optuna.trial.FrozenTrial], number: int, model: keras.Model | None
    ) -> None:
        nonlocal ranked
        ranked = rewriter.ranked(list(trials))
        if rewriter.write:  # workers of a shared study keep no models: several share the folder
            keep_models(rewriter.directory, ranked, number, model)
        ranked = rewriter.after_trial(ranked, list(trials))

    step = Step(
        study,
        setup,
        total=reserved,
        placement=placement_attrs(0, setup.devices),
        baseline=baseline,
        noting=noted_interrupts,
        on_started=started,
        after_record=recorded,
    )
    end = step.run(deadline=deadline)
    if end.frozen is None or end.result is None or end.trials is None:
        return end.end, rewriter.now()
    frozen, result = end.frozen, end.result
    if on_event is not None:
        on_event(
            TrialEvent(
                number=frozen.number,
                state=frozen.state.name,
                end=str(frozen.user_attrs.get("end", result.end)),
                accuracy=result.accuracy,
                wall_seconds=result.wall_seconds,
                reason=frozen.user_attrs.get("reason"),
                done=counted(end.trials),
                total=total,
                best_accuracy=max((r.accuracy for r in ranked), default=None),
                seconds_left=None if deadline is None else max(0.0, deadline - time.perf_counter()),
            )
        )
    return end.end, ranked

"""One trial, claimed to recorded: the step the in-process loop and every worker process run.

A step claims a reserved trial, says where it runs, trains it under a heartbeat, and records it;
then its caller ranks the study, keeps the model if it may win, and the memory is freed. Ctrl-C
while training ends the trial as ``interrupted``; Ctrl-C while the claim or the record is
written is held until they are consistent, and the step then ends ``interrupted`` so that the
caller stops. What differs between callers is passed in (:class:`Step`): how a Ctrl-C is
noted (a worker has its own handler), what to do when a trial starts and after it is recorded,
and extra attrs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autotune._private._optuna import trial_id
from autotune.engine.reserved._claim import claim, record_unless_failed
from autotune.engine.step._interrupts import held_interrupts
from autotune.engine.storages._local import set_user_attrs
from autotune.engine.storages._server import heartbeat
from autotune.engine.study._study import owner
from autotune.engine.trial._builtin import run_trial
from autotune.train import TrialResult, release_memory

if TYPE_CHECKING:
    import keras
    import optuna

    from autotune.engine.trial._base import TrialSetup

NO_TRIALS_LEFT = "no_trials_left"
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class StepEnd:
    """How a step ended: ``no_trials_left``, ``interrupted``, or the trial's own end."""

    end: str
    result: TrialResult | None = None
    frozen: optuna.trial.FrozenTrial | None = None
    trials: list[optuna.trial.FrozenTrial] | None = None
    """The study as read right after the record (None when no trial ran)."""


@dataclass(frozen=True)
class Step:
    """What the trials one caller runs share, and how that caller hears of them.

    Attributes:
        study: the study the trials are claimed from and recorded in.
        setup: what every trial of the run shares.
        total: the study-wide number of trials (the claim reserves up to it).
        placement: user attrs saying where a trial runs (worker, devices).
        baseline: TensorFlow's gradient registry before the first trial (freed after each).
        noting: a context that notes a Ctrl-C while the trial trains (its value is truthy once
            one came).
        on_started: called with the trial once it is claimed, before it trains.
        after_record: called with the study's trials, the trial's number and its model (None
            when it has none) once the trial is recorded, with Ctrl-C held: rank, keep the model,
            rewrite results.
        stopped: whether a Ctrl-C came that Python may have dropped (checked before claiming).
        extras: attrs added to the result just before it is recorded.
    """

    study: optuna.Study
    setup: TrialSetup
    total: int
    placement: Mapping[str, Any]
    baseline: frozenset[str]
    noting: Callable[[], AbstractContextManager[Any]]
    on_started: Callable[[optuna.Trial], None]
    after_record: Callable[[Sequence[optuna.trial.FrozenTrial], int, keras.Model | None], None]
    stopped: Callable[[], bool] = field(default=lambda: False)
    extras: Callable[[], Mapping[str, Any]] = field(default=dict)

    def run(
        self,
        *,
        deadline: float | None,
        trials: Sequence[optuna.trial.FrozenTrial] | None = None,
    ) -> StepEnd:
        """Claim, train and record one trial; ``deadline`` is a ``time.perf_counter()`` value,
        ``trials`` the study as last read (the claim's tickets; None reads it)."""
        with held_interrupts() as held:
            if self.stopped():
                return StepEnd(INTERRUPTED)
            trial = claim(self.study, trials, total=self.total)
            if trial is None:
                return StepEnd(NO_TRIALS_LEFT)
            set_user_attrs(self.study, trial, {"owner": owner(), **self.placement})
        model: keras.Model | None = None
        result = TrialResult.interrupted()
        if not held:
            self.on_started(trial)
            with self.noting() as noted:
                try:
                    with heartbeat(self.study, trial_id(self.study, trial)):
                        _config, outcome = run_trial(trial, self.setup, deadline=deadline)
                    result, model = outcome.result, outcome.model
                    del outcome
                except KeyboardInterrupt:  # outside fit (pipeline, build): still recorded
                    held.hit = True
            if noted or self.stopped():
                held.hit = True  # the caller stops after this trial is recorded
                if result.end not in ("complete", INTERRUPTED):
                    # TensorFlow may wrap the interrupt in another error: say what it was.
                    result = result.as_interrupted()
        with held_interrupts() as held_late:
            extras = self.extras()
            if extras:  # one transaction with the rest of the record
                result = dataclasses.replace(result, extras={**result.extras, **extras})
            frozen = record_unless_failed(self.study, trial, result, self.setup.objective)
            recorded = self.study.get_trials(deepcopy=False)
            self.after_record(recorded, frozen.number, model)
            del model
            release_memory(since=self.baseline, collect=not result.extras.get("reused_compiled"))
        end = INTERRUPTED if held or held_late else result.end
        return StepEnd(end, result=result, frozen=frozen, trials=recorded)


def started_params(trial: optuna.Trial, setup: TrialSetup) -> dict[str, Any]:
    """The values a trial will train with, suggested now (suggesting again returns the same).

    Empty when suggesting fails; the trial itself then records why.
    """
    try:
        setup.space.suggest(trial)
    except Exception:
        return {}
    return dict(trial.params)

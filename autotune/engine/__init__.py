"""The engine: Optuna study (sampler, pruner, storage), the objective, budgets, failures, resume."""

from autotune.engine._objective import PRUNED_ENDS, TrialSetup, record, run_trial
from autotune.engine._run import (
    RunOptions,
    RunReport,
    TrialEvent,
    TrialStarted,
    prepare,
    run,
    study_name,
)
from autotune.engine._study import (
    SPACE_ATTR,
    SPEC_ATTR,
    counted,
    default_storage,
    make_pruner,
    make_sampler,
    mark_abandoned,
    open_study,
)

__all__ = [
    "PRUNED_ENDS",
    "SPACE_ATTR",
    "SPEC_ATTR",
    "RunOptions",
    "RunReport",
    "TrialEvent",
    "TrialSetup",
    "TrialStarted",
    "counted",
    "default_storage",
    "make_pruner",
    "make_sampler",
    "mark_abandoned",
    "open_study",
    "prepare",
    "record",
    "run",
    "run_trial",
    "study_name",
]

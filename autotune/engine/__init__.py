"""The engine: Optuna study (sampler, pruner, storage), the objective, budgets, failures, resume."""

from autotune.engine._objective import PRUNED_ENDS, TrialSetup, record, run_trial
from autotune.engine._reserve import outstanding, pop, reserve, retry
from autotune.engine._run import (
    RunEvent,
    RunOptions,
    RunReport,
    TrialEvent,
    TrialStarted,
    prepare,
    run,
    study_name,
)
from autotune.engine._storage import open_storage
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
    "RunEvent",
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
    "open_storage",
    "open_study",
    "outstanding",
    "pop",
    "prepare",
    "record",
    "reserve",
    "retry",
    "run",
    "run_trial",
    "study_name",
]

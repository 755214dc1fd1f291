"""The engine: Optuna study (sampler, pruner, storage), the objective, budgets, failures, resume."""

from autotune.engine._context import TrialContext
from autotune.engine._objective import PRUNED_ENDS, TrialBody, TrialSetup, record, run_trial
from autotune.engine._prepare import Prepared, prepare
from autotune.engine._reserve import outstanding, pop, reserve, retry
from autotune.engine._run import (
    RunEvent,
    RunOptions,
    RunReport,
    TrialEvent,
    TrialStarted,
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
from autotune.engine._tune import objective, tune
from autotune.engine._tuned import Study

__all__ = [
    "PRUNED_ENDS",
    "SPACE_ATTR",
    "SPEC_ATTR",
    "Prepared",
    "RunEvent",
    "RunOptions",
    "RunReport",
    "Study",
    "TrialBody",
    "TrialContext",
    "TrialEvent",
    "TrialSetup",
    "TrialStarted",
    "counted",
    "default_storage",
    "make_pruner",
    "make_sampler",
    "mark_abandoned",
    "objective",
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
    "tune",
]

"""The engine: runs a study of a run file or of Python code, trial by trial, within a budget.

Folders by role, lowest first (a folder imports only from the ones before it; see
``tests/engine/test_layers.py``):

- ``_events.py``: what a run tells its display about its trials.
- ``storages/``: the local SQLite storage and its lock, database servers, which storage a run uses.
- ``study/``: opening or resuming the study (sampler, pruner, stored run file); the budget planner.
- ``trial/``: the trial and its contract: bodies (built-in trainer, custom objective, HyperModel,
  builder), the context an objective reports through, recording a result.
- ``reserved/``: the study-wide trial count as reserved tickets; claiming and recording.
- ``setup/``: what a run needs before its first trial.
- ``output/``: result files, kept models and the review note while a study runs.
- ``step/``: one trial, claimed to recorded, for the in-process loop and every worker; held
  Ctrl-C.
- ``workers/``: the worker pool and its processes.
- ``loop/``: the study loop.
- ``api/``: the Python API (``tune``, ``objective``, ``Study``).

Only the public API is exported here; the engine's parts import each other by module.
"""

from autotune.engine._events import RunEvent, TrialEvent, TrialStarted
from autotune.engine.api._tune import objective, tune
from autotune.engine.api._tuned import Study
from autotune.engine.loop._run import RunOptions, RunReport, run
from autotune.engine.trial._context import TrialContext

__all__ = [
    "RunEvent",
    "RunOptions",
    "RunReport",
    "Study",
    "TrialContext",
    "TrialEvent",
    "TrialStarted",
    "objective",
    "run",
    "tune",
]

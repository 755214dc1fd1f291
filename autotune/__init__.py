"""autotune: hyperparameter and training-speed tuning for Keras, ranked by accuracy per second.

The command line (``autotune run space.yaml``) runs a run file; ``autotune.tune`` runs the same
engine from Python on a Space, a custom objective or a KerasTuner HyperModel. The names below
are imported on first use, so ``import autotune`` (and ``autotune validate``) does not load
TensorFlow until something needs it.

Example:
    >>> import autotune as at
    >>> spec = at.load_run_file("search_spaces/quickstart.yaml")
    >>> spec.data.dataset
    'digits'
    >>> at.Space(depth=at.Int(1, 3), optimizer=["adam", "sgd"]).searched()
    ['depth', 'optimizer']
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autotune.engine import (
        RunOptions,
        RunReport,
        Study,
        TrialContext,
        TrialEvent,
        objective,
        run,
        tune,
    )
    from autotune.pruners import TimeASHAPruner
    from autotune.space import Choice, Fixed, Float, Int, Space, TrialConfig
    from autotune.spec import RunSpec, SpecError, load_run_file, load_space
    from autotune.train import TrialResult

__version__ = "0.1.0"

_HOMES = {
    "Choice": "autotune.space",
    "Fixed": "autotune.space",
    "Float": "autotune.space",
    "Int": "autotune.space",
    "Space": "autotune.space",
    "TrialConfig": "autotune.space",
    "RunSpec": "autotune.spec",
    "SpecError": "autotune.spec",
    "load_run_file": "autotune.spec",
    "load_space": "autotune.spec",
    "RunOptions": "autotune.engine",
    "RunReport": "autotune.engine",
    "Study": "autotune.engine",
    "TrialContext": "autotune.engine",
    "TrialEvent": "autotune.engine",
    "objective": "autotune.engine",
    "run": "autotune.engine",
    "tune": "autotune.engine",
    "TrialResult": "autotune.train",
    "TimeASHAPruner": "autotune.pruners",
}

__all__ = [
    "Choice",
    "Fixed",
    "Float",
    "Int",
    "RunOptions",
    "RunReport",
    "RunSpec",
    "Space",
    "SpecError",
    "Study",
    "TimeASHAPruner",
    "TrialConfig",
    "TrialContext",
    "TrialEvent",
    "TrialResult",
    "__version__",
    "load_run_file",
    "load_space",
    "objective",
    "run",
    "tune",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'autotune' has no attribute {name!r}")

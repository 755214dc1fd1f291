"""autotune: hyperparameter and training-performance tuning for Keras, ranked by accuracy per second.

The command line (``autotune run space.yaml``) is the main entry point; the names below are the
Python API.

Example:
    >>> import autotune as at
    >>> spec = at.load_run_file("search_spaces/quickstart.yaml")
    >>> spec.data.dataset
    'digits'
"""

from autotune.engine import RunOptions, RunReport, run
from autotune.space import Choice, Fixed, Float, Int, Space, TrialConfig
from autotune.spec import RunSpec, SpecError, load_run_file
from autotune.train import TrialResult

__version__ = "0.1.0"

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
    "TrialConfig",
    "TrialResult",
    "__version__",
    "run",
    "load_run_file",
]

"""The run file: schema, safe YAML loading, and every user-facing validation message."""

from autotune.spec._describe import describe
from autotune.spec._duration import parse_duration
from autotune.spec._errors import SpecError
from autotune.spec._fixed import fixed_run_file
from autotune.spec._load import load_run_file, load_run_mapping
from autotune.spec._schema import (
    DataSpec,
    ProbeSpec,
    RankSpec,
    RunSpec,
    SearchSpec,
    TrainSpec,
)
from autotune.spec._search import pruner_class, sampler_class
from autotune.spec._space import space_of

__all__ = [
    "DataSpec",
    "ProbeSpec",
    "RankSpec",
    "RunSpec",
    "SearchSpec",
    "SpecError",
    "TrainSpec",
    "describe",
    "fixed_run_file",
    "load_run_file",
    "load_run_mapping",
    "parse_duration",
    "pruner_class",
    "sampler_class",
    "space_of",
]

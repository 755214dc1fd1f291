"""The run file: schema, safe YAML loading, and every user-facing validation message."""

from autotune.spec._describe import describe
from autotune.spec._duration import parse_duration
from autotune.spec._errors import SpecError
from autotune.spec._fixed import fixed_run_file
from autotune.spec._load import load_run_file, load_run_mapping, load_space
from autotune.spec._names import (
    STUDY_NAME_RULE,
    check_study_name,
    derived_study_name,
    is_study_name,
    study_name_from,
)
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
from autotune.spec._storage_url import (
    StorageUrlError,
    expand_storage_url,
    is_server_url,
    redact,
)

__all__ = [
    "STUDY_NAME_RULE",
    "DataSpec",
    "ProbeSpec",
    "RankSpec",
    "RunSpec",
    "SearchSpec",
    "SpecError",
    "StorageUrlError",
    "TrainSpec",
    "check_study_name",
    "derived_study_name",
    "describe",
    "expand_storage_url",
    "fixed_run_file",
    "is_server_url",
    "is_study_name",
    "load_run_file",
    "load_run_mapping",
    "load_space",
    "parse_duration",
    "pruner_class",
    "redact",
    "sampler_class",
    "space_of",
    "study_name_from",
]

"""The run file: schema, safe YAML loading, and every user-facing validation message."""

from autotune.spec._duration import parse_duration
from autotune.spec._schema import DataSpec, RankSpec, RunSpec, SearchSpec, TrainSpec

__all__ = ["DataSpec", "RankSpec", "RunSpec", "SearchSpec", "TrainSpec", "parse_duration"]

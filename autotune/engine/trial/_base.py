"""The contract where the trial bodies meet: what a body is, what every trial of a run shares,
how a trial's end maps to an Optuna state, and how a run writes ``best.yaml``.

Bodies (one module each): the built-in trainer (``_builtin.py``: suggest -> data pipeline ->
model -> trainer), a user's objective, KerasTuner HyperModel or model builder (``_bodies.py``,
made from a run file's import path by ``_code.py``). A body never raises for a problem inside
the trial; it returns it in the outcome's ``TrialResult``, which ``_record.py`` tells the study.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    import optuna

    from autotune.data import Dataset
    from autotune.engine.trial._group import GroupLink
    from autotune.space import Space, TrialConfig
    from autotune.spec import ProbeSpec, RunSpec
    from autotune.train import CompiledModels, TrainOutcome

PRUNED_ENDS = frozenset({"pruned", "nan", "oom", "deadline", "interrupted", "slow"})
"""Ends recorded as PRUNED: the sampler learns from them, and only COMPLETE trials rank."""


class TrialBody(Protocol):
    """What runs one trial: the built-in trainer, a custom objective or a KerasTuner HyperModel.

    It suggests the trial's values, trains, and returns the config and the outcome; a problem
    inside the trial is in the outcome's result, never raised.
    """

    def __call__(
        self, trial: optuna.Trial, setup: TrialSetup, *, deadline: float | None
    ) -> tuple[TrialConfig | None, TrainOutcome]: ...


@dataclass(frozen=True)
class TrialSetup:
    """What every trial of one run shares (plain values, no study).

    ``body`` runs the trial instead of the built-in trainer (the Python API's custom
    objectives, model builders and HyperModels); ``dataset`` is None only for a custom
    objective given no data.
    """

    space: Space
    dataset: Dataset | None
    family: str
    epochs: int
    devices: Sequence[str]
    seed: int
    """Trial N trains with seed ``seed + N`` (``train.trial_seed``, else the run's seed)."""
    objective: str
    steps_per_execution: int | None = None
    """Overrides the trial's ``steps_per_execution`` dimension when set."""
    probe: ProbeSpec | None = None
    scale_lr_with_batch: str = "none"
    lr_reference_batch: int = 256
    body: TrialBody | None = None
    compiled: CompiledModels | None = None
    """Compiled models this process keeps between trials (None: every trial compiles anew)."""
    group: GroupLink | None = None
    """This process's group when several processes train each trial (``processes_per_trial``)."""


class BestFile(Protocol):
    """``best_file(spec, config, study=..., trial_seed=...) -> the text of best.yaml``
    (``fixed_run_file``)."""

    def __call__(
        self,
        spec: RunSpec,
        config: Mapping[str, object],
        *,
        study: str,
        trial_seed: int | None = None,
    ) -> str: ...

"""TrialResult: what one trial's training measured, as plain values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

END_REASONS = ("complete", "pruned", "nan", "oom", "deadline", "interrupted", "error", "slow")
"""How training ended. The engine maps these to Optuna states."""

STOP_REASONS = {
    "deadline": "the study's time budget ran out",
    "nan": "the training loss became NaN or infinite",
    "interrupted": "stopped by Ctrl-C",
}
"""The ``reason`` of a trial stopped by the budget, a NaN loss or Ctrl-C."""


@dataclass(frozen=True)
class TrialResult:
    """The measurements of one trial.

    Attributes:
        accuracy: validation accuracy after the last epoch run (None if no epoch finished); for
            a trial the budget stopped inside an epoch, the accuracy Keras measured then.
        wall_seconds: the whole trial, from suggestion to result (data pipeline, build,
            compile, fit and evaluation).
        train_seconds: seconds inside ``fit``.
        first_epoch_seconds: the first epoch, which includes tracing and compilation.
        examples_per_second: steady-state training throughput (epochs after the first; the
            first epoch when only one ran).
        epochs: epochs completed.
        curve: per-epoch ``(seconds since the trial started, validation accuracy)`` pairs,
            plus the partial last epoch's of a trial the budget stopped inside one.
        devices: the devices the trial trained on.
        end: one of ``END_REASONS``.
        reason: a human explanation when ``end`` is not ``complete``.
        extras: more plain-JSON user attributes (a custom objective's other metrics).
        values: the objective values told to Optuna when a custom objective chose them; empty
            when the run's objective derives them from ``accuracy``.
    """

    accuracy: float | None
    wall_seconds: float
    train_seconds: float
    first_epoch_seconds: float
    examples_per_second: float
    epochs: int
    curve: tuple[tuple[float, float], ...] = ()
    devices: tuple[str, ...] = ()
    end: str = "complete"
    reason: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    values: tuple[float, ...] = ()

    @property
    def partial(self) -> bool:
        """Stopped by the study's budget with an accuracy: ranked with the complete trials,
        marked partial (it trained fewer epochs, or part of its last)."""
        return self.end == "deadline" and self.accuracy is not None

    @property
    def accuracy_per_second(self) -> float | None:
        """Validation accuracy divided by the trial's wall-clock seconds."""
        if self.accuracy is None or self.wall_seconds <= 0:
            return None
        return self.accuracy / self.wall_seconds

    def user_attrs(self) -> dict[str, Any]:
        """The plain-JSON user attributes stored on the Optuna trial."""
        attrs = asdict(self)
        attrs["curve"] = [list(point) for point in self.curve]
        attrs["devices"] = list(self.devices)
        attrs["accuracy_per_second"] = self.accuracy_per_second
        attrs["partial"] = self.partial
        attrs.pop("values")
        extras = attrs.pop("extras")
        attrs.update(extras)
        return attrs

    @classmethod
    def interrupted(cls) -> TrialResult:
        """The result of a trial stopped by Ctrl-C before it measured anything."""
        return cls(
            accuracy=None,
            wall_seconds=0.0,
            train_seconds=0.0,
            first_epoch_seconds=0.0,
            examples_per_second=0.0,
            epochs=0,
            end="interrupted",
            reason=STOP_REASONS["interrupted"],
        )

    def as_interrupted(self) -> TrialResult:
        """This result, ending as ``interrupted`` (a Ctrl-C that TensorFlow wrapped in another
        error, or that ended the trial some other way)."""
        return replace(self, end="interrupted", reason=STOP_REASONS["interrupted"])

    @classmethod
    def from_user_attrs(
        cls, attrs: Mapping[str, Any], *, not_extras: Iterable[str] = ()
    ) -> TrialResult:
        """A TrialResult read back from ``user_attrs()`` as stored on a trial.

        Every attr that is not one of the result's own fields (nor in ``not_extras``, the
        attrs others set on the trial) comes back in ``extras``.

        Example:
            >>> r = TrialResult(0.9, 2.0, 1.5, 1.0, 100.0, 2, extras={"replicas": 1})
            >>> TrialResult.from_user_attrs(r.user_attrs()) == r
            True
        """
        own = {f.name for f in fields(cls)} - {"extras", "values"}
        skip = own | {"accuracy_per_second", "partial", *not_extras}
        return cls(
            accuracy=attrs.get("accuracy"),
            wall_seconds=float(attrs.get("wall_seconds") or 0.0),
            train_seconds=float(attrs.get("train_seconds") or 0.0),
            first_epoch_seconds=float(attrs.get("first_epoch_seconds") or 0.0),
            examples_per_second=float(attrs.get("examples_per_second") or 0.0),
            epochs=int(attrs.get("epochs") or 0),
            curve=tuple((float(a), float(b)) for a, b in attrs.get("curve") or ()),
            devices=tuple(attrs.get("devices") or ()),
            end=str(attrs.get("end", "complete")),
            reason=attrs.get("reason"),
            extras={k: v for k, v in attrs.items() if k not in skip},
        )

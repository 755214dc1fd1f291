"""TrialContext: what a custom objective gets next to its TrialConfig.

The objective trains; the context reports each epoch to the study (so the pruner can stop it),
stops training when the study's time budget runs out, and times the trial. The engine turns
what the context saw and what the objective returned into a ``TrialResult``.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from autotune._stop import stop_requested

if TYPE_CHECKING:
    import keras
    import optuna

    from autotune.train import TrialMonitor


class TrialContext:
    """One trial's link to the study, for objectives that train their own way.

    Use ``keras_callback()`` in ``model.fit`` (it reports every epoch's validation metric,
    honours pruning and the deadline, and times the epochs), or call ``report`` from a loop of
    your own. Pruning is off when the study has several objectives (``directions=``).

    Attributes:
        number: the Optuna trial number.
        seed: this trial's seed (the run's seed plus the trial number).
        epochs: the ``epochs`` the run was given.
        train: the training data ``tune`` was given: ``(x, y)`` arrays or a ``tf.data.Dataset``
            (None when no data was given).
        validation: the validation data, the same way.
        metric: the validation metric reported, e.g. ``"accuracy"`` (Keras logs
            ``val_accuracy``).

    Example:
        >>> import optuna
        >>> study = optuna.create_study(direction="maximize")
        >>> ctx = TrialContext(study.ask(), seed=0, epochs=3)
        >>> [ctx.report(value, step) for step, value in enumerate([0.5, 0.7], start=1)]
        [False, False]
        >>> ctx.curve_values()
        [0.5, 0.7]
    """

    def __init__(
        self,
        trial: optuna.Trial,
        *,
        seed: int,
        epochs: int,
        deadline: float | None = None,
        started_at: float | None = None,
        prune: bool = True,
        metric: str = "accuracy",
        train: Any = None,
        validation: Any = None,
    ) -> None:
        self._trial = trial
        self.number: int = trial.number
        self.seed = seed
        self.epochs = epochs
        self.metric = metric
        self.train = train
        self.validation = validation
        self._deadline = deadline
        self._started_at = time.perf_counter() if started_at is None else started_at
        self._prune = prune
        self._monitors: list[TrialMonitor] = []
        self._manual: list[tuple[float, float]] = []
        self._stopped: str | None = None
        self._model: keras.Model | None = None

    def keras_callback(self) -> keras.callbacks.Callback:
        """A Keras callback for ``model.fit``: reports ``val_<metric>`` after every epoch, stops
        training when the pruner or the deadline says so, or on a NaN loss.

        The model it trains is kept as the trial's model (``study.best_model()``) unless
        ``keep_model`` names another. Each call makes a new callback; use one per ``fit``.
        """
        from autotune.train import TrialMonitor

        monitor = TrialMonitor(
            started_at=self._started_at,
            report=self._report_epoch if self._prune else self._record_only,
            deadline=self._deadline,
            monitor=f"val_{self.metric}",
        )
        self._monitors.append(monitor)
        return monitor

    def report(self, value: float, step: int) -> bool:
        """Report an intermediate value (``step`` counts epochs from 1); True means stop now.

        It is True when the pruner prunes the trial, the study's time budget has run out or
        Ctrl-C stopped the run;
        return from the objective (or raise ``optuna.TrialPruned``) and the trial ends as
        pruned, or at the deadline, whatever the objective returns.
        """
        self._manual.append((time.perf_counter() - self._started_at, float(value)))
        if stop_requested():  # Ctrl-C, even one Python dropped in a finalizer
            self._stopped = self._stopped or "interrupted"
            return True
        if self._prune and math.isfinite(value):
            self._trial.report(float(value), step)
            if self._trial.should_prune():
                self._stopped = self._stopped or "pruned"
                return True
        if self.seconds_left() == 0.0:
            self._stopped = self._stopped or "deadline"
            return True
        return False

    def should_prune(self) -> bool:
        """Whether the pruner would stop this trial now (always False without pruning)."""
        return self._prune and self._trial.should_prune()

    def seconds_left(self) -> float | None:
        """Seconds until the study's time budget runs out, or None without a budget."""
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - time.perf_counter())

    def keep_model(self, model: keras.Model) -> None:
        """Keep ``model`` as this trial's trained model (saved if the trial may win)."""
        self._model = model

    def curve_values(self) -> list[float]:
        """The validation values reported so far, in order."""
        return [value for _, value in self.curve()]

    # The engine reads these after the objective returns.

    def curve(self) -> list[tuple[float, float]]:
        """``(seconds since the trial started, value)`` for every reported epoch."""
        points = [p for m in self._monitors for p in m.curve] + self._manual
        return sorted(points)

    @property
    def stopped(self) -> str | None:
        """Why training was stopped early: ``pruned``, ``deadline``, ``nan``, or None."""
        for monitor in self._monitors:
            if monitor.stopped is not None:
                return monitor.stopped
        return self._stopped

    @property
    def model(self) -> keras.Model | None:
        """The kept model: ``keep_model``'s, else the last model a callback trained."""
        if self._model is not None:
            return self._model
        for monitor in reversed(self._monitors):
            if monitor.model is not None:
                return monitor.model
        return None

    def timing(self, train_examples: int | None) -> dict[str, float]:
        """Train seconds, first-epoch seconds and steady examples/second the callbacks saw."""
        train_seconds = 0.0
        epochs: list[float] = []
        phases: list[float] = []
        for monitor in self._monitors:
            if monitor.fit_started is not None:
                ended = monitor.fit_ended or time.perf_counter()
                train_seconds += ended - monitor.fit_started
            epochs += monitor.epoch_seconds
            phases += monitor.train_phase_seconds
        steady = phases[1:] if len(phases) > 1 else phases
        per_second = 0.0
        if train_examples and sum(steady) > 0:
            per_second = train_examples * len(steady) / sum(steady)
        return {
            "train_seconds": train_seconds,
            "first_epoch_seconds": epochs[0] if epochs else 0.0,
            "examples_per_second": per_second,
        }

    def _report_epoch(self, epoch: int, value: float) -> bool:
        self._trial.report(value, epoch)
        return self._trial.should_prune()

    def _record_only(self, epoch: int, value: float) -> bool:
        return False

"""The Keras callback a trial trains with: timing, per-epoch reports, deadline and NaN checks.

The callback only observes and records; it stops training by setting ``model.stop_training``
and says why in ``stopped``. Deciding what a stop means for the study is the engine's job.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import keras

from autotune._stop import stop_requested

Reporter = Callable[[int, float], bool]
"""``report(epoch, val_accuracy) -> prune?``: called after every epoch (epoch counts from 1)."""


class TrialMonitor(keras.callbacks.Callback):
    """Times epochs, reports validation accuracy, and stops on prune, deadline, NaN loss or
    a stop request (Ctrl-C, see ``request_stop``).

    Args:
        started_at: ``time.perf_counter()`` when the trial started; curve times are relative to it.
        report: called with ``(epoch, val_accuracy)`` after each epoch; returning True prunes.
        deadline: a ``time.perf_counter()`` value after which training stops at the next batch.
        monitor: the log entry reported and recorded in ``curve``. Defaults to
            ``"val_accuracy"``.
    """

    def __init__(
        self,
        *,
        started_at: float,
        report: Reporter | None = None,
        deadline: float | None = None,
        monitor: str = "val_accuracy",
    ) -> None:
        super().__init__()
        self._monitor = monitor
        self._started_at = started_at
        self._report = report
        self._deadline = deadline
        self.stopped: str | None = None
        self.curve: list[tuple[float, float]] = []
        self.partial: tuple[float, float] | None = None
        """``(seconds, accuracy)`` of a model the deadline stopped inside an epoch."""
        self.epoch_seconds: list[float] = []
        self.train_phase_seconds: list[float] = []
        self.fit_started: float | None = None
        self.fit_ended: float | None = None
        self._epoch_start = 0.0
        self._train_phase_end: float | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.fit_started = time.perf_counter()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.fit_ended = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_start = time.perf_counter()
        self._train_phase_end = None

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if stop_requested():
            self.stop("interrupted")
        if self._deadline is not None and time.perf_counter() >= self._deadline:
            self.stop("deadline")
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.stop("nan")

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self._train_phase_end is None:
            self._train_phase_end = time.perf_counter()

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if stop_requested() and self.model is not None:
            self.stop("interrupted")
            self.model.stop_evaluating = True  # the rest of the validation pass is not waited for

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        now = time.perf_counter()
        self.epoch_seconds.append(now - self._epoch_start)
        self.train_phase_seconds.append((self._train_phase_end or now) - self._epoch_start)
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.stop("nan")
            return
        accuracy = logs.get(self._monitor)
        if self.stopped == "deadline" and accuracy is not None:
            # Keras validates the model after a stop inside the epoch: what it reached by the
            # deadline, kept as a partial result (not a point of the per-epoch curve).
            self.partial = (now - self._started_at, float(accuracy))
            return
        if self.stopped in ("deadline", "nan", "interrupted") or accuracy is None:
            # The epoch was cut short; its numbers describe a partial epoch.
            return
        self.curve.append((now - self._started_at, float(accuracy)))
        last = epoch + 1 >= int(self.params.get("epochs", 0) or 0)
        # report every epoch (the pruner records it), but a trial that trained every epoch is
        # complete: a prune after the last one would throw its training away
        if self._report is not None and self._report(len(self.curve), float(accuracy)) and not last:
            self.stop("pruned")
        if not last and self._deadline is not None and time.perf_counter() >= self._deadline:
            # A trial that trained every epoch is complete even if the deadline passed while
            # its last validation ran.
            self.stop("deadline")

    def stop(self, why: str) -> None:
        """Stop training for ``why`` (the first reason given is kept)."""
        if self.stopped is None:
            self.stopped = why
        if self.model is not None:
            self.model.stop_training = True

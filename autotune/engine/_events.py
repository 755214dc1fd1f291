"""What a run tells its display about trials: one started, one ended.

Both the in-process study loop (``loop._run``) and the worker pool (``workers._pool``) send these,
so they live below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrialStarted:
    """A trial is about to run; sent to the progress display.

    ``worker`` is 0 for a trial run inside the ``autotune`` process, else the worker's id
    (from 1). ``params`` are the trial's values when known before it runs.
    """

    number: int
    worker: int
    devices: tuple[str, ...]
    params: dict[str, Any]


@dataclass(frozen=True)
class TrialEvent:
    """A trial has ended; sent to the progress display."""

    number: int
    state: str
    end: str
    accuracy: float | None
    wall_seconds: float
    reason: str | None
    done: int
    total: int
    best_accuracy: float | None
    seconds_left: float | None
    worker: int = 0


RunEvent = TrialStarted | TrialEvent
"""What ``run`` sends to its ``on_event`` callback."""

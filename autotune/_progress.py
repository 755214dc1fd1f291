"""The terminal progress display of ``autotune run`` (used by cli.py only).

On a terminal it keeps a live footer under the per-trial lines: trials done of the total, the
best accuracy so far, the time left, and each running trial with its worker, devices, elapsed
time and parameters. When stdout is not a terminal (a pipe, a CI log, a test) it prints one
plain line per finished trial and nothing else.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from autotune.engine import RunEvent, TrialEvent


def event_line(event: TrialEvent) -> str:
    """One line about a finished trial.

    Example: ``[3/16] trial 2: PRUNED, accuracy 0.7708 in 1.0s · best 0.9826 · 144s left``
    """
    accuracy = "-" if event.accuracy is None else f"{event.accuracy:.4f}"
    best = "-" if event.best_accuracy is None else f"{event.best_accuracy:.4f}"
    left = "" if event.seconds_left is None else f" · {event.seconds_left:.0f}s left"
    end = (
        event.state
        if event.end in ("complete", event.state.lower())
        else f"{event.state} ({event.end})"
    )
    worker = f" (worker {event.worker})" if event.worker else ""
    return (
        f"[{event.done}/{event.total}] trial {event.number}{worker}: {end}, accuracy {accuracy} "
        f"in {event.wall_seconds:.1f}s · best {best}{left}"
    )


def duration(seconds: float) -> str:
    """``42s``, ``3m 05s`` or ``1h 02m``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m {int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h {int(seconds % 3600 // 60):02d}m"


@dataclass
class _Running:
    worker: int
    devices: tuple[str, ...]
    params: dict[str, Any]
    since: float


class Progress:
    """Receives a run's events (``on_event``) and shows them.

    Args:
        console: where to show them; a live footer only when it is a terminal.
        total: the study-wide number of trials asked for (corrected by each finished trial).
        budget: this invocation's wall-clock budget in seconds, or None.
        live: force the live footer on or off. Defaults to None: on for a terminal.
    """

    def __init__(
        self,
        console: Console,
        *,
        total: int,
        budget: float | None = None,
        live: bool | None = None,
    ) -> None:
        self.console = console
        self.total = total
        self.done: int | None = None
        self.best: float | None = None
        self.best_trial: int | None = None
        self.running: dict[int, _Running] = {}
        self.finished_seconds: list[float] = []
        self.workers: set[int] = set()
        self._started = time.monotonic()
        self._deadline = None if budget is None else self._started + budget
        self._lock = threading.Lock()
        use_live = console.is_terminal if live is None else live
        self._live = (
            Live(self, console=console, refresh_per_second=2, transient=True) if use_live else None
        )

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()

    def __call__(self, event: RunEvent) -> None:
        """Take one event from the run."""
        from autotune.engine import TrialStarted

        with self._lock:
            self.workers.add(event.worker)
            if isinstance(event, TrialStarted):
                self.running[event.number] = _Running(
                    event.worker, tuple(event.devices), dict(event.params), time.monotonic()
                )
                return
            self.running.pop(event.number, None)
            self.done, self.total = event.done, event.total
            self.finished_seconds.append(event.wall_seconds)
            accuracy = event.accuracy if event.state == "COMPLETE" else None
            if accuracy is not None and (self.best is None or accuracy > self.best):
                self.best, self.best_trial = accuracy, event.number
            if event.best_accuracy is not None and self.best != event.best_accuracy:
                self.best, self.best_trial = event.best_accuracy, None
            if event.seconds_left is not None:
                self._deadline = time.monotonic() + event.seconds_left
        self.console.print(event_line(event), highlight=False)

    def seconds_left(self) -> tuple[float | None, float | None]:
        """(estimated seconds until the trials are done, seconds left in the budget)."""
        now = time.monotonic()
        budget = None if self._deadline is None else max(0.0, self._deadline - now)
        estimate = None
        if self.finished_seconds and self.done is not None:
            mean = sum(self.finished_seconds) / len(self.finished_seconds)
            remaining = max(0, self.total - self.done)
            in_flight = sum(min(mean, now - r.since) for r in self.running.values())
            estimate = max(0.0, remaining * mean - in_flight) / max(1, len(self.workers))
        return estimate, budget

    def __rich__(self) -> RenderableType:
        with self._lock:
            return self._render()

    def _render(self) -> RenderableType:
        done = "?" if self.done is None else str(self.done)
        parts = [f"trials {done}/{self.total}"]
        if self.best is not None:
            trial = "" if self.best_trial is None else f" (trial {self.best_trial})"
            parts.append(f"best {self.best:.4f}{trial}")
        estimate, budget = self.seconds_left()
        if self.done is not None and self.done >= self.total and not self.running:
            parts.append("writing the results")
        elif estimate is not None and (budget is None or estimate < budget):
            parts.append(f"about {duration(estimate)} left")
        elif budget is not None:
            parts.append(f"{duration(budget)} left in the budget")
        parts.append(f"{duration(time.monotonic() - self._started)} elapsed")
        header = Text(" · ".join(parts), style="bold")
        if not self.running:
            return header
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="dim")
        for column in ("worker", "trial", "devices", "running"):
            table.add_column(column, justify="right" if column != "devices" else "left")
        table.add_column("parameters", overflow="ellipsis", no_wrap=True, ratio=1)
        now = time.monotonic()
        for number, info in sorted(self.running.items(), key=lambda item: item[1].worker):
            table.add_row(
                str(info.worker),
                str(number),
                ", ".join(info.devices),
                duration(now - info.since),
                ", ".join(f"{k}={_short(v)}" for k, v in sorted(info.params.items())),
            )
        return Group(header, table)


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)

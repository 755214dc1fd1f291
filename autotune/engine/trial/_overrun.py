"""Budgets that hold for objectives that never report: stop or record an overrun.

A custom objective or HyperModel that calls ``ctx.report`` (or fits with ``ctx.keras_callback()``)
is stopped at the budget like a built-in trial. One that never reports cannot be told; so:

- where autotune owns the process (``autotune run``/``worker`` and their worker processes), an
  interval timer raises :class:`BudgetOverrun` in the objective :data:`OVERRUN_MARGIN` seconds
  after the budget ends (at the objective's next Python instruction: a ``time.sleep`` is cut at
  once, a single long native call first returns);
- in the caller's own process (the Python API: its signals and threads are the caller's), the
  trial runs to its end and the overrun is recorded on it (``end: deadline`` and
  ``overrun_seconds``) and said in one warning with the remedy.

Either way the trial's end is ``deadline`` and no further trial starts.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

OVERRUN_MARGIN = 5.0
"""Seconds past the budget after which an objective that did not return is stopped."""

REMEDY = "call ctx.report(epoch, accuracy) in its loop (or fit with ctx.keras_callback())"
"""What lets autotune stop an objective at the budget."""


class BudgetOverrun(BaseException):
    """Raised inside an objective still running :data:`OVERRUN_MARGIN` seconds past the budget.

    A BaseException, like KeyboardInterrupt, so that an objective's ``except Exception`` does
    not swallow it.
    """


def can_stop() -> bool:
    """Whether this thread can stop an objective with a timer (the main thread, POSIX)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def stop_at(deadline: float | None, *, enabled: bool) -> Iterator[None]:
    """Raise :class:`BudgetOverrun` in the block once ``deadline + OVERRUN_MARGIN`` has passed.

    ``deadline`` is a ``time.perf_counter()`` instant. Does nothing when not ``enabled``, without
    a deadline, or where :func:`can_stop` is False; the caller then records the overrun with
    :func:`overrun_seconds`.
    """
    if not enabled or deadline is None or not can_stop():
        yield
        return

    def _raise(_signum: int, _frame: Any) -> None:
        raise BudgetOverrun

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(
        signal.ITIMER_REAL, max(0.001, deadline + OVERRUN_MARGIN - time.perf_counter())
    )
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def overrun_seconds(deadline: float | None, now: float | None = None) -> float:
    """Seconds past ``deadline + OVERRUN_MARGIN`` at ``now`` (0 within the margin or no budget).

    Example:
        >>> overrun_seconds(100.0, now=110.0), overrun_seconds(100.0, now=104.0)
        (10.0, 0.0)
    """
    if deadline is None:
        return 0.0
    over = (time.perf_counter() if now is None else now) - deadline
    return over if over > OVERRUN_MARGIN else 0.0

"""A process-wide request to stop training (Ctrl-C), seen by the running trial's callback.

A SIGINT handler raises ``KeyboardInterrupt`` to stop ``fit`` at once, but Python drops an
exception raised while a finalizer (``__del__``, a weakref callback) runs, and TensorFlow runs
many. The handler therefore also calls ``request_stop``; ``TrialMonitor`` checks it after every
batch, so a swallowed interrupt still ends the trial as ``interrupted`` within one step.

It lives outside ``autotune.train`` because the engine's handlers are installed before a
worker imports TensorFlow (which importing ``autotune.train`` would do).

Example:
    >>> from autotune._stop import clear_stop, request_stop, stop_requested
    >>> request_stop()
    >>> stop_requested()
    True
    >>> clear_stop()
    >>> stop_requested()
    False
"""

from __future__ import annotations

import threading

_REQUESTED = threading.Event()


def request_stop() -> None:
    """Ask the running trial (and any later one in this process) to stop training."""
    _REQUESTED.set()


def stop_requested() -> bool:
    """Whether ``request_stop`` was called since the last ``clear_stop``."""
    return _REQUESTED.is_set()


def clear_stop() -> None:
    """Forget an earlier request (a new run in the same process starts clean)."""
    _REQUESTED.clear()

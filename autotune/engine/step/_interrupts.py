"""Holding Ctrl-C while the study and the result files are written."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from autotune._stop import clear_stop, request_stop


class _Held:
    """Whether a Ctrl-C arrived while interrupts were held."""

    def __init__(self) -> None:
        self.hit = False

    def __bool__(self) -> bool:
        return self.hit


@contextmanager
def held_interrupts() -> Iterator[_Held]:
    """Hold Ctrl-C (SIGINT) until the block ends, so the study and files stay consistent."""
    held = _Held()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return

    def note(signum: int, frame: object) -> None:
        held.hit = True

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def noted_interrupts() -> Iterator[_Held]:
    """Let Ctrl-C interrupt the block as usual, and note that it did.

    TensorFlow may turn the KeyboardInterrupt raised inside ``fit`` into another error; the
    note lets the engine still stop the run and record the trial as interrupted.
    """
    noted = _Held()
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return

    def interrupt(signum: int, frame: object) -> None:
        noted.hit = True
        request_stop()  # seen by the training loop even if the exception below is dropped
        raise KeyboardInterrupt

    clear_stop()
    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)
        clear_stop()  # the request was for this block's trial only

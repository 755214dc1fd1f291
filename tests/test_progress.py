"""The progress display of `autotune run`: plain lines off a terminal, a live footer on one."""

from __future__ import annotations

import io

from rich.console import Console

from autotune._progress import Progress, duration
from autotune.engine import TrialEvent, TrialStarted


def _finished(number: int, done: int, accuracy: float | None, *, worker: int = 0) -> TrialEvent:
    return TrialEvent(
        number=number,
        state="COMPLETE" if accuracy is not None else "PRUNED",
        end="complete" if accuracy is not None else "pruned",
        accuracy=accuracy,
        wall_seconds=4.0,
        reason=None,
        done=done,
        total=10,
        best_accuracy=accuracy,
        seconds_left=100.0,
        worker=worker,
    )


def _started(number: int, worker: int) -> TrialStarted:
    params = {"learning_rate": 0.0031622, "optimizer": "adam"}
    return TrialStarted(number=number, worker=worker, devices=(f"/gpu:{worker}",), params=params)


def test_off_a_terminal_it_prints_one_plain_line_per_finished_trial() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    with Progress(console, total=10, budget=120.0) as progress:
        progress(_started(0, 0))
        progress(_finished(0, 1, 0.9))
        progress(_started(1, 2))
        progress(_finished(1, 2, None, worker=2))
    lines = out.getvalue().splitlines()
    assert lines == [
        "[1/10] trial 0: COMPLETE, accuracy 0.9000 in 4.0s · best 0.9000 · 100s left",
        "[2/10] trial 1 (worker 2): PRUNED, accuracy - in 4.0s · best - · 100s left",
    ]
    assert "\x1b[" not in out.getvalue()


def test_the_live_footer_shows_done_best_time_left_and_running_trials_per_worker() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=140, color_system=None)
    progress = Progress(console, total=10, budget=600.0, live=False)
    progress(_started(0, 0))
    progress(_started(1, 1))
    progress(_finished(0, 1, 0.93))
    progress(_started(2, 0))

    shown = Console(file=io.StringIO(), width=140, color_system=None)
    shown.print(progress)
    text = shown.file.getvalue()  # type: ignore[attr-defined]

    assert "trials 1/10" in text and "best 0.9300 (trial 0)" in text
    assert "left" in text and "elapsed" in text
    rows = [line.split() for line in text.splitlines() if "/gpu:" in line]
    assert [(row[0], row[1], row[2]) for row in rows] == [
        ("0", "2", "/gpu:0"),
        ("1", "1", "/gpu:1"),
    ]
    assert "learning_rate=0.00316, optimizer=adam" in text


def test_time_left_is_the_sooner_of_the_estimate_and_the_budget() -> None:
    console = Console(file=io.StringIO(), force_terminal=False)
    progress = Progress(console, total=10, budget=None)
    progress(_finished(0, 1, 0.9))  # 4 s a trial, 9 to go, one worker: about 36 s
    estimate, budget = progress.seconds_left()
    assert budget is not None and 99 <= budget <= 100  # the event's 100 s, counting down
    assert estimate is not None and 35 <= estimate <= 36


def test_durations_read_as_a_person_would_say_them() -> None:
    assert [duration(s) for s in (4.2, 65, 3725)] == ["4s", "1m 05s", "1h 02m"]

"""`autotune dashboard` in a real browser: the study, its trials, its metric names, its note."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import keep_screenshot

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dashboard(finished_study: Path) -> Iterator[str]:
    """`autotune dashboard` serving the finished study on a free localhost port."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "autotune", "dashboard", str(finished_study), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/studies", timeout=2) as response:
                    json.load(response)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the dashboard did not answer in 60 s"
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_dashboard_shows_the_study_its_trials_metric_names_and_note(
    dashboard: str, browser: Any, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{dashboard}/dashboard")
        page.wait_for_selector("text=tiny", timeout=30_000)

        page.goto(f"{dashboard}/dashboard/studies/1")
        page.wait_for_selector("text.ytitle", timeout=30_000)
        # the objective is named by set_metric_names, not Optuna's "Objective Value"
        assert "accuracy" in page.locator("text.ytitle").all_text_contents()
        screenshot = tmp_path / "dashboard.png"
        page.screenshot(path=str(screenshot), full_page=True)

        page.goto(f"{dashboard}/dashboard/studies/1/trials")
        page.wait_for_selector("text=Trial 2", timeout=30_000)
        shown = page.inner_text("body")
        for number in range(3):
            assert f"Trial {number}" in shown
        for attr in ("wall_seconds", "train_seconds", "first_epoch_seconds", "examples_per_second"):
            assert attr in shown, attr
        assert "Intermediate Values" in shown

        page.goto(f"{dashboard}/dashboard/studies/1/note")
        page.wait_for_selector("text=Top 5", timeout=30_000)
        note = page.inner_text("body")
        assert "autotune study tiny" in note and "accuracy per wall-clock second" in note
    finally:
        page.close()

    with Image.open(screenshot) as image:
        assert image.width == 1280 and image.height >= 900
    keep_screenshot(screenshot)

"""report.html in a real browser, offline: it renders its plots without errors or requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import keep_screenshot

pytestmark = pytest.mark.browser


def test_report_renders_every_plot_offline_without_console_errors(
    finished_study: Path, browser: Any, tmp_path: Path
) -> None:
    report = finished_study / "report.html"
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "request",
        lambda request: None if request.url.startswith("file:") else problems.append(request.url),
    )
    try:
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        plots = page.locator("figure svg")
        assert plots.count() == 4
        for index in range(4):
            box = plots.nth(index).bounding_box()
            assert box is not None and box["width"] > 400 and box["height"] > 200
            # drawn, not empty: each plot holds many paths (axes, ticks, glyphs, markers)
            assert plots.nth(index).locator("path").count() > 20
        rows = page.locator("#leaderboard tbody tr")
        assert rows.count() >= 1
        assert "The pick: trial" in page.inner_text(".pick")
        screenshot = tmp_path / "report.png"
        page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.close()
    assert problems == []
    keep_screenshot(screenshot)

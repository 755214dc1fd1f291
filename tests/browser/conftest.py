"""A finished study made by the real `autotune run`, and headless Chromium to look at it.

Chromium is Debian's (``/usr/bin/chromium``, or ``AUTOTUNE_CHROMIUM``), driven by Python's
Playwright with flags that keep it off the network; nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine.conftest import BASE_RUN, autotune_cli, merge

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def finished_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``results/tiny`` of a 3-trial run on digits (median pruner: per-epoch values stored)."""
    root = tmp_path_factory.mktemp("browser")
    run = merge(BASE_RUN, {"search": {"pruner": "median", "trials": 3}})
    (root / "tiny.yaml").write_text(yaml.safe_dump(run, sort_keys=False))
    done = autotune_cli("run", "tiny.yaml", "--results-dir", "results", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "results" / "tiny"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium; fails (not skips) when it cannot start, since it was asked for."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("AUTOTUNE_CHROMIUM") or shutil.which("chromium")
    assert executable, "browser tests need Chromium: apt-get install chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


def keep_screenshot(path: Path) -> None:
    """Copy a screenshot to ``AUTOTUNE_TEST_ARTIFACTS`` when set (CI keeps it to look at)."""
    folder = os.environ.get("AUTOTUNE_TEST_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / path.name)

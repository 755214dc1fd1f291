"""`autotune run/studies/report/dashboard` on a real PostgreSQL study (marker ``postgres``)."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.engine.conftest import BASE_RUN, autotune_cli, merge
from tests.postgres import fresh_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def test_run_then_studies_report_and_dashboard_read_postgresql(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the run file names its database through environment variables, no password in it
    server, name = database.rsplit("/", 1)
    monkeypatch.setenv("AUTOTUNE_TEST_DB", name)
    run_file = tmp_path / "tiny.yaml"
    document = merge(BASE_RUN, {"search": {"trials": 2}})
    document["storage"] = server + "/${AUTOTUNE_TEST_DB}"
    run_file.write_text(yaml.safe_dump(document, sort_keys=False))

    ran = autotune_cli("run", str(run_file), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "done: 2/2 trials in study 'tiny'" in ran.stdout

    listed = autotune_cli("studies", database, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if " tiny " in line)
    assert row.split("│")[3].strip() == "2"  # complete

    out = tmp_path / "elsewhere"
    reported = autotune_cli(
        "report", database, "--study", "tiny", "--results-dir", str(out), cwd=tmp_path
    )
    assert reported.returncode == 0, reported.stderr
    with (out / "tiny" / "leaderboard.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 2
    assert (out / "tiny" / "best.yaml").is_file()

    missing = autotune_cli("report", database, "--study", "nope", cwd=tmp_path)
    assert missing.returncode == 2 and "it has: tiny" in missing.stderr

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server_process = subprocess.Popen(
        [sys.executable, "-m", "autotune", "dashboard", database, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/api/studies"
                with urllib.request.urlopen(url, timeout=2) as response:
                    body = json.load(response)
                break
            except OSError:
                if time.monotonic() > deadline or server_process.poll() is not None:
                    raise
                time.sleep(0.5)
        assert [s["study_name"] for s in body["study_summaries"]] == ["tiny"]
    finally:
        server_process.terminate()
        server_process.wait(timeout=30)

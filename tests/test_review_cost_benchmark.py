"""The review-cost benchmark's smoke mode runs, prints its table and writes its JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import review_cost

pytestmark = pytest.mark.slow


def test_smoke_mode_measures_every_competitor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "review_cost.json"
    assert review_cost.main(["--smoke", "--out", str(out)]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    (row,) = document["rows"]
    assert row["trials"] == 8 and row["repeats"] == 2
    for name in ("refresh_note (per trial)", "write_report (end of run)"):
        assert row[name] > 0
    printed = capsys.readouterr().out
    assert "note / write_results" in printed and f"wrote {out}" in printed

"""The benchmark suite's smoke run (what CI runs): at 10,000 responses every stage of bench/run.py works and is
correct; no time is checked here (speed targets live in bench/RESULTS.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_bench_smoke_run_syncs_the_known_score_and_adds_new_responses_once():
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "10000", "--smoke"],
                         cwd=ROOT, capture_output=True, text=True, timeout=1800)
    report = out.stdout + out.stderr[-3000:]
    assert out.returncode == 0, report
    for check in ("synced NPS equals the sandbox's known score", "stored answers equal the export's",
                  "re-sync with nothing new adds nothing", "1,000 new responses are added once"):
        assert f"[ok] {check}" in out.stdout, report
    assert "[FAIL]" not in out.stdout, report

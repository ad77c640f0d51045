"""A page's first run in a process imports only what that page needs (bench/run.py stage e, the cold journey
page): neither the embedded sandbox's server, nor the Data Hub's model (scikit-learn, scipy) that the
mining thread starts with, nor the sync engine and its HTTP client, nor scipy.stats for Student's t.
Checked in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

ROOT = Path(__file__).resolve().parent.parent
#: What the journey page and the app's start (bootstrap, the worker's threads) import.
JOURNEY_PAGE = ("ui.frame", "ui.cards", "ui.charts", "ui.actions", "workspace.journey_view", "workspace.views",
                "workspace.scores", "workspace.bootstrap", "workspace.worker", "workspace.datahub.worker")
NOT_NEEDED = ("qualtrics.sandbox", "workspace.datahub.sentiment", "sklearn", "scipy", "vaderSentiment",
              "workspace.sync", "workspace.live", "workspace.connection", "requests")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def _imported(loaded: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in loaded)


def test_the_journey_page_and_the_apps_start_import_none_of_what_they_do_not_use():
    loaded = _loaded_after("\n".join(f"import {module}" for module in JOURNEY_PAGE))
    assert [name for name in NOT_NEEDED if _imported(loaded, name)] == []


def test_student_t_for_csat_intervals_and_welch_tests_comes_without_scipy_stats():
    loaded = _loaded_after(
        "from scoring import MetricType, default_mapping, score\nfrom scoring.trends import compare_periods\n"
        "mapping = default_mapping(MetricType.CSAT, [(str(i), str(i), None) for i in range(1, 6)])\n"
        "before = score(MetricType.CSAT, ['5', '4', '2'], mapping, weights=[30, 40, 10])\n"
        "after = score(MetricType.CSAT, ['5', '4', '1'], mapping, weights=[45, 30, 12])\n"
        "assert before.interval_low is not None and compare_periods(before, after).p_value is not None")
    assert _imported(loaded, "scipy.special") and not _imported(loaded, "scipy.stats")

"""Finding 2: open to this machine only until access control is configured; an operator who opens it says so
(PULSE_OPEN_ACCESS=1) and every page then says that anyone can manage it; no page can be framed.

The real app (`streamlit run app.py`) is started as a user would; tests/e2e/test_frame_denial.py loads its
pages in Chromium with the headers on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import pytest

from scripts.appserver import ROOT, free_port
from tests.test_pages import open_page
from tests.test_pages import settings  # noqa: F401  (fixture: own database, the session sandbox)
from ui import routes
from workspace.config import Settings, exposure_problem

BANNER = "anyone who can reach this address can manage Journey Pulse"


def test_the_shipped_configuration_listens_on_loopback_only():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"


@pytest.mark.parametrize("address, pulse_url, login, open_access, refused", [
    ("127.0.0.1", "http://localhost:8501", False, False, False),
    ("0.0.0.0", "http://localhost:8501", False, False, True),
    (None, "http://localhost:8501", False, False, True),           # Streamlit's own default: every interface
    ("127.0.0.1", "https://pulse.example.com", False, False, True),  # behind a reverse proxy
    ("0.0.0.0", "https://pulse.example.com", True, False, False),   # [auth] configured
    ("0.0.0.0", "https://pulse.example.com", False, True, False),   # PULSE_OPEN_ACCESS=1
])
def test_reachable_without_access_control_is_refused(address, pulse_url, login, open_access, refused):
    settings = Settings(pulse_url=pulse_url, open_access=open_access)
    assert (exposure_problem(settings, address, login) is not None) is refused


@pytest.mark.slow
def test_streamlit_run_on_all_interfaces_without_auth_refuses_to_start_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUALTRICS_", "PULSE_"))}
    env.update(PULSE_DB=str(tmp_path / "pulse.db"), PULSE_SANDBOX_LIVE="0")
    run = subprocess.run(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(free_port()),
         "--server.address", "0.0.0.0", "--server.headless", "true"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    errors = [line for line in (run.stdout + run.stderr).splitlines() if "ERROR" in line or "Traceback" in line]
    assert len(errors) == 1 and "PULSE_OPEN_ACCESS=1" in errors[0] and "[auth]" in errors[0]


def test_open_access_puts_the_warning_on_every_page(settings, monkeypatch):  # noqa: F811
    monkeypatch.setenv("PULSE_OPEN_ACCESS", "1")
    from workspace import bootstrap
    bootstrap.shutdown()
    for route in (routes.JOURNEYS, routes.INTEGRATIONS, routes.METRICS_LIBRARY, routes.DATA_HUB):
        at = open_page(route)
        assert not at.exception
        assert any(BANNER in w.value for w in at.warning), route


def test_without_open_access_no_page_shows_the_warning(settings):  # noqa: F811
    at = open_page(routes.INTEGRATIONS)
    assert not any(BANNER in w.value for w in at.warning)

"""The command line in another shell uses the connection the app stored, embedded sandbox included.

The real app runs in a subprocess (``scripts/appserver.py``: ``streamlit run app.py``, no Qualtrics settings,
so it starts its embedded sandbox on a random port); it is authorized the way the Authorize button does it;
then ``python -m qualtrics`` and ``python -m workspace`` run as their own processes with only the store's
settings (``PULSE_DB``, and ``PULSE_DATABASE_URL`` on PostgreSQL).
With the app stopped, both say exactly what to run and exit non-zero.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.appserver import AppServer
from tests.engines import store_env
from tests.test_workspace_support import BROWSER, authorize_in_browser
from workspace import connection
from workspace import integration as integration_store
from workspace.config import Settings
from workspace.connection import SANDBOX_NOT_RUNNING, AuthorizationOutcome

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def cli(*argv: str, db: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUALTRICS_", "PULSE_"))}
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT,
                          env={**env, **store_env(), "PULSE_DB": str(db)},
                          capture_output=True, text=True, timeout=120)


def authorize_against_running_app(db: Path, pulse_url: str) -> Settings:
    """Authorize as the card's button does, against the sandbox the running app recorded."""
    settings = Settings.load({**store_env(), "PULSE_DB": str(db), "PULSE_URL": pulse_url}, secrets_path=None)
    running = integration_store.running_sandbox(settings)
    assert running is not None, "the app records its embedded sandbox when it starts it"
    app_settings = settings.with_sandbox(running.base_url, running.client_id, running.client_secret)
    callback = authorize_in_browser(app_settings, started_by="local user")
    assert connection.complete_authorization(app_settings, callback["state"], callback["code"],
                                             browser=BROWSER) == AuthorizationOutcome.CONNECTED
    return settings


def test_cli_uses_the_running_apps_embedded_sandbox_and_says_what_to_run_when_it_stops(tmp_path):
    db = tmp_path / "pulse.db"
    server = AppServer(tmp_path, store_env()).start()
    try:
        settings = authorize_against_running_app(db, server.url)

        listed = cli("qualtrics", "surveys", db=db)
        assert listed.returncode == 0, listed.stderr
        ids = [line.split()[0] for line in listed.stdout.splitlines()[1:]]
        assert ids and all(i.startswith("SV_") for i in ids)

        added = cli("workspace", "add-metric", "--survey", ids[0], "--question", "QID1", "--type", "nps", db=db)
        assert added.returncode == 0, added.stderr
        synced = cli("workspace", "sync", db=db)
        assert synced.returncode == 0, synced.stderr
        assert "responses exported" in synced.stderr
    finally:
        server.stop()

    assert integration_store.running_sandbox(settings) is None
    for argv in (("qualtrics", "surveys"), ("workspace", "sync")):
        stopped = cli(*argv, db=db)
        assert stopped.returncode != 0
        assert SANDBOX_NOT_RUNNING in stopped.stderr, stopped.stderr
        assert "QUALTRICS_CLIENT_ID" not in stopped.stderr
        assert "Traceback" not in stopped.stderr


def test_cli_before_any_authorization_says_how_to_connect_not_that_the_sandbox_is_down(tmp_path):
    stopped = cli("qualtrics", "surveys", db=tmp_path / "pulse.db")
    assert stopped.returncode != 0
    assert SANDBOX_NOT_RUNNING not in stopped.stderr and "authorize the integration in the app" in stopped.stderr


def test_a_recorded_sandbox_whose_port_is_closed_counts_as_not_running(tmp_path):
    from scripts.appserver import free_port

    settings = Settings.load({**store_env(), "PULSE_DB": str(tmp_path / "pulse.db")}, secrets_path=None)
    integration_store.record_sandbox(settings, f"http://127.0.0.1:{free_port()}", "demo", "demo-secret")
    assert integration_store.running_sandbox(settings) is None  # e.g. the app was killed, its row left behind
    integration_store.forget_sandbox(settings)
    assert integration_store.running_sandbox(settings) is None

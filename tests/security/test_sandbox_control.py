"""Finding 10: the sandbox runs only when asked or when nothing is configured, its control endpoints take
JSON with the per-process secret only, and /api/health says nothing about ports or the sandbox.

How tests steer a sandbox: ``sandbox.control_headers()`` (the secret is ``sandbox.control_secret``, new for
every Sandbox object; ``python -m qualtrics.sandbox`` prints it on stderr).
"""

from __future__ import annotations

import logging

import pytest
import requests

from workspace import bootstrap
from workspace.config import ConfigError, Settings


@pytest.mark.parametrize("env, missing", [
    ({"QUALTRICS_CLIENT_ID": "id", "QUALTRICS_CLIENT_SECRET": "secret"}, "QUALTRICS_BASE_URL"),
    ({"QUALTRICS_API_TOKEN": "token"}, "QUALTRICS_BASE_URL"),
    ({"QUALTRICS_DATACENTER": "fra1", "QUALTRICS_CLIENT_ID": "id"}, "QUALTRICS_CLIENT_SECRET"),
    ({"QUALTRICS_BASE_URL": "https://fra1.qualtrics.com", "QUALTRICS_CLIENT_SECRET": "s"}, "QUALTRICS_CLIENT_ID"),
    ({"PULSE_SANDBOX": "1", "QUALTRICS_BASE_URL": "https://fra1.qualtrics.com"}, "QUALTRICS_BASE_URL"),
])
def test_partial_qualtrics_settings_are_a_configuration_error_naming_what_is_missing(env, missing):
    with pytest.raises(ConfigError, match=missing):
        Settings.load(env, secrets_path=None)


def test_the_sandbox_runs_when_nothing_or_pulse_sandbox_is_set_and_says_so(tmp_path, monkeypatch, caplog):
    for name in ("QUALTRICS_BASE_URL", "QUALTRICS_DATACENTER", "QUALTRICS_CLIENT_ID", "QUALTRICS_CLIENT_SECRET",
                 "QUALTRICS_API_TOKEN", "PULSE_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml
    monkeypatch.setenv("PULSE_DB", str(tmp_path / "pulse.db"))
    monkeypatch.setenv("PULSE_SANDBOX_LIVE", "0")
    for env, reason in (({}, "no Qualtrics setting is configured"), ({"PULSE_SANDBOX": "1"}, "PULSE_SANDBOX=1")):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        bootstrap.shutdown()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="journey_pulse"):
            runtime = bootstrap.runtime()
        try:
            assert runtime.sandbox is not None
            lines = [r.getMessage() for r in caplog.records if "Qualtrics:" in r.getMessage()]
            assert len(lines) == 1 and "FAKE" in lines[0] and reason in lines[0]
        finally:
            bootstrap.shutdown()


def test_control_endpoints_refuse_requests_without_the_secret_or_not_json(fresh_sandbox):
    url = f"{fresh_sandbox.base_url}/_sandbox/live"
    total = fresh_sandbox.survey("nps").responses
    # What a page on another origin can send without a preflight: text/plain, no custom header.
    assert requests.post(url, data='{"survey": "nps", "count": 5}', headers={"Content-Type": "text/plain"},
                         timeout=5).status_code == 403
    assert requests.post(url, json={"survey": "nps", "count": 5}, timeout=5).status_code == 403
    assert requests.post(url, json={"count": 5}, headers={"X-Sandbox-Secret": "guess"}, timeout=5).status_code == 403
    assert requests.get(f"{fresh_sandbox.base_url}/_sandbox/faults", timeout=5).status_code == 403
    with_secret_as_text = {**fresh_sandbox.control_headers(), "Content-Type": "text/plain"}
    assert requests.post(url, data='{"count": 5}', headers=with_secret_as_text, timeout=5).status_code == 415
    assert requests.post(url, json={"count": -5}, headers=fresh_sandbox.control_headers(), timeout=5).status_code == 400
    assert fresh_sandbox.store.total(fresh_sandbox.survey("nps")) == total, "nothing refused changed anything"
    ok = requests.post(url, json={"survey": "nps", "count": 2}, headers=fresh_sandbox.control_headers(), timeout=5)
    assert ok.status_code == 200 and ok.json()["total"] == total + 2

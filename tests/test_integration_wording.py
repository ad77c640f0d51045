"""Every state of the Integrations card says only true things (issue 10, "Wording that is not true").

The card runs through AppTest on the real page script, against the session's sandbox over real HTTP (and,
for the embedded-sandbox wording, against a sandbox the app's bootstrap starts itself). One test per state:
not enabled, enabled but not authorized, active, error (refresh revoked), denied, disconnected, and a
missing permission, each of the six. A shared check holds in all of them: any "click X" names a button
the card shows, and the badge is exactly one contract word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from qualtrics.permissions import REQUIRED_PERMISSIONS
from tests.test_pages import (button_labels, connect, no_exception, nps_metric, open_page, settings,  # noqa: F401
                              shown_text, status_badges)
from ui import routes
from workspace import bootstrap, connection, sync
from workspace import integration as integration_store
from workspace.config import Settings
from workspace.connection import AuthorizationOutcome

CLICK = re.compile(r"\b[Cc]lick (Enable|Authorize|Reauthorize|Disconnect)\b")


def assert_true_card(at, badge: str, buttons: set[str]) -> str:
    """The badge is ``badge``, the buttons are ``buttons``, and every "click X" names one of them."""
    no_exception(at)
    assert status_badges(at) == {badge}
    shown = button_labels(at) & {"Enable", "Authorize", "Reauthorize", "Disconnect"}
    assert shown == buttons
    text = shown_text(at)
    for named in CLICK.findall(text):
        assert named in shown, f"the card says 'click {named}' but shows only {sorted(shown)}"
    return text


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """No Qualtrics settings at all: the app's bootstrap starts the embedded sandbox, as on a fresh machine."""
    monkeypatch.setenv("PULSE_DB", str(tmp_path / "pulse.db"))
    monkeypatch.setenv("PULSE_SANDBOX_LIVE", "0")
    monkeypatch.setenv("PULSE_SYNC_INTERVAL", "3600")
    for name in ("QUALTRICS_BASE_URL", "QUALTRICS_DATACENTER", "QUALTRICS_CLIENT_ID", "QUALTRICS_CLIENT_SECRET",
                 "QUALTRICS_API_TOKEN", "PULSE_URL", "PULSE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    bootstrap.shutdown()
    yield bootstrap.runtime().settings
    bootstrap.shutdown()


def test_not_enabled_embedded_sandbox_is_inactive_and_never_says_connected(embedded):
    at = open_page(routes.INTEGRATIONS)
    text = assert_true_card(at, "Inactive", {"Enable"})
    assert "Connected" not in text and "Not enabled" in text
    assert "embedded Qualtrics sandbox" in text
    assert "Account" not in text and "Permissions checked" not in text


def test_enabled_but_not_authorized_says_enabled_by_not_connected_by(embedded):
    at = open_page(routes.INTEGRATIONS)
    at.button(key="enable").click().run()
    text = assert_true_card(at, "Inactive", {"Authorize"})
    assert "Connected by" not in text and "Connected to" not in text
    assert "Enabled by" in text and "local user" in text
    assert "click Authorize" in text


def test_active_embedded_sandbox_says_connected_with_account_and_permissions(embedded):
    connect(embedded)
    at = open_page(routes.INTEGRATIONS)
    text = assert_true_card(at, "Active", {"Disconnect"})
    assert "Connected to the embedded Qualtrics sandbox" in text
    assert "Dana Demo (dana.demo@example.com)" in text and "Connected by" in text
    assert "Permissions checked: " + ", ".join(REQUIRED_PERMISSIONS) in text
    assert not at.warning and not at.error


def test_revoked_refresh_token_shows_error_with_reauthorize_and_the_reason(settings, sandbox):
    connect(settings)
    sandbox.faults.update({"refresh_revoked": True, "token_expires_after_calls": 1})
    with pytest.raises(Exception):
        with connection.reporting_auth_failures(settings), connection.open_client(settings) as client:
            client.surveys()
            client.surveys()
    reason = integration_store.get_integration(settings).error_message
    assert reason and "Reauthorize" in reason

    at = open_page(routes.INTEGRATIONS)
    text = assert_true_card(at, "Error", {"Reauthorize", "Disconnect"})
    assert reason in [e.value for e in at.error]
    assert "Connected to" not in text, "an integration in Error is not working: never 'Connected to'"


@pytest.mark.parametrize("state, button", [("enabled", "Authorize"), ("error", "Reauthorize"),
                                           ("missing", "Reauthorize")])
def test_denied_names_the_authorize_button_the_card_shows(settings, sandbox, state, button):
    if state == "enabled":
        connection.enable(settings, by="local user")
    else:
        if state == "missing":
            sandbox.faults.missing_permissions = ["Edit Surveys"]
        connect(settings)
        if state == "error":
            connection.mark_error(settings, "Qualtrics no longer accepts the stored authorization; reauthorize "
                                            "the integration (Settings > Integrations > Reauthorize).")
    at = open_page(routes.INTEGRATIONS, query={"oauth": AuthorizationOutcome.DENIED.value})
    badge = {"enabled": "Inactive", "error": "Error", "missing": "Active"}[state]
    assert_true_card(at, badge, {button} | ({"Disconnect"} if state != "enabled" else set()))
    assert AuthorizationOutcome.DENIED.message(button) in [e.value for e in at.error]
    assert f"Click {button} and choose Approve" in AuthorizationOutcome.DENIED.message(button)


def test_denied_before_enable_says_authorize_since_the_callback_enables(settings):
    # An authorization attempt enables the integration, so after any Deny the card offers Authorize.
    connection.begin_authorization(settings, started_by="local user")
    at = open_page(routes.INTEGRATIONS, query={"oauth": AuthorizationOutcome.DENIED.value})
    assert_true_card(at, "Inactive", {"Authorize"})


def test_disconnected_card_forgets_the_account_and_the_permissions(settings):
    connect(settings)
    at = open_page(routes.INTEGRATIONS)
    at.button(key="disconnect").click().run()
    at.button(key="confirm_disconnect_yes").click().run()
    text = assert_true_card(at, "Inactive", {"Authorize"})
    assert "Dana Demo" not in text and "dana.demo@example.com" not in text
    assert "Permissions checked" not in text and "Connected by" not in text and "Data center" not in text
    assert any("disconnected" in s.value for s in at.success)
    record = integration_store.get_integration(settings)
    assert not record.has_token and record.account_name is None and record.permissions_granted == ()

    at.run()  # the confirmation is said once
    assert not at.success
    assert_true_card(at, "Inactive", {"Authorize"})


@pytest.mark.parametrize("missing", REQUIRED_PERMISSIONS)
def test_each_missing_permission_is_named_exactly_and_reauthorize_is_offered(settings, sandbox, missing):
    sandbox.faults.missing_permissions = [missing]
    connect(settings)
    at = open_page(routes.INTEGRATIONS)
    assert_true_card(at, "Active", {"Reauthorize", "Disconnect"})
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1
    assert f"lacks these permissions: {missing}." in warnings[0]
    for other in set(REQUIRED_PERMISSIONS) - {missing}:
        assert other not in warnings[0]


def test_sync_refused_for_download_survey_results_names_that_permission(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    sandbox.faults.missing_permissions = ["Download Survey Results"]
    result = sync.sync_metric(settings, metric.id)
    assert result.status == "failed"
    assert "Download Survey Results permission" in result.message
    assert "Access API" not in result.message and "Survey Platform" not in result.message


def test_survey_list_refused_still_names_access_api():
    from qualtrics.permissions import permission_needed

    assert permission_needed("/API/v3/surveys") == "Access API"
    assert permission_needed("/API/v3/surveys/SV_1/export-responses") == "Download Survey Results"
    assert permission_needed("/API/v3/surveys/SV_1/export-responses/ES_2/file") == "Download Survey Results"


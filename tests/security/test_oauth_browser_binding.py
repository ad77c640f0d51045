"""Finding 8: an OAuth attempt completes only in the browser that started it, and a key change at the
callback is an *Error* with *Reauthorize*, not a 500.

Two Starlette TestClients are two browsers (each keeps its own cookies); app.py's real routes and middleware
serve them; the sandbox's real consent page is approved over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app import BROWSER_COOKIE, CALLBACK_PATH, MIDDLEWARE, ROUTES
from tests.sandbox_fixtures import approve_in_browser
from tests.test_pages import settings  # noqa: F401  (fixture: own database, the session sandbox)
from workspace import bootstrap, connection
from workspace import integration as store
from workspace.config import Settings
from workspace.integration import Status


def browser() -> TestClient:
    return TestClient(Starlette(routes=ROUTES, middleware=MIDDLEWARE), base_url="http://localhost:8501")


@pytest.fixture
def browsers(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:  # noqa: F811
    with browser() as ana, browser() as mallory:
        yield ana, mallory


def start_in(client: TestClient, settings: Settings) -> str:  # noqa: F811
    """Click Authorize, follow this tab to the start route: the consent URL (and the browser's cookie set)."""
    answer = client.get(connection.begin_authorization(settings, started_by="ana@example.com"), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert BROWSER_COOKIE in client.cookies
    return answer.headers["location"]


def test_the_browser_cookie_is_http_only_and_same_site_lax(browsers):
    ana, _ = browsers
    answer = ana.get("/api/health")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{BROWSER_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "set-cookie" not in ana.get("/api/health").headers, "set once per browser"


def test_a_forwarded_consent_url_approved_in_another_browser_connects_nothing(settings, browsers):  # noqa: F811
    ana, mallory = browsers
    consent = start_in(ana, settings)
    params = approve_in_browser(consent)  # approved by whoever the link was forwarded to
    answer = mallory.get(CALLBACK_PATH, params=params, follow_redirects=False)
    assert answer.headers["location"] == "/integrations?oauth=other-browser"
    record = store.get_integration(settings)
    assert not record.has_token and record.status == Status.INACTIVE
    # The attempt is spent: the starting browser cannot be tricked into finishing it either.
    assert ana.get(CALLBACK_PATH, params=params, follow_redirects=False).headers["location"] \
        == "/integrations?oauth=invalid-state"


def test_a_start_link_opened_in_a_second_browser_is_refused(settings, browsers):  # noqa: F811
    ana, mallory = browsers
    start = connection.begin_authorization(settings, started_by="ana@example.com")
    assert ana.get(start, follow_redirects=False).status_code == 303
    again = mallory.get(start, follow_redirects=False)
    assert again.headers["location"] == "/integrations?oauth=invalid-state"


def test_the_starting_browser_connects(settings, browsers):  # noqa: F811
    ana, _ = browsers
    params = approve_in_browser(start_in(ana, settings))
    answer = ana.get(CALLBACK_PATH, params=params, follow_redirects=False)
    assert answer.headers["location"] == "/integrations?oauth=connected"
    assert store.get_integration(settings).status == Status.ACTIVE


def test_a_secret_key_change_during_the_dance_is_error_with_reauthorize(settings, browsers, monkeypatch):  # noqa: F811
    ana, _ = browsers
    params = approve_in_browser(start_in(ana, settings))
    monkeypatch.setenv("PULSE_SECRET_KEY", "a passphrase set while the manager was in Qualtrics")
    bootstrap.shutdown()  # the operator restarts the app with the new key
    answer = ana.get(CALLBACK_PATH, params=params, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/integrations?oauth=key-changed"
    status = connection.integration_status(bootstrap.runtime().settings)
    assert status.status == Status.ERROR and status.actions == ("Reauthorize", "Disconnect")
    assert "PULSE_SECRET_KEY" in (status.error_message or "")

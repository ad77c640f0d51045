"""The HTTP routes app.py adds beside the page script: the OAuth start route and callback, and the health check.

AppTest does not exercise st.App routes, so app.py's routes and middleware are mounted on a plain Starlette
app and driven with its TestClient (which keeps cookies like a browser); the authorization code comes from
the sandbox's real consent page.
"""

from __future__ import annotations

from collections.abc import Iterator
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app import CALLBACK_PATH, MIDDLEWARE, ROUTES
from tests.test_pages import settings  # noqa: F401  (fixture: own database, the session sandbox)
from tests.sandbox_fixtures import approve_in_browser
from workspace import connection
from workspace import integration as store
from workspace.config import Settings
from workspace.integration import Status


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:  # noqa: F811
    with TestClient(Starlette(routes=ROUTES, middleware=MIDDLEWARE), base_url="http://localhost:8501") as browser:
        yield browser


def consent_url(settings: Settings, client: TestClient) -> str:  # noqa: F811
    """Click Authorize (the page's part), then follow this tab to the start route: the consent page's URL."""
    start = client.get(connection.begin_authorization(settings, started_by="ana@example.com"), follow_redirects=False)
    assert start.status_code == 303
    return start.headers["location"]


def approved_callback(settings: Settings, client: TestClient) -> dict[str, str]:  # noqa: F811
    """Start an authorization as the Authorize button does and approve it: the callback's query parameters."""
    return approve_in_browser(consent_url(settings, client))


def callback(client: TestClient, params: dict[str, str]):
    return client.get(CALLBACK_PATH, params=params, follow_redirects=False)


def assert_nothing_stored(settings: Settings) -> None:  # noqa: F811
    record = store.get_integration(settings)
    assert not record.has_token
    assert record.status == Status.INACTIVE
    assert record.account_name is None


def test_forged_state_redirects_to_invalid_state_and_stores_nothing(settings, client):  # noqa: F811
    genuine = approved_callback(settings, client)
    answer = callback(client, {"state": "forged-state", "code": genuine["code"]})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/integrations?oauth=invalid-state"
    assert_nothing_stored(settings)
    assert store.pending_state_count(settings) == 1, "a forged state must not spend the genuine one"


def test_callback_without_state_is_invalid_state(settings, client):  # noqa: F811
    answer = callback(client, {"code": "anything"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/integrations?oauth=invalid-state"
    assert_nothing_stored(settings)


def test_declined_consent_redirects_to_denied_and_spends_the_state(settings, client):  # noqa: F811
    params = approve_in_browser(consent_url(settings, client), decision="deny")
    assert params["error"] == "access_denied"
    answer = callback(client, params)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/integrations?oauth=denied"
    assert_nothing_stored(settings)
    assert store.pending_state_count(settings) == 0


def test_approved_code_connects_and_the_redirect_never_carries_the_code(settings, client):  # noqa: F811
    params = approved_callback(settings, client)
    answer = callback(client, params)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location == "/integrations?oauth=connected"
    assert params["code"] not in location and params["state"] not in location
    record = store.get_integration(settings)
    assert record.status == Status.ACTIVE and record.has_token
    assert record.account_name == "Dana Demo (dana.demo@example.com)"
    assert record.created_by == "ana@example.com"
    assert connection.integration_status(settings).actions == ("Disconnect",)


def test_replaying_a_used_state_is_invalid_state_and_changes_nothing(settings, client):  # noqa: F811
    params = approved_callback(settings, client)
    assert callback(client, params).headers["location"] == "/integrations?oauth=connected"
    token_before = store.load_token(settings)
    replay = callback(client, params)
    assert replay.status_code == 303
    assert replay.headers["location"] == "/integrations?oauth=invalid-state"
    assert store.load_token(settings) == token_before
    assert store.get_integration(settings).status == Status.ACTIVE


def test_valid_state_without_a_code_is_failed(settings, client):  # noqa: F811
    params = approved_callback(settings, client)
    answer = callback(client, {"state": params["state"]})
    assert answer.headers["location"] == "/integrations?oauth=failed"
    assert_nothing_stored(settings)


def test_health_reports_the_store_ok_and_nothing_about_qualtrics(settings, client):  # noqa: F811
    answer = client.get("/api/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["database"]["reachable"] and body["database"]["writable"]
    if settings.store.is_postgresql:  # a server's disk is not the app's to measure
        assert body["database"]["engine"] == "postgresql" and body["database"]["disk_free_bytes"] is None
    else:
        assert body["database"]["disk_free_bytes"] > 0
    assert str(settings.qualtrics_base_url) not in answer.text and "sandbox" not in answer.text.lower()


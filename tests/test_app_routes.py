"""The HTTP routes app.py adds beside the page script: the OAuth callback and the health check.

AppTest does not exercise st.App routes, so the handlers are mounted on a plain Starlette app and driven
with its TestClient; the authorization code comes from the sandbox's real consent page.
"""

from __future__ import annotations

from collections.abc import Iterator
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from app import CALLBACK_PATH, health, qualtrics_callback
from tests.test_pages import settings  # noqa: F401  (fixture: own database, the session sandbox)
from tests.sandbox_fixtures import approve_in_browser
from workspace import connection
from workspace import integration as store
from workspace.config import Settings
from workspace.integration import Status


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:  # noqa: F811
    routes = [Route(CALLBACK_PATH, qualtrics_callback), Route("/api/health", health)]
    with TestClient(Starlette(routes=routes), base_url="http://localhost:8501") as test_client:
        yield test_client


def approved_callback(settings: Settings) -> dict[str, str]:  # noqa: F811
    """Start an authorization as the Authorize button does and approve it: the callback's query parameters."""
    return approve_in_browser(connection.begin_authorization(settings, started_by="ana@example.com"))


def callback(client: TestClient, params: dict[str, str]):
    return client.get(CALLBACK_PATH, params=params, follow_redirects=False)


def assert_nothing_stored(settings: Settings) -> None:  # noqa: F811
    record = store.get_integration(settings)
    assert not record.has_token
    assert record.status == Status.INACTIVE
    assert record.account_name is None


def test_forged_state_redirects_to_invalid_state_and_stores_nothing(settings, client):  # noqa: F811
    genuine = approved_callback(settings)
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
    url = connection.begin_authorization(settings, started_by="ana@example.com")
    params = approve_in_browser(url, decision="deny")
    assert params["error"] == "access_denied"
    answer = callback(client, params)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/integrations?oauth=denied"
    assert_nothing_stored(settings)
    assert store.pending_state_count(settings) == 0


def test_approved_code_connects_and_the_redirect_never_carries_the_code(settings, client):  # noqa: F811
    params = approved_callback(settings)
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
    params = approved_callback(settings)
    assert callback(client, params).headers["location"] == "/integrations?oauth=connected"
    token_before = store.load_token(settings)
    replay = callback(client, params)
    assert replay.status_code == 303
    assert replay.headers["location"] == "/integrations?oauth=invalid-state"
    assert store.load_token(settings) == token_before
    assert store.get_integration(settings).status == Status.ACTIVE


def test_valid_state_without_a_code_is_failed(settings, client):  # noqa: F811
    params = approved_callback(settings)
    answer = callback(client, {"state": params["state"]})
    assert answer.headers["location"] == "/integrations?oauth=failed"
    assert_nothing_stored(settings)


def test_health_reports_ok_and_where_qualtrics_is(settings, client):  # noqa: F811
    answer = client.get("/api/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "qualtrics": settings.qualtrics_base_url}


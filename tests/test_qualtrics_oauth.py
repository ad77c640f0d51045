"""The OAuth dance through qualtrics.auth against the sandbox over real HTTP, and the transport-safety rules."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from urllib.parse import parse_qs, urlsplit

import pytest

from qualtrics.auth import (
    OAuthApp,
    begin_authorization,
    client_credentials_token,
    exchange_code,
    is_loopback,
    refresh_token,
)
from qualtrics.client import QualtricsClient
from tests.sandbox_fixtures import approve_in_browser
from qualtrics.errors import AuthenticationFailed, InsecureTransport, ReauthorizationRequired

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

REDIRECT_URI = "http://localhost:8501/api/qualtrics/callback"


def sandbox_app(sb) -> OAuthApp:
    return OAuthApp(sb.base_url, sb.client_id, sb.client_secret, REDIRECT_URI)


def authorize(sb) -> dict:
    """The whole authorization-code dance; returns the token dict the app would store."""
    request = begin_authorization(sandbox_app(sb))
    callback = approve_in_browser(request.url)
    assert callback["state"] == request.state
    return exchange_code(sandbox_app(sb), callback["code"], request.code_verifier)


def test_authorization_url_carries_state_scopes_and_an_s256_challenge_of_the_stored_verifier(sandbox):
    request = begin_authorization(sandbox_app(sandbox))
    query = {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query).items()}
    assert request.url.startswith(f"{sandbox.base_url}/oauth2/auth?")
    assert query["response_type"] == "code"
    assert query["client_id"] == sandbox.client_id
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"] == "read:surveys read:survey_responses read:users"
    assert query["state"] == request.state
    digest = hashlib.sha256(request.code_verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert query["code_challenge_method"] == "S256"
    assert 43 <= len(request.code_verifier) <= 128
    other = begin_authorization(sandbox_app(sandbox))
    assert other.state != request.state and other.code_verifier != request.code_verifier


def test_full_dance_exchange_refresh_and_expired_token_refreshes_itself(fresh_sandbox):
    sb = fresh_sandbox
    token = authorize(sb)
    assert token["access_token"] and token["refresh_token"] and token["expires_at"]

    renewed = refresh_token(sandbox_app(sb), token)
    assert renewed["access_token"] != token["access_token"]

    saved: list[dict] = []
    client = QualtricsClient.with_oauth(sandbox_app(sb), renewed, on_token=saved.append)
    assert client.whoami().user_id == sb.user_id
    assert saved == []  # a valid token is not refreshed

    sb.faults.token_expires_after_calls = 2  # access tokens stop working after their second call
    client.whoami()  # the token's second call
    account = client.whoami()  # 401 AUTH_6.0 -> refresh -> retried transparently
    assert account.user_id == sb.user_id
    assert len(saved) == 1 and saved[0]["access_token"] != renewed["access_token"]
    assert saved[0]["refresh_token"]  # rotated or kept, the caller always gets one to store
    client.whoami()
    client.whoami()  # a second refresh works from whatever refresh token the first one handed back
    assert len(saved) == 2


def test_token_about_to_expire_is_refreshed_before_the_request(fresh_sandbox):
    sb = fresh_sandbox
    sb.faults.access_token_lifetime = 30  # inside the refresh margin: refreshed before use
    token = authorize(sb)
    saved: list[dict] = []
    client = QualtricsClient.with_oauth(sandbox_app(sb), token, on_token=saved.append)
    client.whoami()
    assert len(saved) == 1
    assert sb.oauth.access_tokens[token["access_token"]].calls == 0  # the old token was never sent


def test_revoked_refresh_token_raises_reauthorization_required(fresh_sandbox):
    sb = fresh_sandbox
    token = authorize(sb)
    client = QualtricsClient.with_oauth(sandbox_app(sb), token, on_token=lambda t: None)
    sb.faults.refresh_revoked = True
    sb.faults.token_expires_after_calls = 1
    client.whoami()
    with pytest.raises(ReauthorizationRequired, match="Reauthorize"):
        client.whoami()


def test_a_token_without_refresh_token_ends_in_reauthorization_required(fresh_sandbox):
    token = {**authorize(fresh_sandbox), "expires_at": 0}
    token.pop("refresh_token")
    client = QualtricsClient.with_oauth(sandbox_app(fresh_sandbox), token)
    with pytest.raises(ReauthorizationRequired):
        client.surveys()


def test_denied_consent_comes_back_as_access_denied_with_the_state(sandbox):
    request = begin_authorization(sandbox_app(sandbox))
    callback = approve_in_browser(request.url, decision="deny")
    assert callback == {"error": "access_denied", "error_description": "The user denied the request.",
                        "state": request.state}


def test_a_code_exchanged_with_the_wrong_verifier_is_refused(sandbox):
    request = begin_authorization(sandbox_app(sandbox))
    callback = approve_in_browser(request.url)
    with pytest.raises(AuthenticationFailed, match="invalid_grant"):
        exchange_code(sandbox_app(sandbox), callback["code"], "x" * 64)


def test_client_credentials_grant_gives_a_working_client(sandbox):
    token = client_credentials_token(sandbox_app(sandbox))
    assert "refresh_token" not in token
    client = QualtricsClient.with_client_credentials(sandbox_app(sandbox), token=token)
    assert client.whoami().user_id == sandbox.user_id


def test_wrong_client_secret_is_an_authentication_failure(sandbox):
    app = OAuthApp(sandbox.base_url, sandbox.client_id, "wrong", REDIRECT_URI)
    with pytest.raises(AuthenticationFailed, match="QUALTRICS_CLIENT_SECRET"):
        client_credentials_token(app)


@pytest.mark.parametrize("url, loopback", [
    ("http://127.0.0.1:8080", True), ("http://127.8.9.10/x", True), ("http://localhost:8501", True),
    ("http://[::1]:9000/", True), ("http://example.com", False), ("http://10.0.0.5", False),
    ("http://localhost.example.com", False), ("http://128.0.0.1", False),
])
def test_is_loopback_recognises_only_this_machine(url, loopback):
    assert is_loopback(url) is loopback


def test_plain_http_to_a_non_loopback_host_is_refused_even_if_oauthlib_is_told_otherwise(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    app = OAuthApp("http://qualtrics.example.com", "id", "secret", REDIRECT_URI)
    with pytest.raises(InsecureTransport):
        begin_authorization(app)
    with pytest.raises(InsecureTransport):
        exchange_code(app, "code", "v" * 64)
    with pytest.raises(InsecureTransport):
        client_credentials_token(app)
    with pytest.raises(InsecureTransport):
        QualtricsClient.with_api_token("http://qualtrics.example.com", "token")


def test_loopback_allowance_does_not_leak_into_the_environment(sandbox, monkeypatch):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    client_credentials_token(sandbox_app(sandbox))
    begin_authorization(sandbox_app(sandbox))
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_secrets_do_not_appear_in_reprs(sandbox):
    app = sandbox_app(sandbox)
    token = client_credentials_token(app)
    client = QualtricsClient.with_client_credentials(app, token=token)
    api = QualtricsClient.with_api_token(sandbox.base_url, sandbox.api_token)
    for text in (repr(app), repr(client), repr(api)):
        assert sandbox.client_secret not in text and token["access_token"] not in text
        assert sandbox.api_token not in text


def test_tokens_never_reach_the_logs(fresh_sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    token = authorize(fresh_sandbox)
    fresh_sandbox.faults.token_expires_after_calls = 1
    client = QualtricsClient.with_oauth(sandbox_app(fresh_sandbox), token)
    client.whoami()
    client.whoami()  # forces a refresh through requests-oauthlib
    renewed = client.credentials.token
    assert renewed["access_token"] != token["access_token"]
    for secret in (token["access_token"], token["refresh_token"], renewed["access_token"],
                   fresh_sandbox.client_secret):
        assert secret not in caplog.text

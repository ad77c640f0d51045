"""The sandbox's OAuth 2.0 server over real HTTP: an unchanged requests-oauthlib OAuth2Session does the whole
authorization-code dance (with and without PKCE), and every RFC 6749 error path answers as the RFC says."""

from __future__ import annotations

import base64
import hashlib
import html.parser
import re
import secrets
import urllib.parse

import pytest
import requests
from requests_oauthlib import OAuth2Session

from qualtrics.sandbox import Sandbox
from qualtrics.sandbox.oauth import Client

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

REDIRECT = "http://localhost:8501/api/qualtrics/callback"
SCOPES = ["read:surveys", "read:survey_responses", "read:users"]


class ConsentForm(html.parser.HTMLParser):
    """What a browser would see of the consent page: the form, its fields and its buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action, self.fields, self.buttons, self.text = None, {}, {}, []
        self._button: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "button":
            self._button = a.get("value")

    def handle_data(self, data):
        if self._button is not None:
            self.buttons[data.strip()] = self._button
            self._button = None
        self.text.append(data)


def consent(sb, authorization_url: str) -> ConsentForm:
    page = requests.get(authorization_url)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    form = ConsentForm()
    form.feed(page.text)
    return form


def submit(sb, form: ConsentForm, button: str) -> str:
    """Click a button of the consent form; returns the Location the browser is sent to."""
    response = requests.post(urllib.parse.urljoin(sb.base_url, form.action),
                             data={**form.fields, "decision": form.buttons[button]}, allow_redirects=False)
    assert response.status_code == 302
    return response.headers["Location"]


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


@pytest.fixture
def insecure_loopback(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # http is fine on 127.0.0.1 only, and only here


@pytest.mark.parametrize("pkce", [None, "S256"])
def test_oauth2session_does_the_whole_dance_unchanged(fresh_sandbox, insecure_loopback, pkce):
    sb = fresh_sandbox
    oauth = OAuth2Session(sb.client_id, redirect_uri=REDIRECT, scope=SCOPES, pkce=pkce)
    url, state = oauth.authorization_url(f"{sb.base_url}/oauth2/auth")
    form = consent(sb, url)
    assert set(form.buttons) == {"Approve", "Deny"}
    page_text = " ".join(form.text)
    assert "Journey Pulse" in page_text and all(s in page_text for s in SCOPES)
    callback = submit(sb, form, "Approve")
    assert callback.startswith(REDIRECT + "?") and query_of(callback)["state"] == state

    token = oauth.fetch_token(f"{sb.base_url}/oauth2/token", authorization_response=callback,
                              client_secret=sb.client_secret)
    assert token["token_type"].lower() == "bearer" and token["expires_in"] == 3600
    assert token["scope"] == SCOPES and token["refresh_token"]
    whoami = oauth.get(f"{sb.base_url}/API/v3/whoami")
    assert whoami.status_code == 200 and whoami.json()["result"]["userId"] == sb.user_id

    refreshed = oauth.refresh_token(f"{sb.base_url}/oauth2/token", client_id=sb.client_id,
                                    client_secret=sb.client_secret)
    assert refreshed["access_token"] != token["access_token"]
    assert oauth.get(f"{sb.base_url}/API/v3/surveys").status_code == 200


def _authorize(sb, **params) -> requests.Response:
    query = {"response_type": "code", "client_id": sb.client_id, "redirect_uri": REDIRECT, "state": "s1",
             "scope": "read:surveys", **params}
    return requests.get(f"{sb.base_url}/oauth2/auth", params={k: v for k, v in query.items() if v is not None},
                        allow_redirects=False)


def _code(sb, **params) -> str:
    form = ConsentForm()
    form.feed(_authorize(sb, **params).text)
    return query_of(submit(sb, form, "Approve"))["code"]


def _exchange(sb, code: str, auth="basic", **extra) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra}
    if auth == "basic":
        return requests.post(f"{sb.base_url}/oauth2/token", data=data, auth=(sb.client_id, sb.client_secret))
    return requests.post(f"{sb.base_url}/oauth2/token",
                         data={**data, "client_id": sb.client_id, "client_secret": sb.client_secret})


def test_deny_redirects_with_access_denied_and_state(fresh_sandbox):
    form = ConsentForm()
    form.feed(_authorize(fresh_sandbox, state="xyz").text)
    location = submit(fresh_sandbox, form, "Deny")
    assert location.startswith(REDIRECT) and query_of(location)["error"] == "access_denied"
    assert query_of(location)["state"] == "xyz" and "code" not in query_of(location)


def test_a_consent_request_can_be_answered_once(fresh_sandbox):
    form = ConsentForm()
    form.feed(_authorize(fresh_sandbox).text)
    submit(fresh_sandbox, form, "Approve")
    again = requests.post(f"{fresh_sandbox.base_url}/oauth2/auth", data={**form.fields, "decision": "approve"},
                          allow_redirects=False)
    assert again.status_code == 400


def test_unknown_client_and_unregistered_redirect_do_not_redirect(fresh_sandbox):
    assert _authorize(fresh_sandbox, client_id="intruder").status_code == 400
    response = _authorize(fresh_sandbox, redirect_uri="https://evil.example/cb")
    assert response.status_code == 400 and "Location" not in response.headers
    fresh_sandbox.add_redirect_uri("https://pulse.example/api/qualtrics/callback")
    assert _authorize(fresh_sandbox, redirect_uri="https://pulse.example/api/qualtrics/callback").status_code == 200


@pytest.mark.parametrize("params, error", [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"scope": "read:surveys <script>"}, "invalid_scope"),
    ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
])
def test_bad_authorization_requests_redirect_with_an_error(fresh_sandbox, params, error):
    response = _authorize(fresh_sandbox, **params)
    assert response.status_code == 302
    assert query_of(response.headers["Location"])["error"] == error
    assert query_of(response.headers["Location"])["state"] == "s1"


def test_consent_page_escapes_what_it_shows(fresh_sandbox):
    fresh_sandbox.oauth.clients["evil"] = Client("evil", "pw", '<img src=x onerror="alert(1)">', [REDIRECT])
    page = _authorize(fresh_sandbox, client_id="evil").text
    assert "<img" not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_code_exchange_with_basic_or_form_client_auth(fresh_sandbox):
    for auth in ("basic", "form"):
        response = _exchange(fresh_sandbox, _code(fresh_sandbox), auth=auth)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
        assert body["token_type"] == "bearer" and body["scope"] == "read:surveys"
        assert response.headers["Cache-Control"] == "no-store"


def test_codes_are_single_use_and_a_replay_revokes_the_tokens(fresh_sandbox):
    code = _code(fresh_sandbox)
    token = _exchange(fresh_sandbox, code).json()
    replay = _exchange(fresh_sandbox, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert set(replay.json()) == {"error", "error_description"}
    api = requests.get(f"{fresh_sandbox.base_url}/API/v3/whoami",
                       headers={"Authorization": f"Bearer {token['access_token']}"})
    assert api.status_code == 401


def test_code_is_bound_to_redirect_uri_and_client(fresh_sandbox):
    sb = fresh_sandbox
    wrong_uri = _exchange(sb, _code(sb), redirect_uri="http://localhost:9999/cb")
    assert wrong_uri.json()["error"] == "invalid_grant"
    sb.oauth.clients["other"] = Client("other", "other-secret", "Other", [REDIRECT])
    stolen = requests.post(f"{sb.base_url}/oauth2/token", auth=("other", "other-secret"),
                           data={"grant_type": "authorization_code", "code": _code(sb), "redirect_uri": REDIRECT})
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"


def test_codes_expire(fresh_sandbox):
    fresh_sandbox.faults.code_lifetime = 0
    response = _exchange(fresh_sandbox, _code(fresh_sandbox))
    assert response.json() == {"error": "invalid_grant", "error_description": "Authorization code expired."}


def test_pkce_verifier_is_checked(fresh_sandbox):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    params = {"code_challenge": challenge, "code_challenge_method": "S256"}
    assert _exchange(fresh_sandbox, _code(fresh_sandbox, **params)).json()["error"] == "invalid_grant"
    wrong = _exchange(fresh_sandbox, _code(fresh_sandbox, **params), code_verifier=verifier + "x")
    assert wrong.json()["error"] == "invalid_grant"
    assert _exchange(fresh_sandbox, _code(fresh_sandbox, **params), code_verifier=verifier).status_code == 200


def test_client_authentication_failure_is_401_invalid_client(fresh_sandbox):
    response = requests.post(f"{fresh_sandbox.base_url}/oauth2/token", auth=(fresh_sandbox.client_id, "wrong"),
                             data={"grant_type": "client_credentials"})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_client_credentials_grant_gives_a_token_without_refresh(fresh_sandbox):
    response = requests.post(f"{fresh_sandbox.base_url}/oauth2/token",
                             auth=(fresh_sandbox.client_id, fresh_sandbox.client_secret),
                             data={"grant_type": "client_credentials", "scope": "read:surveys read:survey_responses"})
    body = response.json()
    assert response.status_code == 200 and "refresh_token" not in body
    assert body["scope"] == "read:surveys read:survey_responses"
    api = requests.get(f"{fresh_sandbox.base_url}/API/v3/surveys",
                       headers={"Authorization": f"Bearer {body['access_token']}"})
    assert api.status_code == 200


def test_unsupported_grant_type_and_non_form_bodies(fresh_sandbox):
    auth = (fresh_sandbox.client_id, fresh_sandbox.client_secret)
    response = requests.post(f"{fresh_sandbox.base_url}/oauth2/token", auth=auth, data={"grant_type": "password"})
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
    response = requests.post(f"{fresh_sandbox.base_url}/oauth2/token", auth=auth, json={"grant_type": "x"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_refresh_keeps_scope_and_refuses_widening(fresh_sandbox):
    token = _exchange(fresh_sandbox, _code(fresh_sandbox)).json()
    auth = (fresh_sandbox.client_id, fresh_sandbox.client_secret)
    wider = requests.post(f"{fresh_sandbox.base_url}/oauth2/token", auth=auth,
                          data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
                                "scope": "manage:all"})
    assert wider.json()["error"] == "invalid_scope"
    same = requests.post(f"{fresh_sandbox.base_url}/oauth2/token", auth=auth,
                         data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
    assert same.status_code == 200 and same.json()["scope"] == "read:surveys"
    unknown = requests.post(f"{fresh_sandbox.base_url}/oauth2/token", auth=auth,
                            data={"grant_type": "refresh_token", "refresh_token": "made-up"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"


def _refresh(sb, refresh_token: str) -> requests.Response:
    return requests.post(f"{sb.base_url}/oauth2/token", auth=(sb.client_id, sb.client_secret),
                         data={"grant_type": "refresh_token", "refresh_token": refresh_token})


def test_refresh_keeps_the_refresh_token_by_default(fresh_sandbox):
    first = _exchange(fresh_sandbox, _code(fresh_sandbox)).json()
    second = _refresh(fresh_sandbox, first["refresh_token"]).json()
    assert second["refresh_token"] == first["refresh_token"] and second["access_token"] != first["access_token"]
    assert _refresh(fresh_sandbox, first["refresh_token"]).status_code == 200


def test_refresh_tokens_rotate_with_a_grace_for_concurrent_refreshes(fresh_sandbox):
    fresh_sandbox.faults.rotate_refresh_tokens = True
    first = _exchange(fresh_sandbox, _code(fresh_sandbox)).json()
    second = _refresh(fresh_sandbox, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    # a second worker refreshing with the same old token at the same moment still succeeds
    assert _refresh(fresh_sandbox, first["refresh_token"]).status_code == 200
    fresh_sandbox.faults.refresh_rotation_grace = 0
    third = _refresh(fresh_sandbox, second["refresh_token"]).json()
    assert _refresh(fresh_sandbox, second["refresh_token"]).json()["error"] == "invalid_grant"
    assert _refresh(fresh_sandbox, third["refresh_token"]).status_code == 200


def test_a_replayed_code_revokes_the_rotated_descendants_too(fresh_sandbox):
    fresh_sandbox.faults.rotate_refresh_tokens = True
    code = _code(fresh_sandbox)
    first = _exchange(fresh_sandbox, code).json()
    rotated = _refresh(fresh_sandbox, first["refresh_token"]).json()
    assert _exchange(fresh_sandbox, code).status_code == 400
    assert _refresh(fresh_sandbox, rotated["refresh_token"]).json()["error"] == "invalid_grant"
    api = requests.get(f"{fresh_sandbox.base_url}/API/v3/whoami",
                       headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert api.status_code == 401


# ---------------------------------------------------------------- grants survive a restart of the sandbox


def _whoami(sb, access_token: str) -> requests.Response:
    return requests.get(f"{sb.base_url}/API/v3/whoami", headers={"Authorization": f"Bearer {access_token}"})


@pytest.fixture
def restarted():
    """A factory of sandboxes started after the test's first one stopped (the app restarting its own)."""
    started: list[Sandbox] = []

    def start(seed: int = 7) -> Sandbox:
        sb = Sandbox(seed=seed)
        sb.start()
        started.append(sb)
        return sb

    yield start
    for sb in started:
        sb.stop()


def test_a_grant_from_an_earlier_sandbox_refreshes_and_calls_the_api_after_a_restart(restarted):
    before = restarted()
    token = _exchange(before, _code(before)).json()
    before.stop()

    after = restarted()
    assert after.port != before.port
    assert _whoami(after, token["access_token"]).status_code == 200  # still within its hour
    refreshed = _refresh(after, token["refresh_token"])
    assert refreshed.status_code == 200 and refreshed.json()["scope"] == "read:surveys"
    assert _whoami(after, refreshed.json()["access_token"]).json()["result"]["userId"] == after.user_id


def test_a_sandbox_with_another_seed_refuses_the_grant(restarted):
    before = restarted(seed=7)
    token = _exchange(before, _code(before)).json()
    other = restarted(seed=8)
    assert _whoami(other, token["access_token"]).status_code == 401
    refused = _refresh(other, token["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_tokens_are_opaque_and_tampering_is_refused(fresh_sandbox):
    token = _exchange(fresh_sandbox, _code(fresh_sandbox)).json()
    for kind in ("access_token", "refresh_token"):
        assert re.fullmatch(r"[A-Za-z0-9_-]{60,}", token[kind])
        assert fresh_sandbox.client_secret not in token[kind] and "read:surveys" not in token[kind]
    refresh = token["refresh_token"]
    flipped = refresh[:20] + ("A" if refresh[20] != "A" else "B") + refresh[21:]
    assert _refresh(fresh_sandbox, flipped).json()["error"] == "invalid_grant"
    # an access token is no refresh token, and the reverse
    assert _refresh(fresh_sandbox, token["access_token"]).json()["error"] == "invalid_grant"
    assert _whoami(fresh_sandbox, token["refresh_token"]).status_code == 401


def test_expiry_and_call_limits_hold_for_tokens_from_an_earlier_sandbox(restarted):
    before = restarted()
    before.faults.access_token_lifetime = 0
    expired = _exchange(before, _code(before)).json()
    before.faults.access_token_lifetime = 3600
    fresh = _exchange(before, _code(before)).json()
    before.stop()

    after = restarted()
    assert _whoami(after, expired["access_token"]).status_code == 401
    after.faults.token_expires_after_calls = 1
    assert _whoami(after, fresh["access_token"]).status_code == 200
    assert _whoami(after, fresh["access_token"]).status_code == 401
    after.faults.refresh_revoked = True
    assert _refresh(after, fresh["refresh_token"]).json()["error"] == "invalid_grant"

"""OAuth 2.0 and API-token authentication for Qualtrics, built on requests-oauthlib.

Three modes, one interface (:class:`Credentials`): an API token (``X-API-TOKEN``), an authorization-code grant
with PKCE whose tokens the caller stores (refreshed before expiry and after a 401, new tokens handed to
``on_token``), and the client-credentials grant (no refresh token: a new token is simply requested).

Scopes: ``read:surveys read:survey_responses read:users`` (the minimal set in qualtrics-api.md section 1).
``offline_access`` is NOT requested: it is not in Qualtrics' published scope list, the one working integration
found sends ``offline`` with an unconfirmed meaning, and an unknown scope risks an ``invalid_scope`` refusal at the
consent page. Refresh tokens are expected for the code grant regardless (Nango, Fivetran); when a token comes
back without one, the grant simply ends at expiry with :class:`ReauthorizationRequired`. ``OAuthApp.scopes``
can be overridden (e.g. to add ``offline``) without code changes elsewhere.

Plain http: oauthlib refuses any non-https URL unless ``OAUTHLIB_INSECURE_TRANSPORT`` is set. That variable is
never set globally here: :func:`_oauthlib_transport` sets it only around one token call to a loopback URL, under a
lock, and :func:`qualtrics.transport.ensure_secure_transport` refuses non-loopback http before oauthlib is even
asked (so a globally set variable elsewhere cannot leak tokens either).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.auth import HTTPBasicAuth

from qualtrics.errors import (
    AuthenticationFailed,
    QualtricsError,
    ReauthorizationRequired,
    ServerUnavailable,
)
from qualtrics.transport import (
    GuardedRedirects,
    RetryPolicy,
    ensure_secure_transport,
    error_details,
    is_loopback,
    retrying_session,
)

if TYPE_CHECKING:  # requests-oauthlib is imported by the OAuth calls themselves: an API-token client never makes one
    from requests_oauthlib import OAuth2Session

__all__ = [
    "DEFAULT_SCOPES",
    "ApiTokenCredentials",
    "AuthorizationRequest",
    "ClientCredentials",
    "Credentials",
    "OAuthApp",
    "OAuthCredentials",
    "begin_authorization",
    "client_credentials_token",
    "exchange_code",
    "is_loopback",
    "refresh_token",
]

DEFAULT_SCOPES: tuple[str, ...] = ("read:surveys", "read:survey_responses", "read:users")
#: Refresh this many seconds before ``expires_at`` so a request never starts with a token about to die.
REFRESH_MARGIN = 60.0

# requests-oauthlib logs token request bodies and token responses at DEBUG: keep tokens out of any log.
logging.getLogger("requests_oauthlib").setLevel(logging.INFO)

_INSECURE_VAR = "OAUTHLIB_INSECURE_TRANSPORT"
_transport_lock = threading.Lock()

TokenCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class OAuthApp:
    """A registered Qualtrics OAuth client and where it lives."""

    base_url: str
    client_id: str
    client_secret: str
    redirect_uri: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/oauth2/auth"

    @property
    def token_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/oauth2/token"

    def __repr__(self) -> str:
        return (f"OAuthApp(base_url={self.base_url!r}, client_id={self.client_id!r}, client_secret='***', "
                f"redirect_uri={self.redirect_uri!r}, scopes={self.scopes!r})")


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, plus the two values to store server-side until the callback."""

    url: str
    state: str
    code_verifier: str


@contextmanager
def _oauthlib_transport(url: str) -> Iterator[None]:
    """Let oauthlib accept ``url``: https always, plain http only for loopback and only for this call."""
    ensure_secure_transport(url)
    if urlsplit(url).scheme.lower() == "https":
        yield
        return
    with _transport_lock:
        previous = os.environ.get(_INSECURE_VAR)
        os.environ[_INSECURE_VAR] = "1"
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(_INSECURE_VAR, None)
            else:
                os.environ[_INSECURE_VAR] = previous


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)  # 86 chars of [A-Za-z0-9_-], within RFC 7636's 43..128
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def begin_authorization(app: OAuthApp) -> AuthorizationRequest:
    """Authorization URL with a fresh random ``state`` and an S256 PKCE challenge.

    The verifier is generated here, not by OAuth2Session(pkce=...), because the session object does not survive
    the browser redirect: the caller stores ``state`` and ``code_verifier`` server-side (one row per attempt).
    """
    if not app.redirect_uri:
        raise QualtricsError("The OAuth redirect URI is not configured; set PULSE_URL.")
    from requests_oauthlib import OAuth2Session

    state = secrets.token_urlsafe(32)
    verifier, challenge = _pkce_pair()
    session = OAuth2Session(app.client_id, redirect_uri=app.redirect_uri, scope=list(app.scopes), state=state)
    with _oauthlib_transport(app.authorize_url):
        url, _ = session.authorization_url(
            app.authorize_url, state=state, code_challenge=challenge, code_challenge_method="S256")
    return AuthorizationRequest(url=url, state=state, code_verifier=verifier)


@functools.cache
def _token_session_class() -> type[OAuth2Session]:
    """OAuth2Session whose redirects keep to https and drop credentials on another host (made on first use,
    when requests-oauthlib is imported)."""
    from requests_oauthlib import OAuth2Session

    class TokenSession(GuardedRedirects, OAuth2Session):
        pass

    return TokenSession


def _token_session(app: OAuthApp, policy: RetryPolicy, client: Any = None) -> OAuth2Session:
    """OAuth2Session for the token endpoint only. Status retries (429/5xx) and connect retries are safe for a
    token POST; read retries are not (a replayed code or rotated refresh token would be refused)."""
    session = _token_session_class()(
        client_id=None if client else app.client_id, client=client,
        redirect_uri=app.redirect_uri)
    retrying_session(policy, methods=frozenset({"POST"}), read_retries=False, session=session)
    session.register_compliance_hook("access_token_response", _raise_transient)
    session.register_compliance_hook("refresh_token_response", _raise_transient)
    return session


def _raise_transient(response: requests.Response) -> requests.Response:
    """Token endpoint answered 429/5xx even after retries: a temporary failure, not a verdict on the grant."""
    if response.status_code == 429 or response.status_code >= 500:
        raise ServerUnavailable(
            f"The Qualtrics sign-in service is unavailable ({response.status_code}); try again in a few minutes.")
    return response


def _token_call(app: OAuthApp, session: OAuth2Session, call: Callable[[OAuth2Session], dict[str, Any]],
                on_refusal: Callable[[str], QualtricsError]) -> dict[str, Any]:
    """Run one token-endpoint call, mapping every failure onto a typed error; closes ``session``."""
    from oauthlib.oauth2 import OAuth2Error

    try:
        with session, _oauthlib_transport(app.token_url):
            token = call(session)
    except OAuth2Error as exc:
        raise on_refusal(exc.error or "refused") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
            requests.exceptions.RetryError) as exc:
        raise ServerUnavailable(
            f"Could not reach the Qualtrics sign-in service at {urlsplit(app.token_url).netloc}; "
            "check the network and try again.") from exc
    except ValueError as exc:  # unparsable token response
        raise on_refusal("unreadable token response") from exc
    token = dict(token)
    if "expires_in" in token and "expires_at" not in token:
        token["expires_at"] = time.time() + float(token["expires_in"])
    return token


def exchange_code(app: OAuthApp, code: str, code_verifier: str, *, policy: RetryPolicy = RetryPolicy()
                  ) -> dict[str, Any]:
    """Exchange an authorization code (from the callback) for a token dict (``access_token``, ``refresh_token``,
    ``expires_at``, ...). Client id and secret go in the form body, as Qualtrics' code grant is documented."""

    def call(session: OAuth2Session) -> dict[str, Any]:
        return session.fetch_token(app.token_url, code=code, code_verifier=code_verifier,
                                   client_secret=app.client_secret, include_client_id=True, timeout=policy.timeout)

    return _token_call(app, _token_session(app, policy), call, lambda err: AuthenticationFailed(
        f"Qualtrics did not accept the authorization ({err}); click Authorize to start again."))


def refresh_token(app: OAuthApp, token: Mapping[str, Any], *, policy: RetryPolicy = RetryPolicy()
                  ) -> dict[str, Any]:
    """New token from ``token['refresh_token']`` (client id/secret as HTTP Basic, as Qualtrics documents).
    A refusal is final: :class:`ReauthorizationRequired`."""
    refresh = token.get("refresh_token")
    if not refresh:
        raise ReauthorizationRequired(
            "The Qualtrics authorization has expired and cannot be renewed automatically; reauthorize the "
            "integration (Settings > Integrations > Reauthorize).")

    def call(session: OAuth2Session) -> dict[str, Any]:
        return session.refresh_token(app.token_url, refresh_token=refresh,
                                     auth=HTTPBasicAuth(app.client_id, app.client_secret), timeout=policy.timeout)

    return _token_call(app, _token_session(app, policy), call, lambda err: ReauthorizationRequired())


def client_credentials_token(app: OAuthApp, *, policy: RetryPolicy = RetryPolicy()) -> dict[str, Any]:
    """Token from the client-credentials grant (Basic auth + ``scope``); there is no refresh token."""

    def call(session: OAuth2Session) -> dict[str, Any]:
        return session.fetch_token(app.token_url, auth=HTTPBasicAuth(app.client_id, app.client_secret),
                                   include_client_id=False, scope=" ".join(app.scopes), timeout=policy.timeout)

    from oauthlib.oauth2 import BackendApplicationClient

    session = _token_session(app, policy, client=BackendApplicationClient(client_id=app.client_id))
    return _token_call(app, session, call, lambda err: AuthenticationFailed(
        f"Qualtrics refused the client credentials ({err}); check QUALTRICS_CLIENT_ID and "
        "QUALTRICS_CLIENT_SECRET."))


class Credentials(Protocol):
    """What the client needs from any authentication mode."""

    def headers(self) -> dict[str, str]:
        """Headers that authenticate the next request (refreshing first if the token is about to expire)."""

    def recover_from_401(self, response: requests.Response, sent: Mapping[str, str]) -> bool:
        """After a 401: renew credentials if possible; True means retry the request once."""

    def unauthorized(self, what: str) -> QualtricsError:
        """The error to raise when a request is still unauthorized after recovery."""


class ApiTokenCredentials:
    """``X-API-TOKEN`` mode: nothing to refresh; a 401 means the token is wrong or revoked."""

    def __init__(self, api_token: str) -> None:
        self._token = api_token

    def headers(self) -> dict[str, str]:
        return {"X-API-TOKEN": self._token}

    def recover_from_401(self, response: requests.Response, sent: Mapping[str, str]) -> bool:
        return False

    def unauthorized(self, what: str) -> QualtricsError:
        return AuthenticationFailed(
            f"Qualtrics rejected the API token while reading {what}; check QUALTRICS_API_TOKEN "
            "(Account Settings > Qualtrics IDs > API).")

    def __repr__(self) -> str:
        return "ApiTokenCredentials(api_token='***')"


class _BearerCredentials:
    """Shared bearer-token logic: refresh ahead of expiry and once after a 401 (AUTH_6.0 or any other)."""

    def __init__(self, app: OAuthApp, token: Mapping[str, Any] | None, on_token: TokenCallback | None,
                 policy: RetryPolicy) -> None:
        self.app = app
        self._token: dict[str, Any] = dict(token or {})
        self._on_token = on_token
        self._policy = policy
        self._lock = threading.Lock()

    def _renew(self) -> dict[str, Any]:
        raise NotImplementedError

    def _expiring(self) -> bool:
        if not self._token.get("access_token"):
            return True
        expires_at = self._token.get("expires_at")
        return expires_at is not None and float(expires_at) - time.time() < REFRESH_MARGIN

    def _refresh_locked(self) -> None:
        self._token = self._renew()
        if self._on_token is not None:
            self._on_token(dict(self._token))

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._expiring():
                self._refresh_locked()
            return {"Authorization": f"Bearer {self._token['access_token']}"}

    def recover_from_401(self, response: requests.Response, sent: Mapping[str, str]) -> bool:
        code, _ = error_details(response)
        if code and not code.startswith("AUTH"):  # AUTH_6.0 is the documented expired-token code
            return False
        with self._lock:
            # Another thread may already have refreshed while this request was in flight.
            if sent.get("Authorization") == f"Bearer {self._token.get('access_token')}":
                self._refresh_locked()
        return True

    @property
    def token(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._token)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(app={self.app!r}, token='***')"


class OAuthCredentials(_BearerCredentials):
    """Authorization-code grant tokens; refresh failures end in :class:`ReauthorizationRequired`."""

    def _renew(self) -> dict[str, Any]:
        return refresh_token(self.app, self._token, policy=self._policy)

    def unauthorized(self, what: str) -> QualtricsError:
        return ReauthorizationRequired()


class ClientCredentials(_BearerCredentials):
    """Client-credentials grant: "refresh" means asking for a new token with the client id and secret."""

    def __init__(self, app: OAuthApp, token: Mapping[str, Any] | None = None,
                 on_token: TokenCallback | None = None, policy: RetryPolicy = RetryPolicy()) -> None:
        super().__init__(app, token, on_token, policy)

    def _renew(self) -> dict[str, Any]:
        return client_credentials_token(self.app, policy=self._policy)

    def unauthorized(self, what: str) -> QualtricsError:
        return AuthenticationFailed(
            f"Qualtrics rejected the client-credentials token while reading {what}; check the OAuth client's "
            "scopes and the account's Access API permission.")


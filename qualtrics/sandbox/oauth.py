"""The sandbox's OAuth 2.0 authorization server (RFC 6749 + RFC 7636 PKCE), free of HTTP details.

Codes are single use, short lived and bound to client, redirect URI and PKCE challenge; access tokens expire
(by time, or after N API calls when that fault is armed); refresh tokens can be revoked. Whether Qualtrics rotates
refresh tokens is unconfirmed: by default a refresh returns the same refresh token; with
``faults.rotate_refresh_tokens`` every refresh issues a new one (proving a client stores the new pair), and a
rotated-out token keeps working for ``faults.refresh_rotation_grace`` seconds so that two workers refreshing at the
same moment both succeed. Error bodies are RFC 6749
``{"error", "error_description"}``: Qualtrics' own token-endpoint errors are not documented (qualtrics-api.md §7).

Access and refresh tokens are sealed claims (kind, client, scope, expiry, token family; see `TokenClaims`) signed
with a key derived from the seed and the client secret. The app restarts its embedded sandbox on a new port with
every server start; because the tokens verify without server state, the grant stored in the app's database keeps
working there. What stays in memory is per process and may be forgotten on restart: API call counts, rotated-out
refresh tokens and revoked token families.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from .faults import Faults
from .signing import derive_key, seal, unseal

SCOPE_PATTERN = re.compile(r"^(?:(?:read|write|manage):[a-z_]+|offline|offline_access|openid)$")
DEFAULT_SCOPE = "manage:all"
REFRESH_TOKEN_LIFETIME = 90 * 86_400  # seconds; long enough for a developer's project, not forever
_SIGNATURE_BYTES = 16


class OAuthError(Exception):
    """An RFC 6749 error: ``error`` code, description and HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class Client:
    client_id: str
    secret: str
    name: str
    redirect_uris: list[str]


@dataclass
class PendingAuthorization:
    """What the consent page was shown for; Approve/Deny refer to it by an unguessable id."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    code_challenge: str | None
    created: float


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    expires: float
    family: str  # shared by every token this code's exchange and later refreshes issue
    used: bool = False


@dataclass(frozen=True)
class TokenClaims:
    """What a token says about itself; a sealed JSON list, so any instance with the same seed can read it."""

    kind: str  # "access" | "refresh"
    client_id: str
    scope: str
    expires: float  # epoch seconds
    family: str | None  # None for client-credentials tokens
    nonce: str  # makes every token unique, even two issued in the same instant

    def to_bytes(self) -> bytes:
        fields = [self.kind, self.client_id, self.scope, self.expires, self.family, self.nonce]
        return json.dumps(fields, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, payload: bytes) -> "TokenClaims | None":
        try:
            kind, client_id, scope, expires, family, nonce = json.loads(payload)
            return cls(kind, client_id, scope, float(expires), family, nonce)
        except (ValueError, TypeError):
            return None


@dataclass
class AccessToken:
    """This process's view of an access token: its claims plus the calls made with it (and a server-side
    expiry that tests may cut short)."""

    client_id: str
    scope: str
    expires: float
    family: str | None  # None for client-credentials tokens
    calls: int = 0


@dataclass
class AuthorizationServer:
    faults: Faults
    seed: int = 0  # with the client secret, keys the token signatures
    clients: dict[str, Client] = field(default_factory=dict)
    pending: dict[str, PendingAuthorization] = field(default_factory=dict)
    codes: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)  # seen by this process
    rotated: dict[str, float] = field(default_factory=dict)  # rotated-out refresh token -> end of its grace
    revoked_families: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ---------------------------------------------------------------- authorize

    def begin(self, params: dict[str, str]) -> PendingAuthorization:
        """Validate an authorization request. Errors that must not redirect raise OAuthError with status 400;
        redirectable errors raise RedirectError."""
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            raise OAuthError("invalid_client", "Unknown client_id.")
        redirect_uri = params.get("redirect_uri") or (client.redirect_uris[0] if len(client.redirect_uris) == 1 else "")
        if redirect_uri not in client.redirect_uris:
            raise OAuthError("invalid_request", "redirect_uri is not registered for this client.")
        state = params.get("state")
        if params.get("response_type") != "code":
            raise RedirectError(redirect_uri, state, "unsupported_response_type", "Only response_type=code is supported.")
        scope = " ".join(params.get("scope", DEFAULT_SCOPE).split()) or DEFAULT_SCOPE
        bad = [s for s in scope.split() if not SCOPE_PATTERN.match(s)]
        if bad:
            raise RedirectError(redirect_uri, state, "invalid_scope", f"Unknown scope: {' '.join(bad)}")
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method")
        if method is not None and challenge is None:
            raise RedirectError(redirect_uri, state, "invalid_request", "code_challenge_method without code_challenge.")
        if challenge is not None:
            if method != "S256":
                raise RedirectError(redirect_uri, state, "invalid_request", "code_challenge_method must be S256.")
            if not re.fullmatch(r"[A-Za-z0-9_-]{43}", challenge):
                raise RedirectError(redirect_uri, state, "invalid_request", "Malformed code_challenge.")
        return PendingAuthorization(client.client_id, redirect_uri, scope, state, challenge, time.time())

    def remember(self, pending: PendingAuthorization) -> str:
        request_id = secrets.token_urlsafe(24)
        with self._lock:
            self.pending[request_id] = pending
        return request_id

    def decide(self, request_id: str, approve: bool) -> tuple[str, dict[str, str]]:
        """Approve or deny a pending request: (redirect_uri, query parameters to append)."""
        with self._lock:
            pending = self.pending.pop(request_id, None)
        if pending is None or time.time() - pending.created > 600:
            raise OAuthError("invalid_request", "This authorization request has expired or was already answered.")
        query: dict[str, str] = {}
        if approve:
            code = secrets.token_urlsafe(32)
            with self._lock:
                self.codes[code] = Grant(pending.client_id, pending.redirect_uri, pending.scope, pending.code_challenge,
                                         expires=time.time() + self.faults.code_lifetime,
                                         family=secrets.token_urlsafe(12))
            query["code"] = code
        else:
            query["error"] = "access_denied"
            query["error_description"] = "The user denied the request."
        if pending.state is not None:
            query["state"] = pending.state
        return pending.redirect_uri, query

    # ---------------------------------------------------------------- token endpoint

    def authenticate_client(self, basic: tuple[str, str] | None, form: dict[str, str]) -> Client:
        if basic is not None:
            client_id, secret = basic
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.secret, secret):
            raise OAuthError("invalid_client", "Client authentication failed.", status=401)
        return client

    def token(self, client: Client, form: dict[str, str]) -> dict[str, object]:
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._code_grant(client, form)
        if grant_type == "refresh_token":
            return self._refresh_grant(client, form)
        if grant_type == "client_credentials":
            scope = " ".join(form.get("scope", DEFAULT_SCOPE).split()) or DEFAULT_SCOPE
            if any(not SCOPE_PATTERN.match(s) for s in scope.split()):
                raise OAuthError("invalid_scope", "Unknown scope.")
            return self._issue(client.client_id, scope, family=None)
        raise OAuthError("unsupported_grant_type", f"Unsupported grant_type {grant_type!r}.")

    def _code_grant(self, client: Client, form: dict[str, str]) -> dict[str, object]:
        code = form.get("code", "")
        with self._lock:
            grant = self.codes.get(code)
            if grant is None:
                raise OAuthError("invalid_grant", "Unknown authorization code.")
            if grant.used:
                # RFC 6749 §4.1.2: a replayed code revokes every token descended from it
                self.revoked_families.add(grant.family)
                raise OAuthError("invalid_grant", "Authorization code was already used.")
            grant.used = True
        if time.time() > grant.expires:
            raise OAuthError("invalid_grant", "Authorization code expired.")
        if grant.client_id != client.client_id:
            raise OAuthError("invalid_grant", "Authorization code was issued to another client.")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request.")
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if not verifier or not secrets.compare_digest(digest, grant.code_challenge):
                raise OAuthError("invalid_grant", "PKCE verification failed.")
        return self._issue(client.client_id, grant.scope, family=grant.family)

    def _refresh_grant(self, client: Client, form: dict[str, str]) -> dict[str, object]:
        refresh = form.get("refresh_token", "")
        entry = self._read(refresh, "refresh")
        with self._lock:
            if entry is not None and (entry.family in self.revoked_families
                                      or time.time() >= self.rotated.get(refresh, float("inf"))):
                entry = None
        if self.faults.refresh_revoked or entry is None:
            raise OAuthError("invalid_grant", "Refresh token is invalid or has been revoked.")
        if entry.client_id != client.client_id:
            raise OAuthError("invalid_grant", "Refresh token was issued to another client.")
        scope = entry.scope
        if form.get("scope"):
            requested = set(form["scope"].split())
            if not requested <= set(scope.split()):
                raise OAuthError("invalid_scope", "Refresh may not widen the granted scope.")
            scope = " ".join(s for s in scope.split() if s in requested)
        if not self.faults.rotate_refresh_tokens:
            return self._issue(client.client_id, scope, family=entry.family, keep_refresh=refresh)
        with self._lock:
            self.rotated.setdefault(refresh, time.time() + self.faults.refresh_rotation_grace)
        # the successor keeps the originally granted scope, so a narrowed refresh can widen back later
        return self._issue(client.client_id, scope, family=entry.family, refresh_scope=entry.scope)

    def _issue(self, client_id: str, scope: str, family: str | None, refresh_scope: str | None = None,
               keep_refresh: str | None = None) -> dict[str, object]:
        """A new access token, plus a refresh token (``keep_refresh`` or a new one) unless this is a
        client-credentials grant."""
        lifetime = self.faults.access_token_lifetime
        now = time.time()
        token = self._seal(TokenClaims("access", client_id, scope, round(now + lifetime, 3), family,
                                       secrets.token_urlsafe(12)))
        body: dict[str, object] = {"access_token": token, "token_type": "bearer", "expires_in": lifetime, "scope": scope}
        with self._lock:
            self.access_tokens[token] = AccessToken(client_id, scope, now + lifetime, family)
        if keep_refresh is not None:
            body["refresh_token"] = keep_refresh
        elif family is not None:
            body["refresh_token"] = self._seal(TokenClaims("refresh", client_id, refresh_scope or scope,
                                                           round(now + REFRESH_TOKEN_LIFETIME), family,
                                                           secrets.token_urlsafe(12)))
        return body

    def _key(self, client: Client) -> bytes:
        return derive_key("journey-pulse-sandbox-oauth", self.seed, client.client_id, client.secret)

    def _seal(self, claims: TokenClaims) -> str:
        return seal(self._key(self.clients[claims.client_id]), claims.to_bytes(), _SIGNATURE_BYTES)

    def _read(self, token: str, kind: str) -> TokenClaims | None:
        """The claims of an unexpired ``kind`` token that one of the registered clients' keys signed (by any
        instance with this seed), else None."""
        for client in list(self.clients.values()):
            payload = unseal(self._key(client), token, _SIGNATURE_BYTES)
            if payload is not None:
                claims = TokenClaims.from_bytes(payload)
                if claims is None or claims.kind != kind or claims.client_id != client.client_id:
                    return None
                return claims if time.time() < claims.expires else None
        return None

    def check_access_token(self, token: str) -> bool:
        """True when the bearer token may make one more API call (counts the call)."""
        with self._lock:
            entry = self.access_tokens.get(token)
            if entry is None:
                # issued by an earlier sandbox with this seed (before the app restarted), or not at all
                claims = self._read(token, "access")
                if claims is None:
                    return False
                entry = self.access_tokens[token] = AccessToken(claims.client_id, claims.scope, claims.expires,
                                                                claims.family)
            if entry.family in self.revoked_families or time.time() >= entry.expires:
                return False
            limit = self.faults.token_expires_after_calls
            if limit and entry.calls >= limit:
                return False
            entry.calls += 1
            return True


class RedirectError(OAuthError):
    """An authorization error reported to the client by redirecting back (RFC 6749 §4.1.2.1)."""

    def __init__(self, redirect_uri: str, state: str | None, error: str, description: str) -> None:
        super().__init__(error, description)
        self.redirect_uri, self.state = redirect_uri, state

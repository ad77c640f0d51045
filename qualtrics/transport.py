"""HTTP plumbing shared by every Qualtrics call: retries, timeouts, transport safety and error mapping.

Retries are urllib3's ``Retry`` mounted through ``HTTPAdapter`` (exponential backoff with jitter, Retry-After
honoured), so no call site carries its own sleep loop. POST is retried too: the only POSTs to the API are
export starts, which are safe to repeat (a duplicate job is simply never polled).

Redirects are followed by requests, which strips only ``Authorization`` when the host changes; Qualtrics'
API token travels in ``X-API-TOKEN``, so :class:`GuardedRedirects` strips that too and holds every hop to
https (:func:`ensure_secure_transport`), so a redirect can neither carry the token to another host nor
downgrade the connection.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from qualtrics.errors import (
    AuthenticationFailed,
    InsecureTransport,
    NotFound,
    PermissionDenied,
    QualtricsError,
    RateLimited,
    ServerUnavailable,
)

#: (connect, read) seconds; every request carries a timeout.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine (127.0.0.0/8, ::1, localhost): the only place plain http is allowed."""
    return is_loopback_host(urlsplit(url).hostname or "")


def is_loopback_host(host: str) -> bool:
    """True when the host name or address (IPv6 with or without brackets) is this machine."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ensure_secure_transport(url: str) -> None:
    """Refuse to send credentials over plain http unless the host is loopback (the sandbox)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and is_loopback(url)):
        return
    raise InsecureTransport(
        f"Refusing to talk to {urlsplit(url).netloc or url} over {scheme or 'an unknown scheme'}: "
        "use an https:// Qualtrics URL (plain http is only allowed for the local sandbox).")


#: Headers that carry a credential and must never reach a host other than the one they were set for.
CREDENTIAL_HEADERS = ("X-API-TOKEN", "Authorization", "Cookie", "Proxy-Authorization")


class GuardedRedirects:
    """Mix into a ``requests.Session``: on every redirect hop, refuse plain http (loopback aside) and drop
    every credential header when the new URL is on another host (requests' own rule, ``should_strip_auth``:
    same host with http→https on default ports keeps them)."""

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        new_url = prepared_request.url or ""
        ensure_secure_transport(new_url)
        if self.should_strip_auth(response.request.url, new_url):  # type: ignore[attr-defined]
            for name in CREDENTIAL_HEADERS:
                prepared_request.headers.pop(name, None)
        super().rebuild_auth(prepared_request, response)  # type: ignore[misc]


class GuardedSession(GuardedRedirects, requests.Session):
    """The session every Qualtrics API call goes through."""


class CappedRetry(Retry):
    """urllib3 Retry that honours Retry-After but never sleeps longer than ``MAX_RETRY_AFTER`` seconds at once."""

    MAX_RETRY_AFTER = 60.0

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.MAX_RETRY_AFTER)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry transient failures: ``attempts`` retries each for connect errors, read errors
    (dropped connections) and 429/5xx statuses, with exponential backoff plus jitter."""

    attempts: int = 5
    backoff: float = 0.5
    jitter: float = 0.25
    backoff_max: float = 30.0
    timeout: tuple[float, float] = DEFAULT_TIMEOUT

    def retry(self, methods: frozenset[str], read_retries: bool = True) -> Retry:
        # Separate budgets per kind of failure (total=None): a burst of dropped connections followed by a
        # rate limit must not exhaust one shared counter.
        return CappedRetry(
            total=None,
            connect=self.attempts,
            read=self.attempts if read_retries else 0,
            status=self.attempts,
            other=0,
            backoff_factor=self.backoff,
            backoff_jitter=self.jitter,
            backoff_max=self.backoff_max,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=methods,
            respect_retry_after_header=True,
            raise_on_status=False,
        )


def retrying_adapter(policy: RetryPolicy, methods: frozenset[str] = frozenset({"GET", "POST"}),
                     read_retries: bool = True) -> HTTPAdapter:
    """An HTTPAdapter whose urllib3 Retry follows ``policy`` for the given methods."""
    return HTTPAdapter(max_retries=policy.retry(methods, read_retries))


def retrying_session(policy: RetryPolicy, methods: frozenset[str] = frozenset({"GET", "POST"}),
                     read_retries: bool = True, session: requests.Session | None = None) -> requests.Session:
    """``session`` (a new :class:`GuardedSession` by default) with retrying adapters mounted for both schemes."""
    session = session if session is not None else GuardedSession()
    adapter = retrying_adapter(policy, methods, read_retries)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def error_details(response: requests.Response) -> tuple[str, str]:
    """(errorCode, errorMessage) from Qualtrics' ``meta.error`` envelope or an RFC 6749 token error."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, Mapping):
        return "", ""
    meta = body.get("meta") if isinstance(body.get("meta"), Mapping) else {}
    err = meta.get("error") if isinstance(meta.get("error"), Mapping) else None
    if err:
        return str(err.get("errorCode") or ""), str(err.get("errorMessage") or "")
    if "error" in body:
        return str(body.get("error") or ""), str(body.get("error_description") or "")
    return "", ""


def raise_for_status(response: requests.Response, what: str, permission: str = "Access API") -> None:
    """Turn a non-2xx response into the typed error whose message says what to do next; a 403 names
    ``permission``, the one the refused call needs (:func:`qualtrics.permissions.permission_needed`)."""
    status = response.status_code
    if status < 400:
        return
    code, message = error_details(response)
    detail = f" ({code}: {message})" if code or message else ""
    if status == 401:
        raise AuthenticationFailed(
            f"Qualtrics rejected the credentials while reading {what}{detail}; check QUALTRICS_API_TOKEN "
            "or reconnect the integration.")
    if status == 403:
        raise PermissionDenied(
            f"Qualtrics refused access to {what}{detail}; the connected account needs the {permission} "
            "permission (ask your Qualtrics brand administrator) and must own or collaborate on the survey.")
    if status == 404:
        raise NotFound(
            f"Qualtrics could not find {what}{detail}; check the id and that this account can see it.")
    if status == 429:
        raise RateLimited(
            f"Qualtrics is rate-limiting requests while reading {what}; wait a minute and try again.")
    if status >= 500:
        raise ServerUnavailable(
            f"Qualtrics had a server error ({status}) while reading {what}; try again in a few minutes.")
    raise QualtricsError(f"Qualtrics rejected the request for {what} ({status}{': ' + code if code else ''}"
                         f"{' ' + message if message else ''}); check the request parameters.")


def send(session: requests.Session, method: str, url: str, what: str, *,
         timeout: tuple[float, float] = DEFAULT_TIMEOUT,
         headers: Mapping[str, str] | None = None, **kwargs: Any) -> requests.Response:
    """One request with transport errors mapped to ServerUnavailable (status codes are left to the caller)."""
    ensure_secure_transport(url)
    try:
        return session.request(method, url, timeout=timeout, headers=dict(headers or {}), **kwargs)
    except requests.exceptions.RetryError as exc:
        raise ServerUnavailable(
            f"Qualtrics kept failing requests for {what}; try again in a few minutes.") from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        host = urlsplit(url).netloc
        raise ServerUnavailable(
            f"Could not reach Qualtrics at {host} while reading {what} (connection failed or timed out); "
            "check the network and QUALTRICS_BASE_URL, then try again.") from exc


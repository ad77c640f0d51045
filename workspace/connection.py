"""Connecting to Qualtrics: the Integrations card's actions and the client every sync uses.

Two ways in, in this order (design.md §5): ``QUALTRICS_API_TOKEN`` in the environment (scripts, cron,
the CLI), else the OAuth grant the app stored when an integration manager authorized it. A stored grant
that stops working (refresh refused, token revoked, key changed) turns the integration to *Error* with
the reason, so the card can offer *Reauthorize*.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from qualtrics.auth import OAuthApp
from qualtrics.auth import begin_authorization as oauth_authorization_request
from qualtrics.auth import exchange_code
from qualtrics.client import QualtricsClient
from qualtrics.errors import AuthenticationFailed, QualtricsError, ReauthorizationRequired
from workspace import integration as store
from workspace.config import Settings
from workspace.crypto import SecretKeyError
from workspace.db import utcnow
from workspace.errors import NotConnected
from workspace.integration import Status

HOW_TO_CONNECT = (
    "Qualtrics is not connected: set QUALTRICS_API_TOKEN with QUALTRICS_BASE_URL (or QUALTRICS_DATACENTER), "
    "or authorize the integration in the app under Settings > Integrations.")


class AuthorizationOutcome(StrEnum):
    """How an OAuth callback ended; ``value`` is safe to put in a URL, ``message`` is for the page."""

    CONNECTED = "connected"
    DENIED = "denied"
    INVALID_STATE = "invalid-state"
    FAILED = "failed"

    @property
    def message(self) -> str:
        return {
            AuthorizationOutcome.CONNECTED: "Qualtrics is connected.",
            AuthorizationOutcome.DENIED: "Authorization was declined in Qualtrics, so nothing changed. "
                                         "Click Authorize and choose Approve to connect.",
            AuthorizationOutcome.INVALID_STATE: "This authorization link is unknown, expired (after 10 minutes) "
                                                "or was already used, so nothing changed. Click Authorize again.",
            AuthorizationOutcome.FAILED: "Qualtrics did not complete the authorization. Click Authorize to try "
                                         "again; if it keeps failing, check the OAuth client's redirect URI.",
        }[self]


@dataclass(frozen=True)
class IntegrationStatus:
    """A snapshot for the Integrations card."""

    status: Status
    enabled: bool
    account: str | None
    data_center: str | None
    base_url: str | None
    created_by: str | None
    granted_permissions: tuple[str, ...]
    missing_permissions: tuple[str, ...]
    last_successful_sync: str | None
    error_message: str | None
    is_sandbox: bool
    uses_api_token: bool  # the environment's API token takes precedence over the stored grant
    can_authorize: bool   # an OAuth client id and secret are configured

    @property
    def actions(self) -> tuple[str, ...]:
        """The buttons the card offers, by their contract labels (design.md §6)."""
        if not self.enabled:
            return ("Enable",)
        if self.status == Status.ERROR:
            return ("Reauthorize", "Disconnect")
        if self.status == Status.ACTIVE:
            return ("Disconnect",)
        return ("Authorize",)


def integration_status(settings: Settings) -> IntegrationStatus:
    """The card's snapshot: status, account, data center, missing permissions, last sync, error."""
    record = store.get_integration(settings)
    status = record.status
    if status == Status.ACTIVE and not record.has_token:
        status = Status.INACTIVE
    return IntegrationStatus(
        status=status, enabled=record.enabled, account=record.account_name, data_center=record.datacenter,
        base_url=record.base_url, created_by=record.created_by, granted_permissions=record.permissions_granted,
        missing_permissions=record.permissions_missing, last_successful_sync=record.last_successful_sync,
        error_message=record.error_message, is_sandbox=settings.is_sandbox,
        uses_api_token=bool(settings.api_token and settings.qualtrics_base_url),
        can_authorize=bool(settings.client_id and settings.client_secret and settings.qualtrics_base_url))


def oauth_app(settings: Settings) -> OAuthApp:
    """The configured OAuth client, redirecting to ``{PULSE_URL}/api/qualtrics/callback``."""
    base = settings.qualtrics_base_url or store.get_integration(settings).base_url
    if not base:
        raise NotConnected("No Qualtrics host is configured; set QUALTRICS_BASE_URL or QUALTRICS_DATACENTER.")
    if not (settings.client_id and settings.client_secret):
        raise NotConnected("Set QUALTRICS_CLIENT_ID and QUALTRICS_CLIENT_SECRET (from Qualtrics' OAuth Client "
                           "Manager) to authorize the integration.")
    return OAuthApp(base_url=base, client_id=settings.client_id, client_secret=settings.client_secret,
                    redirect_uri=settings.redirect_uri)


def enable(settings: Settings, by: str | None = None) -> IntegrationStatus:
    """Turn the integration on (next step: Authorize). Role checks are the caller's (people.py)."""
    store.update_integration(settings, enabled=1, created_by=by)
    return integration_status(settings)


def begin_authorization(settings: Settings, started_by: str | None = None) -> str:
    """Store a pending attempt (state + PKCE verifier + who) and return the Qualtrics consent URL.

    Also used by *Reauthorize*. The integration is enabled if it was not.
    """
    request = oauth_authorization_request(oauth_app(settings))
    store.store_pending_state(settings, request.state, request.code_verifier, started_by)
    if not store.get_integration(settings).enabled:
        store.update_integration(settings, enabled=1)
    return request.url


def complete_authorization(settings: Settings, state: str | None, code: str | None,
                           error: str | None = None) -> AuthorizationOutcome:
    """Finish the OAuth callback: consume ``state`` once, exchange ``code``, store the tokens encrypted,
    read the account and its permissions, and set the integration *Active*.

    Unknown, expired or reused state, and ``error=access_denied``, change nothing (the state is spent).
    A failed exchange also leaves the integration as it was.
    """
    pending = store.consume_pending_state(settings, state)
    if error:
        return AuthorizationOutcome.DENIED if error == "access_denied" else AuthorizationOutcome.FAILED
    if pending is None:
        return AuthorizationOutcome.INVALID_STATE
    if not code:
        return AuthorizationOutcome.FAILED
    try:
        app = oauth_app(settings)
        token = exchange_code(app, code, pending.code_verifier)
        fresh: dict[str, Any] = {"token": token}
        client = QualtricsClient.with_oauth(app, token, on_token=lambda t: fresh.__setitem__("token", t))
        with client:
            account = client.whoami()
            permissions = client.permissions(account)
    except (QualtricsError, NotConnected):
        return AuthorizationOutcome.FAILED
    store.save_token(settings, fresh["token"])
    store.update_integration(
        settings, enabled=1, status=Status.ACTIVE, created_by=pending.started_by or account.email,
        base_url=app.base_url, account_user_id=account.user_id,
        account_name=f"{account.display_name} ({account.email})" if account.email else account.display_name,
        datacenter=account.datacenter, error_message=None, permissions_granted=tuple(permissions.granted),
        permissions_missing=tuple(permissions.missing), permissions_checked_at=utcnow())
    return AuthorizationOutcome.CONNECTED


def disconnect(settings: Settings) -> IntegrationStatus:
    """Remove the stored tokens; the card goes back to *Authorize* (still enabled)."""
    store.clear_token(settings)
    store.update_integration(settings, status=Status.INACTIVE, error_message=None)
    return integration_status(settings)


def mark_error(settings: Settings, message: str) -> None:
    """Put the integration in *Error* with a message the card shows next to *Reauthorize*."""
    store.update_integration(settings, status=Status.ERROR, error_message=message)


def using_api_token(settings: Settings) -> bool:
    """Whether clients come from the environment's API token (which takes precedence)."""
    return bool(settings.api_token)


def open_client(settings: Settings) -> QualtricsClient:
    """A client for the configured API token, else for the stored OAuth grant (refreshed tokens are saved).

    Raises :class:`NotConnected` (with how to connect) when there is neither; a stored grant that cannot be
    decrypted puts the integration in *Error*.
    """
    if settings.api_token:
        if not settings.qualtrics_base_url:
            raise NotConnected("QUALTRICS_API_TOKEN is set but not where Qualtrics is: set QUALTRICS_BASE_URL "
                               "or QUALTRICS_DATACENTER too.")
        return QualtricsClient.with_api_token(settings.qualtrics_base_url, settings.api_token)
    record = store.get_integration(settings)
    if not record.enabled or not record.has_token:
        raise NotConnected(HOW_TO_CONNECT)
    try:
        token = store.load_token(settings)
    except SecretKeyError as exc:
        mark_error(settings, str(exc))
        raise NotConnected(str(exc)) from None
    if token is None:
        raise NotConnected(HOW_TO_CONNECT)
    app = oauth_app(settings)
    return QualtricsClient.with_oauth(app, token, on_token=lambda t: store.save_token(settings, t))


@contextmanager
def reporting_auth_failures(settings: Settings) -> Iterator[None]:
    """Around work with a stored-grant client: an auth failure puts the integration in *Error*."""
    try:
        yield
    except (ReauthorizationRequired, AuthenticationFailed) as exc:
        if not using_api_token(settings):
            mark_error(settings, str(exc))
        raise


def record_successful_sync(settings: Settings, when: str) -> None:
    """Note the time of the last sync that completed (shown on the card); clears a previous Error only
    when the stored grant was used and worked."""
    if using_api_token(settings):
        store.update_integration(settings, last_successful_sync=when)
        return
    record = store.get_integration(settings)
    if record.has_token and record.status == Status.ERROR:
        store.update_integration(settings, last_successful_sync=when, status=Status.ACTIVE, error_message=None)
    else:
        store.update_integration(settings, last_successful_sync=when)

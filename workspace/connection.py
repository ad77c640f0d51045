"""Connecting to Qualtrics: the Integrations card's actions and the client every sync uses.

Two ways in, in this order (design.md §5): ``QUALTRICS_API_TOKEN`` in the environment (scripts, cron,
the CLI), else the OAuth grant the app stored when an integration manager authorized it. A stored grant
that stops working (refresh refused, token revoked, key changed) turns the integration to *Error* with
the reason, so the card can offer *Reauthorize*. A grant stored against the app's embedded sandbox is used
from another shell through the address the running app recorded (:func:`store.running_sandbox`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from qualtrics.auth import OAuthApp
from qualtrics.auth import begin_authorization as oauth_authorization_request
from qualtrics.auth import exchange_code
from qualtrics.client import QualtricsClient
from qualtrics.errors import AuthenticationFailed, QualtricsError, ReauthorizationRequired
from workspace import integration as store
from workspace.config import Settings
from workspace.crypto import SecretKeyError
from workspace.store import utcnow
from workspace.errors import NotConnected
from workspace.integration import Status

SANDBOX_NOT_RUNNING = (
    "The app's embedded Qualtrics sandbox is not running: start the app (streamlit run app.py) or run "
    "python -m qualtrics.sandbox and export the four lines it prints.")

#: The app route that binds an OAuth attempt to the browser and sends it to Qualtrics (app.py serves it).
START_PATH = "/api/qualtrics/authorize"

HOW_TO_CONNECT = (
    "Qualtrics is not connected: set QUALTRICS_API_TOKEN with QUALTRICS_BASE_URL (or QUALTRICS_DATACENTER), "
    "or authorize the integration in the app under Settings > Integrations.")


class AuthorizationOutcome(StrEnum):
    """How an OAuth callback ended; ``value`` is safe to put in a URL, ``message`` is for the page."""

    CONNECTED = "connected"
    DENIED = "denied"
    INVALID_STATE = "invalid-state"
    OTHER_BROWSER = "other-browser"
    KEY_CHANGED = "key-changed"
    FAILED = "failed"

    def message(self, button: str | None = "Authorize") -> str:
        """The page's sentence, naming ``button``: the authorize button the card shows now (*Authorize*,
        *Reauthorize*, or "Enable, then Authorize"); None when the card offers none, e.g. to a viewer or
        beside a working connection, where the sentence stops at what happened."""
        what = {
            AuthorizationOutcome.CONNECTED: "Qualtrics is connected.",
            AuthorizationOutcome.DENIED: "Authorization was declined in Qualtrics, so nothing changed.",
            AuthorizationOutcome.INVALID_STATE: "This authorization link is unknown, expired (after 10 minutes) "
                                                "or was already used, so nothing changed.",
            AuthorizationOutcome.FAILED: "Qualtrics did not complete the authorization.",
            AuthorizationOutcome.OTHER_BROWSER: "This authorization was started in another browser, so nothing "
                                                "changed.",
            AuthorizationOutcome.KEY_CHANGED: "The encryption key (PULSE_SECRET_KEY or the key file) changed "
                                              "during the authorization, so it could not finish.",
        }[self]
        if self == AuthorizationOutcome.CONNECTED or not button:
            return what
        if self == AuthorizationOutcome.DENIED:
            return f"{what} Click {button} and choose Approve to connect."
        if self == AuthorizationOutcome.INVALID_STATE:
            return f"{what} Click {button} again."
        if self == AuthorizationOutcome.OTHER_BROWSER:
            return f"{what} Click {button} in the browser you approve it in."
        if self == AuthorizationOutcome.KEY_CHANGED:
            return f"{what} Click {button} to connect again with the new key."
        return f"{what} Click {button} to try again; if it keeps failing, check the OAuth client's redirect URI."


@dataclass(frozen=True)
class IntegrationStatus:
    """A snapshot for the Integrations card. Everything the card says is derived here, per state, so that no
    sentence can contradict the badge (issue 10: "Inactive" beside "Connected …")."""

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
    has_token: bool = False  # a grant is stored (Active, or Error until Disconnect)

    @property
    def connected(self) -> bool:
        """A Qualtrics account is linked: its name, data center and permissions are worth showing."""
        return self.has_token and self.status != Status.INACTIVE

    @property
    def actions(self) -> tuple[str, ...]:
        """The buttons the card offers, by their contract labels (design.md §6).

        An Active connection that lacks permissions offers *Reauthorize* too: once an administrator grants
        them, reauthorizing is how the card checks them again."""
        if not self.enabled:
            return ("Enable",)
        if self.status == Status.ERROR:
            return ("Reauthorize", "Disconnect")
        if self.status == Status.ACTIVE:
            return ("Reauthorize", "Disconnect") if self.missing_permissions else ("Disconnect",)
        return ("Authorize",)

    @property
    def authorize_button(self) -> str | None:
        """How to start an authorization with the buttons shown now (None beside a working connection)."""
        if "Enable" in self.actions:
            return "Enable, then Authorize"
        return next((a for a in self.actions if a in ("Authorize", "Reauthorize")), None)

    @property
    def where(self) -> str:
        """Which Qualtrics this deployment talks to, in words."""
        if self.is_sandbox:
            return "the embedded Qualtrics sandbox (demo data, no account needed)"
        return f"Qualtrics at {self.base_url}" if self.base_url else "Qualtrics (no host configured yet)"

    @property
    def summary(self) -> str:
        """One sentence that is true in this state and names the next step by the button shown."""
        if not self.enabled:
            return f"Not enabled. Click Enable, then Authorize, to sync survey results from {self.where}."
        if self.status == Status.ERROR:
            return (f"Syncing from {self.where} has stopped: see the reason below, then click Reauthorize "
                    "(or Disconnect).")
        if self.status == Status.ACTIVE:
            return f"Connected to {self.where}."
        return (f"Enabled, not connected: click Authorize and approve access to {self.where}. "
                "Until then no survey results are synced.")


def integration_status(settings: Settings) -> IntegrationStatus:
    """The card's snapshot: status, account, data center, missing permissions, last sync, error."""
    record = store.get_integration(settings)
    status = record.status
    if status == Status.ACTIVE and not record.has_token:
        status = Status.INACTIVE
    return IntegrationStatus(
        status=status, enabled=record.enabled, account=record.account_name, data_center=record.datacenter,
        base_url=settings.qualtrics_base_url or record.base_url, created_by=record.created_by,
        granted_permissions=record.permissions_granted,
        missing_permissions=record.permissions_missing, last_successful_sync=record.last_successful_sync,
        error_message=record.error_message, is_sandbox=settings.is_sandbox,
        uses_api_token=bool(settings.api_token and settings.qualtrics_base_url),
        can_authorize=bool(settings.client_id and settings.client_secret and settings.qualtrics_base_url),
        has_token=record.has_token)


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
    """Store a pending attempt (state + PKCE verifier + who) and return the app path that starts it in the
    browser (:data:`START_PATH` ``?state=…``; the page sends its own tab there).

    That route binds the attempt to the browser with an HttpOnly cookie and redirects to Qualtrics' consent
    page (:func:`claim_authorization`); the callback completes only in that browser, so a consent URL
    forwarded to someone else connects nothing. Also used by *Reauthorize*. The integration is enabled if it
    was not.
    """
    request = oauth_authorization_request(oauth_app(settings))
    store.store_pending_state(settings, request.state, request.code_verifier, started_by, request.url)
    if not store.get_integration(settings).enabled:
        store.update_integration(settings, enabled=1)
    return f"{START_PATH}?{urlencode({'state': request.state})}"


def claim_authorization(settings: Settings, state: str | None, browser: str) -> str | None:
    """The start route's half: bind attempt ``state`` to ``browser`` (its cookie) and return the Qualtrics
    consent URL to redirect to; None when the attempt is unknown, expired or already started elsewhere."""
    return store.claim_pending_state(settings, state, browser)


def complete_authorization(settings: Settings, state: str | None, code: str | None,
                           error: str | None = None, *, browser: str | None) -> AuthorizationOutcome:
    """Finish the OAuth callback: consume ``state`` once, check it comes back to the browser that started
    it (``browser``: the callback request's cookie), exchange ``code``, store the tokens encrypted, read the
    account and its permissions, and set the integration *Active*.

    Unknown, expired, reused or other-browser state, and ``error=access_denied``, change nothing (the state
    is spent). A failed exchange also leaves the integration as it was. A key that changed since the attempt
    started puts the integration in *Error*, so the card offers *Reauthorize*.
    """
    try:
        pending = store.consume_pending_state(settings, state)
    except SecretKeyError as exc:
        mark_error(settings, str(exc))
        return AuthorizationOutcome.KEY_CHANGED
    if error:
        return AuthorizationOutcome.DENIED if error == "access_denied" else AuthorizationOutcome.FAILED
    if pending is None:
        return AuthorizationOutcome.INVALID_STATE
    if not pending.started_in(browser):
        return AuthorizationOutcome.OTHER_BROWSER
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
    """Remove the stored tokens and what was read through them (account, data center, permissions): the
    card goes back to *Authorize* (still enabled) and lists nothing it no longer knows. The last successful
    sync stays: it is history, and the synced answers stay too."""
    store.clear_token(settings)
    store.update_integration(settings, status=Status.INACTIVE, error_message=None, account_user_id=None,
                             account_name=None, datacenter=None, permissions_granted=(),
                             permissions_missing=(), permissions_checked_at=None)
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
    app = oauth_app(_reaching_embedded_sandbox(settings))
    return QualtricsClient.with_oauth(app, token, on_token=lambda t: store.save_token(settings, t))


def _reaching_embedded_sandbox(settings: Settings) -> Settings:
    """``settings`` as they are when they name a Qualtrics host (or are the app's own, sandbox started);
    else (the command line, no Qualtrics settings: the stored grant is the embedded sandbox's) pointed at
    the sandbox the app recorded while it runs, or :data:`SANDBOX_NOT_RUNNING`."""
    if settings.qualtrics_base_url is not None:
        return settings
    running = store.running_sandbox(settings)
    if running is None:
        raise NotConnected(SANDBOX_NOT_RUNNING)
    return settings.with_sandbox(running.base_url, running.client_id, running.client_secret)


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

"""Qualtrics event subscriptions for Live mode: who may be pushed to, the publication URL and its secret,
subscribing (after removing this app's stale subscriptions) and reading a publication.

Qualtrics POSTs a publication form-encoded (``Topic``, ``Status``, ``SurveyID``, ``ResponseID``,
``CompletedDate``, ``BrandID``) to the URL given when subscribing. It carries no signature unless encrypted,
so the URL carries a secret: a random token made once per store and kept in it encrypted (``app_meta``), so
that a worker process may subscribe and any app server behind the proxy accept the publication; compared in
constant time. A subscription left behind earlier is removed before subscribing again.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from qualtrics.client import QualtricsClient
from workspace import integration
from workspace.config import Settings
from workspace.crypto import SecretKeyError
from workspace.store import connect, transaction

EVENTS_PATH = "/api/qualtrics/events"
TOPIC = "surveyengine.completedResponse.{survey_id}"
_SURVEY_ID = re.compile(r"SV_[A-Za-z0-9]{1,40}")
_RESPONSE_ID = re.compile(r"R_[A-Za-z0-9]{1,40}")
_TOKEN_KEY = "live_push_token"
_tokens: dict[str, str] = {}
_tokens_lock = threading.Lock()


def _token(settings: Settings) -> str:
    """The store's publication secret, made on first use (one write transaction per process, then memory)."""
    key = settings.store.key
    with _tokens_lock:
        if key in _tokens:
            return _tokens[key]
        cipher = integration.cipher(settings)
        with connect(settings.store) as db, transaction(db):
            row = db.execute("SELECT value FROM app_meta WHERE key = ?", (_TOKEN_KEY,)).fetchone()
            value = None
            if row is not None:
                try:
                    value = cipher.decrypt_text(row[0].encode())
                except SecretKeyError:  # the key changed: subscriptions made with the old secret are stale anyway
                    value = None
            if value is None:
                value = secrets.token_urlsafe(32)
                db.execute("INSERT INTO app_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                           "value = excluded.value", (_TOKEN_KEY, cipher.encrypt_text(value).decode()))
        _tokens[key] = value
        return value


def topic(survey_id: str) -> str:
    return TOPIC.format(survey_id=survey_id)


def endpoint(settings: Settings) -> str:
    return f"{settings.pulse_url}{EVENTS_PATH}"


def publication_url(settings: Settings) -> str:
    return f"{endpoint(settings)}?token={_token(settings)}"


def token_is_valid(settings: Settings, token: str | None) -> bool:
    return token is not None and hmac.compare_digest(token.encode(), _token(settings).encode())


def unreachable_reason(settings: Settings) -> str | None:
    """Why Qualtrics could not call the app back (None: it can). The embedded sandbox runs beside the app,
    so loopback is fine for it; real Qualtrics needs an address on the internet."""
    if settings.uses_sandbox:
        return None
    host = (urlsplit(settings.pulse_url).hostname or "").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    local = host in ("", "localhost") or host.endswith((".localhost", ".local", ".internal", ".lan"))
    if local or (address is not None and (address.is_loopback or address.is_private or address.is_link_local)):
        return (f"Qualtrics cannot reach this app at {settings.pulse_url} (not an internet address), so Live "
                "checks for new answers every few seconds instead. Set PULSE_URL to the app's public https URL "
                "for instant updates.")
    return None


def subscribe(settings: Settings, client: QualtricsClient, survey_id: str) -> str:
    """Subscribe the app to the survey's completed responses; this app's older subscriptions for the same
    survey (a previous process, its token no longer valid) are removed first."""
    ours = endpoint(settings)
    for old in client.subscriptions():
        if old.topics == topic(survey_id) and old.publication_url.split("?", 1)[0] == ours:
            client.unsubscribe(old.id)
    return client.subscribe(topic(survey_id), publication_url(settings))


@dataclass(frozen=True)
class Publication:
    survey_id: str
    response_id: str


def read_publication(form: Mapping[str, str]) -> Publication | str:
    """The response a publication names, or a sentence saying why it is not one we take."""
    survey_id, response_id = form.get("SurveyID", ""), form.get("ResponseID", "")
    if not _SURVEY_ID.fullmatch(survey_id) or not _RESPONSE_ID.fullmatch(response_id):
        return "A publication needs SurveyID (SV_…) and ResponseID (R_…)."
    event_topic = form.get("Topic", "")
    if event_topic and not event_topic.endswith(topic(survey_id)):
        return f"Topic {event_topic[:120]!r} is not a completed response of {survey_id}."
    return Publication(survey_id, response_id)

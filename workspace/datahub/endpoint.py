"""Data Hub intake: the push key, and responses that a Qualtrics Workflow's Web Service task POSTs.

A Workflow (trigger: survey response; task: Web Service) sends one response per call, as JSON or as
URL-encoded form fields, with piped text filling the values (``${e://Field/ResponseID}``,
``${q://QID2/ChoiceTextEntryValue}``…). Qualtrics gives the call 16 s and 1 MB and retries failures, so
intake does only cheap work: check the key, parse and check the body (:mod:`.body`), upsert by (survey,
response id) in one transaction — a retried push updates the same row, never adds one — and hand the
texts to the mining worker (:mod:`.worker`). It never reads a text itself, so any body up to 1 MB is
answered in milliseconds.

Fields the endpoint understands (names case-insensitive):
``SurveyID`` and ``ResponseID`` (required), ``RecordedDate`` (or an event subscription's
``CompletedDate``), ``Step`` (a journey step name), open text in ``Comment``, in any ``…_TEXT`` field
or in a field a manager declared as open text; everything else is kept as embedded data (region,
channel…). A JSON object nested one level (``{"EmbeddedData": {"region": "EMEA"}}``) is flattened.

The key is per installation, made of 256 random bits; only its SHA-256 is stored and it is shown once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workspace.config import Settings
from workspace.datahub import store, worker
from workspace.datahub.body import Rejected, decode, parse_push, shown
from workspace.store import connect, transaction, utcnow

ENDPOINT_PATH = "/api/datahub/responses"
MAX_BODY_BYTES = 1024 * 1024  # Qualtrics' Web Service task limit
KEY_PREFIX = "jpdh_"
KEY_VARIABLE = "PULSE_DATAHUB_KEY"  # the shell variable the curl example reads the key from


# What to paste into the Web Service task's JSON body: Qualtrics replaces the piped text per response.
WORKFLOW_BODY_EXAMPLE = {
    "SurveyID": "${e://Field/SurveyID}",
    "ResponseID": "${e://Field/ResponseID}",
    "RecordedDate": "${e://Field/RecordedDate}",
    "Step": "Billing",
    "Comment": "${q://QID2/ChoiceTextEntryValue}",
    "region": "${e://Field/region}",
    "channel": "${e://Field/channel}",
}


def curl_example(url: str) -> str:
    """The same push from a shell, with a sample response instead of piped text."""
    body = json.dumps({"SurveyID": "SV_example", "ResponseID": "R_example1", "Step": "Billing",
                       "Comment": "Billing was confusing, I was charged twice.", "region": "EMEA"})
    return (f"curl -X POST '{url}' \\\n  -H \"X-API-KEY: ${KEY_VARIABLE}\" \\\n"
            f"  -H 'Content-Type: application/json' \\\n  -d '{body}'")


def endpoint_url(settings: Settings) -> str:
    """Where a Workflow posts: ``{PULSE_URL}/api/datahub/responses``."""
    return f"{settings.pulse_url}{ENDPOINT_PATH}"


# ---------------------------------------------------------------- the key

@dataclass(frozen=True)
class KeyInfo:
    """The active key without the key: who made it, when, and its first characters."""

    hint: str
    created_by: str | None
    created_at: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(settings: Settings, created_by: str | None) -> str:
    """A new key for the endpoint, replacing any previous one at once. Returned once; only its hash is kept."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with connect(settings.store) as db, transaction(db):
        db.execute("UPDATE datahub_keys SET revoked_at = ? WHERE revoked_at IS NULL", (now,))
        db.execute("INSERT INTO datahub_keys (key_hash, hint, created_by, created_at) VALUES (?, ?, ?, ?)",
                        (_hash(key), key[:len(KEY_PREFIX) + 4], created_by, now))
    return key


def revoke_key(settings: Settings) -> None:
    """Stop accepting pushes until a new key is created."""
    with connect(settings.store) as db, transaction(db):
        db.execute("UPDATE datahub_keys SET revoked_at = ? WHERE revoked_at IS NULL", (utcnow(),))


def active_key(settings: Settings) -> KeyInfo | None:
    with connect(settings.store) as db:
        row = db.execute("SELECT hint, created_by, created_at FROM datahub_keys WHERE revoked_at IS NULL "
                              "ORDER BY id DESC LIMIT 1").fetchone()
    return KeyInfo(*row) if row else None


def key_is_valid(settings: Settings, presented: str | None) -> bool:
    """Whether ``presented`` is the active key (compared by hash, in constant time)."""
    if not presented:
        return False
    with connect(settings.store) as db:
        rows = db.execute("SELECT key_hash FROM datahub_keys WHERE revoked_at IS NULL").fetchall()
    digest = _hash(presented)
    return any(hmac.compare_digest(digest, stored) for (stored,) in rows)


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a caller sent: ``X-API-KEY``, ``Authorization: Bearer <key>``, or Basic auth whose
    password is the key (the Web Service task's "basic" authentication; the user name is ignored)."""
    if headers.get("x-api-key"):
        return headers["x-api-key"].strip()
    scheme, _, value = (headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


# ---------------------------------------------------------------- receiving

@dataclass(frozen=True)
class Receipt:
    """What the endpoint answers: an HTTP status and a JSON body that a Workflow's run log shows."""

    status_code: int
    body: dict[str, Any]


def receive(settings: Settings, *, body: bytes | None, content_type: str,
            headers: Mapping[str, str]) -> Receipt:
    """Handle one push: 401 bad key, 413 too large (``body`` None), 400/415 unreadable, else store it.

    201 for a new response, 200 when (survey, response id) was already here (its row is updated).
    ``steps`` lists the journey steps the push's Step names; without one, or when no journey has a step
    of that name (a warning says so), the Data Hub places the texts by their words.
    """
    if not key_is_valid(settings, presented_key(headers)):
        return Receipt(401, {"error": "Missing or wrong Data Hub key. Send the key from Journey Pulse's Data "
                                      "Hub page in the X-API-KEY header (or as Authorization: Bearer)."})
    if body is None or len(body) > MAX_BODY_BYTES:
        return Receipt(413, {"error": f"The body is larger than {MAX_BODY_BYTES:,} bytes; send one response "
                                      "per call."})
    try:
        push = parse_push(decode(body, content_type), store.text_fields(settings))
    except Rejected as rejected:
        return Receipt(rejected.status_code, {"error": str(rejected)})
    if push.step and push.step.casefold() not in store.step_names(settings):
        push.warnings.append(f"Step {shown(push.step)} is not a step of any journey: its comments are placed "
                             "on the step their words concern until a step of that name exists.")
    created = store.save_push(settings, push)
    if push.texts:
        worker.notify(settings)
    return Receipt(201 if created else 200, {
        "status": "stored" if created else "updated", "surveyId": push.survey_id,
        "responseId": push.response_id, "texts": len(push.texts),
        "steps": store.named_steps(settings, push.step), "warnings": push.warnings})

"""Data Hub intake: the push key, and responses that a Qualtrics Workflow's Web Service task POSTs.

A Workflow (trigger: survey response; task: Web Service) sends one response per call, as JSON or as
URL-encoded form fields, with piped text filling the values (``${e://Field/ResponseID}``,
``${q://QID2/ChoiceTextEntryValue}``…). Qualtrics gives the call 16 s and 1 MB and retries failures, so
intake does only cheap work: check the key, parse, score each open text's sentiment (VADER, ~0.1 ms)
and upsert by (survey, response id) in one transaction — a retried push updates the same row, never
adds one. Themes are mined when someone looks (see :mod:`workspace.datahub_insights`).

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
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pandas as pd

from workspace import mining
from workspace.config import Settings
from workspace.db import connect, transaction, utcnow
from workspace.errors import Invalid

ENDPOINT_PATH = "/api/datahub/responses"
MAX_BODY_BYTES = 1024 * 1024  # Qualtrics' Web Service task limit
KEY_PREFIX = "jpdh_"
DEFAULT_TEXT_FIELDS = ("Comment",)
MAX_ID_LENGTH = 100
STATUS_PROCESSED, STATUS_NO_TEXT = "Processed", "No text"

_RESERVED = {"surveyid": "survey_id", "responseid": "response_id", "recordeddate": "recorded_date",
             "completeddate": "completed_date", "step": "step"}
_UNRESOLVED_PIPE = re.compile(r"^\$\{[a-z]+://[^}]*\}$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
    return (f"curl -X POST '{url}' \\\n  -H \"X-API-KEY: $PULSE_DATAHUB_KEY\" \\\n"
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
    with connect(settings.db_path) as db, transaction(db):
        db.conn.execute("UPDATE datahub_keys SET revoked_at = ? WHERE revoked_at IS NULL", (now,))
        db.conn.execute("INSERT INTO datahub_keys (key_hash, hint, created_by, created_at) VALUES (?, ?, ?, ?)",
                        (_hash(key), key[:len(KEY_PREFIX) + 4], created_by, now))
    return key


def revoke_key(settings: Settings) -> None:
    """Stop accepting pushes until a new key is created."""
    with connect(settings.db_path) as db, transaction(db):
        db.conn.execute("UPDATE datahub_keys SET revoked_at = ? WHERE revoked_at IS NULL", (utcnow(),))


def active_key(settings: Settings) -> KeyInfo | None:
    with connect(settings.db_path) as db:
        row = db.conn.execute("SELECT hint, created_by, created_at FROM datahub_keys WHERE revoked_at IS NULL "
                              "ORDER BY id DESC LIMIT 1").fetchone()
    return KeyInfo(*row) if row else None


def key_is_valid(settings: Settings, presented: str | None) -> bool:
    """Whether ``presented`` is the active key (compared by hash, in constant time)."""
    if not presented:
        return False
    with connect(settings.db_path) as db:
        rows = db.conn.execute("SELECT key_hash FROM datahub_keys WHERE revoked_at IS NULL").fetchall()
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


# ---------------------------------------------------------------- text fields

def text_fields(settings: Settings) -> list[str]:
    """Field names read as open text: ``Comment`` and the ones a manager added (``…_TEXT`` always counts)."""
    with connect(settings.db_path) as db:
        added = [r[0] for r in db.conn.execute("SELECT field FROM datahub_text_fields ORDER BY field")]
    return [*DEFAULT_TEXT_FIELDS, *(f for f in added if f.lower() not in {d.lower() for d in DEFAULT_TEXT_FIELDS})]


def set_text_fields(settings: Settings, names: Iterable[str]) -> list[str]:
    """Declare which pushed fields hold open text (besides ``Comment`` and ``…_TEXT``). Applies to new pushes."""
    cleaned = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        if name.lower() in _RESERVED:
            raise Invalid(f"{name} is a reserved field of the Data Hub body and cannot hold open text.")
        if name.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(name)
    with connect(settings.db_path) as db, transaction(db):
        db.conn.execute("DELETE FROM datahub_text_fields")
        db.conn.executemany("INSERT INTO datahub_text_fields (field) VALUES (?)", [(n,) for n in cleaned])
    return text_fields(settings)


# ---------------------------------------------------------------- receiving

@dataclass(frozen=True)
class Receipt:
    """What the endpoint answers: an HTTP status and a JSON body that a Workflow's run log shows."""

    status_code: int
    body: dict[str, Any]


@dataclass
class _Push:
    survey_id: str
    response_id: str
    recorded_date: str | None
    step: str | None
    texts: dict[str, str]
    fields: dict[str, str]
    warnings: list[str] = field(default_factory=list)


class _Rejected(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.receipt = Receipt(status_code, {"error": message})


def _scalar(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, float, bool)):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, (str, int, float, bool)) or v is None for v in value):
        return ", ".join("" if v is None else str(v) for v in value)
    raise _Rejected(400, f"Field {name!r} holds nested data; send text, a number or a list of them.")


def _decode(body: bytes, content_type: str) -> dict[str, str]:
    """The body's fields as text, from JSON or URL-encoded form data."""
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Rejected(400, "The body is not UTF-8 text.") from None
    if kind == "application/json" or kind.endswith("+json") or (not kind and text.lstrip().startswith("{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _Rejected(400, f"The body is not valid JSON ({exc.msg} at line {exc.lineno}, column "
                                 f"{exc.colno}). Check the quotes around piped text in the task's body.") from None
        if not isinstance(data, dict):
            raise _Rejected(400, "The JSON body must be one object with the response's fields.")
        flat: dict[str, str] = {}
        for name, value in data.items():
            if isinstance(value, dict):  # {"EmbeddedData": {...}}: one level of nesting is flattened
                flat.update({str(k): _scalar(str(k), v) for k, v in value.items()})
            else:
                flat[str(name)] = _scalar(str(name), value)
        return flat
    if kind in ("application/x-www-form-urlencoded", ""):
        try:
            return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text.strip())))
        except ValueError:
            raise _Rejected(400, "The body is neither JSON nor URL-encoded fields.") from None
    raise _Rejected(415, f"Content type {kind!r} is not supported: choose JSON or URL-Encoded as the Web "
                         "Service task's body type.")


def _identifier(values: Mapping[str, str], name: str, label: str, prefix: str, warnings: list[str]) -> str:
    value = values.get(name, "").strip()
    if not value:
        raise _Rejected(400, f"{label} is missing. Pipe it into the body, e.g. \"{label}\": "
                             f"\"${{e://Field/{label}}}\".")
    if len(value) > MAX_ID_LENGTH or _CONTROL.search(value):
        raise _Rejected(400, f"{label} is not a Qualtrics id ({value[:40]!r}…).")
    if not value.startswith(prefix):
        warnings.append(f"{label} {value!r} does not look like a Qualtrics id ({prefix}…).")
    return value


def _iso_date(value: str, warnings: list[str]) -> str | None:
    value = value.strip()
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        warnings.append(f"RecordedDate {value!r} is not a date; it is kept as sent.")
        return value
    if when.tzinfo is None:  # Qualtrics pipes RecordedDate without a zone; exports state it is UTC
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_push(values: Mapping[str, str], text_field_names: Iterable[str]) -> _Push:
    """Sort a push's fields into ids, date, step, open texts and embedded data (raises _Rejected)."""
    warnings: list[str] = []
    reserved: dict[str, str] = {}
    texts: dict[str, str] = {}
    fields: dict[str, str] = {}
    wanted = {n.lower() for n in text_field_names}
    for name, raw in values.items():
        value = raw.strip()
        if _UNRESOLVED_PIPE.match(value):
            warnings.append(f"{name} arrived as {value}: the piped text was not filled in (is the task "
                            "triggered by a survey response?).")
            value = ""
        key = name.strip().lower()
        if key in _RESERVED:
            reserved[_RESERVED[key]] = value
        elif key in wanted or key.endswith("_text"):
            if value:
                texts[name.strip()] = value
        else:
            fields[name.strip()] = value
    survey_id = _identifier(reserved, "survey_id", "SurveyID", "SV_", warnings)
    response_id = _identifier(reserved, "response_id", "ResponseID", "R_", warnings)
    recorded = _iso_date(reserved.get("recorded_date") or reserved.get("completed_date") or "", warnings)
    step = reserved.get("step") or None
    if not texts:
        warnings.append("No open text in this push (fields read as open text: "
                        + ", ".join([*text_field_names, "…_TEXT"]) + ").")
    return _Push(survey_id, response_id, recorded, step, texts, fields, warnings)


def receive(settings: Settings, *, body: bytes | None, content_type: str,
            headers: Mapping[str, str]) -> Receipt:
    """Handle one push: 401 bad key, 413 too large (``body`` None), 400/415 unreadable, else store it.

    201 for a new response, 200 when (survey, response id) was already here (its row is updated).
    """
    if not key_is_valid(settings, presented_key(headers)):
        return Receipt(401, {"error": "Missing or wrong Data Hub key. Send the key from Journey Pulse's Data "
                                      "Hub page in the X-API-KEY header (or as Authorization: Bearer)."})
    if body is None or len(body) > MAX_BODY_BYTES:
        return Receipt(413, {"error": f"The body is larger than {MAX_BODY_BYTES:,} bytes; send one response "
                                      "per call."})
    try:
        push = _parse_push(_decode(body, content_type), text_fields(settings))
    except _Rejected as rejected:
        return rejected.receipt
    created, steps = _store(settings, push)
    return Receipt(201 if created else 200, {
        "status": "stored" if created else "updated", "surveyId": push.survey_id,
        "responseId": push.response_id, "texts": len(push.texts), "steps": steps, "warnings": push.warnings})


def _store(settings: Settings, push: _Push) -> tuple[bool, list[str]]:
    """Upsert the source and replace its texts in one transaction; returns (new?, linked step names)."""
    scored = [(name, text, mining.sentiment(text)) for name, text in push.texts.items()]
    status = STATUS_PROCESSED if scored else STATUS_NO_TEXT
    now = utcnow()
    with connect(settings.db_path) as db:
        with transaction(db):
            existing = db.conn.execute("SELECT id FROM datahub_sources WHERE survey_id = ? AND response_id = ?",
                                       (push.survey_id, push.response_id)).fetchone()
            values = (push.recorded_date, push.step, json.dumps(push.fields, ensure_ascii=False), now, status)
            if existing:
                source_id = existing[0]
                db.conn.execute(
                    "UPDATE datahub_sources SET recorded_date = ?, step = ?, fields = ?, updated_at = ?, status = ?, "
                    "deliveries = deliveries + 1 WHERE id = ?", (*values, source_id))
                db.conn.execute("DELETE FROM datahub_texts WHERE source_id = ?", (source_id,))
            else:
                source_id = db.conn.execute(
                    "INSERT INTO datahub_sources (recorded_date, step, fields, updated_at, status, survey_id, "
                    "response_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, push.survey_id, push.response_id, now)).lastrowid
            db.conn.executemany("INSERT INTO datahub_texts (source_id, field, text, sentiment) VALUES (?, ?, ?, ?)",
                                [(source_id, name, text, score) for name, text, score in scored])
        steps = linked_step_names(db, push.survey_id, push.step)
    return existing is None, steps


def linked_step_names(db: Any, survey_id: str, step: str | None) -> list[str]:
    """Journey steps a source shows on, as "Journey › Step": per journey, the steps named ``step`` if it
    has any, else the steps holding a metric of ``survey_id``."""
    rows = db.conn.execute(
        """SELECT j.name, s.name, g.position, s.position,
                  (? IS NOT NULL AND s.name = ? COLLATE NOCASE) AS named,
                  EXISTS (SELECT 1 FROM placements p JOIN metrics m ON m.id = p.metric_id
                          WHERE p.step_id = s.id AND m.survey_id = ?) AS placed,
                  EXISTS (SELECT 1 FROM steps s2 JOIN stages g2 ON g2.id = s2.stage_id
                          WHERE g2.journey_id = j.id AND ? IS NOT NULL AND s2.name = ? COLLATE NOCASE) AS has_named
           FROM steps s JOIN stages g ON g.id = s.stage_id JOIN journeys j ON j.id = g.journey_id
           ORDER BY lower(j.name), g.position, s.position""",
        (step, step, survey_id, step, step)).fetchall()
    return [f"{journey} › {name}" for journey, name, _, _, named, placed, has_named in rows
            if (named if has_named else placed)]


# ---------------------------------------------------------------- what arrived

@dataclass(frozen=True)
class Overview:
    sources: int          # distinct responses received
    with_text: int        # of which carried open text
    texts: int
    deliveries: int       # pushes, retries included
    last_received: str | None


def overview(settings: Settings) -> Overview:
    with connect(settings.db_path) as db:
        row = db.conn.execute(
            "SELECT count(*), coalesce(sum(status = ?), 0), coalesce(sum(deliveries), 0), max(updated_at) "
            "FROM datahub_sources", (STATUS_PROCESSED,)).fetchone()
        texts = db.conn.execute("SELECT count(*) FROM datahub_texts").fetchone()[0]
    return Overview(sources=row[0], with_text=row[1], texts=texts, deliveries=row[2], last_received=row[3])


def latest_sources(settings: Settings, limit: int = 50) -> pd.DataFrame:
    """The newest received responses, one row each, ready for a table (texts are user input: show as text)."""
    with connect(settings.db_path) as db:
        rows = db.conn.execute(
            """SELECT s.updated_at, s.survey_id, s.response_id, s.step, s.status, s.deliveries,
                      group_concat(t.text, ' | '), avg(t.sentiment)
               FROM datahub_sources s LEFT JOIN datahub_texts t ON t.source_id = s.id
               GROUP BY s.id ORDER BY s.updated_at DESC, s.id DESC LIMIT ?""", (int(limit),)).fetchall()
    frame = pd.DataFrame(rows, columns=["Received", "Survey", "Response", "Step", "Status", "Deliveries",
                                        "Open text", "Sentiment"])
    frame["Tone"] = [mining.polarity(v).value if pd.notna(v) else "" for v in frame["Sentiment"]]
    return frame.drop(columns=["Sentiment"])

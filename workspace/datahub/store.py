"""The Data Hub's tables: pushed responses and their open texts, the open-text field names, people's step
choices. Every write is one transaction, so a push is stored whole or not at all."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from workspace.config import Settings
from workspace.datahub.body import DEFAULT_TEXT_FIELDS, RESERVED, Push
from workspace.store import connect, transaction, utcnow
from workspace.errors import Invalid

STATUS_PROCESSED, STATUS_NO_TEXT = "Processed", "No text"
PREVIEW_CHARS = 2_000  # of each text in the received-responses table: 100 rows stay well under a megabyte


# ---------------------------------------------------------------- text fields

def text_fields(settings: Settings) -> list[str]:
    """Field names read as open text: ``Comment`` and the ones a manager added (``…_TEXT`` always counts)."""
    with connect(settings.store) as db:
        added = [r[0] for r in db.execute("SELECT field FROM datahub_text_fields ORDER BY field")]
    defaults = {d.lower() for d in DEFAULT_TEXT_FIELDS}
    return [*DEFAULT_TEXT_FIELDS, *(f for f in added if f.lower() not in defaults)]


def set_text_fields(settings: Settings, names: Iterable[str]) -> list[str]:
    """Declare which pushed fields hold open text (besides ``Comment`` and ``…_TEXT``). Applies to new pushes."""
    cleaned: list[str] = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        if name.lower() in RESERVED:
            raise Invalid(f"{name} is a reserved field of the Data Hub body and cannot hold open text.")
        if name.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(name)
    with connect(settings.store) as db, transaction(db):
        db.execute("DELETE FROM datahub_text_fields")
        db.executemany("INSERT INTO datahub_text_fields (field) VALUES (?)", [(n,) for n in cleaned])
    return text_fields(settings)


# ---------------------------------------------------------------- pushes

def save_push(settings: Settings, push: Push) -> bool:
    """Upsert the source and its texts in one transaction; True when the response is new.

    A retried push updates the same row. A text that did not change keeps its sentiment; a new or changed
    one is left unread (NULL) for the mining worker.
    """
    status = STATUS_PROCESSED if push.texts else STATUS_NO_TEXT
    now = utcnow()
    with connect(settings.store) as db, transaction(db):
        existing = db.execute("SELECT id FROM datahub_sources WHERE survey_id = ? AND response_id = ?",
                                   (push.survey_id, push.response_id)).fetchone()
        values = (push.recorded_date, push.step, json.dumps(push.fields, ensure_ascii=False), now, status)
        if existing:
            source_id = existing[0]
            db.execute(
                "UPDATE datahub_sources SET recorded_date = ?, step = ?, fields = ?, updated_at = ?, status = ?, "
                "deliveries = deliveries + 1 WHERE id = ?", (*values, source_id))
            names = [t.field for t in push.texts]
            kept = f" AND field NOT IN ({', '.join('?' for _ in names)})" if names else ""  # IN () is not SQL
            db.execute(f"DELETE FROM datahub_texts WHERE source_id = ?{kept}", (source_id, *names))
        else:
            source_id = db.insert_returning_id(
                "INSERT INTO datahub_sources (recorded_date, step, fields, updated_at, status, survey_id, "
                "response_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, push.survey_id, push.response_id, now))
        db.executemany(
            """INSERT INTO datahub_texts (source_id, field, text, length) VALUES (?, ?, ?, ?)
               ON CONFLICT (source_id, field) DO UPDATE SET
                 sentiment = CASE WHEN datahub_texts.text = excluded.text THEN datahub_texts.sentiment END,
                 text = excluded.text, length = excluded.length""",
            [(source_id, t.field, t.text, t.length) for t in push.texts])
    return existing is None


def step_names(settings: Settings) -> set[str]:
    """Every step name of every journey, case-folded: what a push's Step may name."""
    with connect(settings.store) as db:
        return {str(r[0]).casefold() for r in db.execute("SELECT DISTINCT name FROM steps")}


# ---------------------------------------------------------------- reading (the mining worker)

@dataclass(frozen=True)
class UnreadText:
    source_id: int
    field: str
    text: str


def unread_texts(settings: Settings, limit: int) -> list[UnreadText]:
    with connect(settings.store) as db:
        rows = db.execute("SELECT source_id, field, text FROM datahub_texts WHERE sentiment IS NULL "
                               "ORDER BY source_id, field LIMIT ?", (int(limit),)).fetchall()
    return [UnreadText(*row) for row in rows]


def record_sentiments(settings: Settings, scored: Iterable[tuple[UnreadText, float]]) -> None:
    """Store scores, unless the text changed meanwhile (a newer push): that one is read again."""
    with connect(settings.store) as db, transaction(db):
        db.executemany("UPDATE datahub_texts SET sentiment = ? WHERE source_id = ? AND field = ? AND text = ?",
                            [(score, t.source_id, t.field, t.text) for t, score in scored])


def unread_count(settings: Settings) -> int:
    with connect(settings.store) as db:
        return db.execute("SELECT count(*) FROM datahub_texts WHERE sentiment IS NULL").fetchone()[0]


# ---------------------------------------------------------------- what arrived

@dataclass(frozen=True)
class Overview:
    sources: int          # distinct responses received
    with_text: int        # of which carried open text
    texts: int
    unread: int           # texts the mining worker has not read yet
    deliveries: int       # pushes, retries included
    last_received: str | None


def overview(settings: Settings) -> Overview:
    with connect(settings.store) as db:
        row = db.execute(
            "SELECT count(*), count(CASE WHEN status = ? THEN 1 END), coalesce(sum(deliveries), 0), max(updated_at) "
            "FROM datahub_sources", (STATUS_PROCESSED,)).fetchone()
        texts, unread = db.execute(
            "SELECT count(*), count(*) - count(sentiment) FROM datahub_texts").fetchone()
    return Overview(sources=row[0], with_text=row[1], texts=texts, unread=unread, deliveries=row[2],
                    last_received=row[3])


def shown_text(text: str, length: int, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how long the pushed text was when it is not all here."""
    if length <= len(text) and len(text) <= limit:
        return text
    return f"{text[:limit]}… (truncated, {length:,} characters)"


def latest_sources(settings: Settings, limit: int = 50) -> pd.DataFrame:
    """The newest received responses, one row each, ready for a table (texts are user input: show as text)."""
    from workspace.datahub.sentiment import polarity  # here: its model's libraries take a second to import

    with connect(settings.store) as db:
        sources = db.execute(
            "SELECT id, updated_at, survey_id, response_id, step, status, deliveries FROM datahub_sources "
            "ORDER BY updated_at DESC, id DESC LIMIT ?", (int(limit),)).fetchall()
        ids = [s[0] for s in sources]
        texts: dict[int, list[tuple[str, int, float | None]]] = {}
        for source_id, text, length, score in db.execute(
                f"SELECT source_id, substr(text, 1, {PREVIEW_CHARS + 1}), length, sentiment FROM datahub_texts "
                f"WHERE source_id IN ({', '.join('?' for _ in ids)}) ORDER BY source_id, field", ids) if ids else ():
            texts.setdefault(source_id, []).append((text, length, score))
    rows = []
    for source_id, *columns in sources:
        mine = texts.get(source_id, [])
        scores = [s for _, _, s in mine if s is not None]
        tone = "" if not mine else ("Reading…" if len(scores) < len(mine)
                                    else polarity(sum(scores) / len(scores)).value)
        rows.append([*columns, " | ".join(shown_text(t, n, PREVIEW_CHARS) for t, n, _ in mine) or None, tone])
    return pd.DataFrame(rows, columns=["Received", "Survey", "Response", "Step", "Status", "Deliveries",
                                       "Open text", "Tone"])


def named_steps(settings: Settings, step: str | None) -> list[str]:
    """The steps ``step`` names (case-insensitive), as "Journey › Step", in journey and lane order."""
    if not step:
        return []
    with connect(settings.store) as db:
        rows = db.execute(
            """SELECT j.name, s.name FROM steps s JOIN stages g ON g.id = s.stage_id
               JOIN journeys j ON j.id = g.journey_id WHERE lower(s.name) = lower(?)
               ORDER BY lower(j.name), g.position, s.position""", (step,)).fetchall()
    return [f"{journey} › {name}" for journey, name in rows]

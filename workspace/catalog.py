"""Cached Qualtrics surveys and questions, so pages and the scorer never wait on the API to show a name.

The cache is refreshed from a client on demand (the wizard's survey picker, ``add-metric``, a sync that
meets an unknown or stale definition) and read back as the client's own dataclasses; question choices
give every stored answer its label. One definition read also stores the survey's open-text (comment)
questions and its embedded-data fields, and when that happened: a survey never read that way, or read
more than :data:`DEFINITION_MAX_AGE` ago, is read again by the next sync.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

from qualtrics.models import Choice, OpenTextQuestion, Question, QuestionCatalog, Scale, SkippedQuestion, Survey
from workspace.config import Settings
from workspace.store import connect, transaction, utcnow, versions
from workspace.errors import NotFound

#: How long a survey's stored definition (comment questions, embedded-data fields) counts as current: a
#: comment question added in Qualtrics shows up within a day at the cost of one request per survey per day.
DEFINITION_MAX_AGE = dt.timedelta(days=1)


def store_surveys(settings: Settings, surveys: Sequence[Survey]) -> None:
    """Replace the cached survey list with ``surveys`` (what the connected account can see)."""
    now = utcnow()
    with connect(settings.store) as db, transaction(db):
        versions.bump(db)  # survey names show on cards and Live screens
        db.execute("DELETE FROM surveys")
        db.executemany(
            "INSERT INTO surveys (id, name, owner_id, is_active, last_modified, fetched_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(s.id, s.name, s.owner_id, int(bool(s.is_active)), s.last_modified, now) for s in surveys])


def refresh_surveys(settings: Settings, client: Any) -> list[Survey]:
    """Fetch every survey the client's account can see (all pages) and cache them."""
    surveys = list(client.surveys())
    store_surveys(settings, surveys)
    return surveys


def cached_surveys(settings: Settings) -> list[Survey]:
    """The cached survey list, by name."""
    with connect(settings.store) as db:
        return [Survey(r["id"], r["name"], r["owner_id"], bool(r["is_active"]), r["last_modified"])
                for r in db.query("SELECT * FROM surveys ORDER BY lower(name), id")]


def survey_name(settings: Settings, survey_id: str) -> str | None:
    """Cached name of a survey, or None if it was never listed."""
    with connect(settings.store) as db:
        row = db.execute("SELECT name FROM surveys WHERE id = ?", (survey_id,)).fetchone()
    return row[0] if row else None


def store_questions(settings: Settings, survey_id: str, questions: Sequence[Question]) -> None:
    """Replace the cached trackable questions of one survey."""
    now = utcnow()
    with connect(settings.store) as db, transaction(db):
        db.execute("DELETE FROM questions WHERE survey_id = ?", (survey_id,))
        db.executemany(
            "INSERT INTO questions (survey_id, id, export_tag, text, type, selector, choices, scale_kind, "
            "scale_min, scale_max, suggested_type, parent_id, row_label, fetched_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(survey_id, q.id, q.export_tag, q.text, q.type, q.selector,
              json.dumps([{"value": c.value, "label": c.label, "recode": c.recode} for c in q.choices]),
              q.scale.kind, q.scale.minimum, q.scale.maximum, q.suggested_type, q.parent_id, q.row_label, now)
             for q in questions])


def store_definition(settings: Settings, survey_id: str, open_text: Sequence[OpenTextQuestion],
                     embedded_data: Sequence[str]) -> None:
    """Replace a survey's comment questions and embedded-data fields, and note when they were read.

    A comment question that left the survey loses its comments and its synced mark, so if it comes back it
    is backfilled from the start like any new question.
    """
    kept = {q.id for q in open_text}
    with connect(settings.store) as db, transaction(db):
        versions.bump(db, versions.survey(survey_id))  # comments of a question that left are deleted
        gone = [r[0] for r in db.execute(
            "SELECT question_id FROM survey_comment_questions WHERE survey_id = ?", (survey_id,)) if r[0] not in kept]
        for question_id in gone:
            for table in ("comments", "synced_questions"):
                db.execute(f"DELETE FROM {table} WHERE survey_id = ? AND question_id = ?", (survey_id, question_id))
        db.execute("DELETE FROM survey_comment_questions WHERE survey_id = ?", (survey_id,))
        db.executemany(
            "INSERT INTO survey_comment_questions (survey_id, question_id, parent_id, export_tag, text) "
            "VALUES (?, ?, ?, ?, ?)", [(survey_id, q.id, q.question_id, q.export_tag, q.text) for q in open_text])
        db.execute("DELETE FROM survey_embedded_fields WHERE survey_id = ?", (survey_id,))
        db.executemany(
            "INSERT INTO survey_embedded_fields (survey_id, field, position) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(survey_id, field, i) for i, field in enumerate(embedded_data)])
        db.execute(
            "INSERT INTO survey_definitions (survey_id, read_at) VALUES (?, ?) "
            "ON CONFLICT (survey_id) DO UPDATE SET read_at = excluded.read_at", (survey_id, utcnow()))


def store_skipped(settings: Settings, survey_id: str, skipped: Sequence[SkippedQuestion]) -> None:
    """Replace the questions of one survey that cannot be metrics, each with its reason."""
    with connect(settings.store) as db, transaction(db):
        db.execute("DELETE FROM skipped_questions WHERE survey_id = ?", (survey_id,))
        db.executemany(
            "INSERT INTO skipped_questions (survey_id, id, export_tag, text, type, selector, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (survey_id, id) DO UPDATE SET export_tag = excluded.export_tag, "
            "text = excluded.text, type = excluded.type, selector = excluded.selector, reason = excluded.reason",
            [(survey_id, s.id, s.export_tag, s.text, s.type, s.selector, s.reason) for s in skipped])


def skipped_questions(settings: Settings, survey_id: str) -> list[SkippedQuestion]:
    """The survey's questions that cannot be metrics, with why, as last read, in survey order."""
    with connect(settings.store) as db:
        rows = db.execute(
            "SELECT id, export_tag, text, type, selector, reason FROM skipped_questions WHERE survey_id = ?",
            (survey_id,)).fetchall()
    found = [SkippedQuestion(id=r[0], export_tag=r[1] or r[0], text=r[2] or "", type=r[3] or "",
                             selector=r[4] or "", reason=r[5]) for r in rows]
    return sorted(found, key=lambda s: _qid_order(s.id))


def refresh_catalog(settings: Settings, client: Any, survey_id: str) -> QuestionCatalog:
    """Read one survey's definition (one request) and cache all of it: trackable questions, the skipped ones
    with their reasons, comment questions, embedded-data fields."""
    found = client.question_catalog(survey_id)
    store_questions(settings, survey_id, found.questions)
    store_skipped(settings, survey_id, found.skipped)
    store_definition(settings, survey_id, found.open_text, found.embedded_data)
    return found


def refresh_questions(settings: Settings, client: Any, survey_id: str) -> list[Question]:
    """Fetch one survey's trackable questions (matrix rows as ``QIDn_m``) and cache them with the rest of
    its definition (see :func:`refresh_catalog`)."""
    return list(refresh_catalog(settings, client, survey_id).questions)


def definition_is_current(settings: Settings, survey_id: str, max_age: dt.timedelta = DEFINITION_MAX_AGE) -> bool:
    """Whether the survey's comment questions and embedded-data fields were read within ``max_age``."""
    with connect(settings.store) as db:
        row = db.execute("SELECT read_at FROM survey_definitions WHERE survey_id = ?", (survey_id,)).fetchone()
    if row is None:
        return False
    read_at = dt.datetime.fromisoformat(row[0].replace("Z", "+00:00"))
    return dt.datetime.now(dt.timezone.utc) - read_at < max_age


def comment_questions(settings: Settings, survey_id: str) -> list[OpenTextQuestion]:
    """The survey's open-text questions as last read, in survey order (their ids are ``QIDn_TEXT``)."""
    with connect(settings.store) as db:
        rows = db.execute(
            "SELECT question_id, parent_id, export_tag, text FROM survey_comment_questions WHERE survey_id = ?",
            (survey_id,)).fetchall()
    found = [OpenTextQuestion(id=r[0], question_id=r[1], export_tag=r[2] or r[1], text=r[3] or "") for r in rows]
    return sorted(found, key=lambda q: _qid_order(q.question_id))


def embedded_fields(settings: Settings, survey_id: str) -> list[str]:
    """The embedded-data fields the survey's flow sets, in flow order, as last read."""
    with connect(settings.store) as db:
        return [r[0] for r in db.execute(
            "SELECT field FROM survey_embedded_fields WHERE survey_id = ? ORDER BY position", (survey_id,))]


def _question(row: dict[str, Any]) -> Question:
    choices = tuple(Choice(str(c["value"]), str(c["label"]), c.get("recode")) for c in json.loads(row["choices"]))
    return Question(
        id=row["id"], export_tag=row["export_tag"], text=row["text"], type=row["type"], selector=row["selector"],
        choices=choices, scale=Scale(row["scale_kind"], row["scale_min"], row["scale_max"]),
        suggested_type=row["suggested_type"], parent_id=row["parent_id"], row_label=row["row_label"])


def cached_questions(settings: Settings, survey_id: str) -> list[Question]:
    """The cached trackable questions of a survey, in survey order of their ids."""
    with connect(settings.store) as db:
        rows = list(db.query("SELECT * FROM questions WHERE survey_id = ?", [survey_id]))
    return sorted((_question(r) for r in rows), key=lambda q: _qid_order(q.id))


def cached_question(settings: Settings, survey_id: str, question_id: str) -> Question:
    """One cached question; NotFound tells the caller to refresh the survey's questions."""
    with connect(settings.store) as db:
        rows = list(db.query("SELECT * FROM questions WHERE survey_id = ? AND id = ?", [survey_id, question_id]))
    if not rows:
        raise NotFound(f"Question {question_id} of survey {survey_id} is not known here; list the survey's "
                       "questions first (it may not be a trackable rating question).")
    return _question(rows[0])


_ORDERED_ID = re.compile(r"^(?:(\d+)_)?QID(\d+)((?:_x?\d+)*)")


def _qid_order(qid: str) -> tuple[int, ...]:
    """Survey order: by question number, then loop (``2_QID4137_1`` after ``1_QID4137_3``), then row
    (``QID38_x4`` by its carried choice); ids of another form sort first, by their digits."""
    match = _ORDERED_ID.match(qid)
    if match is None:
        return (0, *(int(part) for part in re.findall(r"\d+", qid)[:4]))
    loop, number, rows = match.groups()
    return (int(number), int(loop or 0), *(int(part.lstrip("x")) for part in rows.split("_") if part))

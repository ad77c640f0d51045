"""Cached Qualtrics surveys and questions, so pages and the scorer never wait on the API to show a name.

The cache is refreshed from a client on demand (the wizard's survey picker, ``add-metric``) and read
back as the client's own dataclasses; question choices give every stored answer its label.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from qualtrics.models import Choice, Question, Scale, Survey
from workspace.config import Settings
from workspace.db import connect, transaction, utcnow
from workspace.errors import NotFound


def store_surveys(settings: Settings, surveys: Sequence[Survey]) -> None:
    """Replace the cached survey list with ``surveys`` (what the connected account can see)."""
    now = utcnow()
    with connect(settings.db_path) as db, transaction(db):
        db.conn.execute("DELETE FROM surveys")
        db.conn.executemany(
            "INSERT INTO surveys (id, name, owner_id, is_active, last_modified, fetched_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(s.id, s.name, s.owner_id, int(bool(s.is_active)), s.last_modified, now) for s in surveys])


def refresh_surveys(settings: Settings, client: Any) -> list[Survey]:
    """Fetch every survey the client's account can see (all pages) and cache them."""
    surveys = list(client.surveys())
    store_surveys(settings, surveys)
    return surveys


def cached_surveys(settings: Settings) -> list[Survey]:
    """The cached survey list, by name."""
    with connect(settings.db_path) as db:
        return [Survey(r["id"], r["name"], r["owner_id"], bool(r["is_active"]), r["last_modified"])
                for r in db.query("SELECT * FROM surveys ORDER BY lower(name), id")]


def survey_name(settings: Settings, survey_id: str) -> str | None:
    """Cached name of a survey, or None if it was never listed."""
    with connect(settings.db_path) as db:
        row = db.conn.execute("SELECT name FROM surveys WHERE id = ?", (survey_id,)).fetchone()
    return row[0] if row else None


def store_questions(settings: Settings, survey_id: str, questions: Sequence[Question]) -> None:
    """Replace the cached trackable questions of one survey."""
    now = utcnow()
    with connect(settings.db_path) as db, transaction(db):
        db.conn.execute("DELETE FROM questions WHERE survey_id = ?", (survey_id,))
        db.conn.executemany(
            "INSERT INTO questions (survey_id, id, export_tag, text, type, selector, choices, scale_kind, "
            "scale_min, scale_max, suggested_type, parent_id, row_label, fetched_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(survey_id, q.id, q.export_tag, q.text, q.type, q.selector,
              json.dumps([{"value": c.value, "label": c.label, "recode": c.recode} for c in q.choices]),
              q.scale.kind, q.scale.minimum, q.scale.maximum, q.suggested_type, q.parent_id, q.row_label, now)
             for q in questions])


def refresh_questions(settings: Settings, client: Any, survey_id: str) -> list[Question]:
    """Fetch one survey's trackable questions (matrix rows as ``QIDn_m``) and cache them."""
    questions = list(client.questions(survey_id))
    store_questions(settings, survey_id, questions)
    return questions


def _question(row: dict[str, Any]) -> Question:
    choices = tuple(Choice(str(c["value"]), str(c["label"]), c.get("recode")) for c in json.loads(row["choices"]))
    return Question(
        id=row["id"], export_tag=row["export_tag"], text=row["text"], type=row["type"], selector=row["selector"],
        choices=choices, scale=Scale(row["scale_kind"], row["scale_min"], row["scale_max"]),
        suggested_type=row["suggested_type"], parent_id=row["parent_id"], row_label=row["row_label"])


def cached_questions(settings: Settings, survey_id: str) -> list[Question]:
    """The cached trackable questions of a survey, in survey order of their ids."""
    with connect(settings.db_path) as db:
        rows = list(db.query("SELECT * FROM questions WHERE survey_id = ?", [survey_id]))
    return sorted((_question(r) for r in rows), key=lambda q: _qid_order(q.id))


def cached_question(settings: Settings, survey_id: str, question_id: str) -> Question:
    """One cached question; NotFound tells the caller to refresh the survey's questions."""
    with connect(settings.db_path) as db:
        rows = list(db.query("SELECT * FROM questions WHERE survey_id = ? AND id = ?", [survey_id, question_id]))
    if not rows:
        raise NotFound(f"Question {question_id} of survey {survey_id} is not known here; list the survey's "
                       "questions first (it may not be a trackable rating question).")
    return _question(rows[0])


def _qid_order(qid: str) -> tuple[int, ...]:
    digits = [int(part) for part in qid.removeprefix("QID").split("_") if part.isdigit()]
    return tuple(digits) or (0,)

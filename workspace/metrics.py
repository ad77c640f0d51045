"""Metrics: one survey question scored as NPS, CSAT or CES under an editable answer mapping.

A metric stores only its definition. Its answers live per (survey, question) in ``answers``, shared by
every metric on the same question, so a changed mapping or type re-scores at once without a re-sync.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal


from qualtrics.models import Question
from scoring import AnswerMapping, MetricType, default_mapping
from workspace.catalog import cached_question
from workspace.config import Settings
from workspace.store import Database, connect, transaction, utcnow, versions
from workspace.errors import Invalid, NotFound

Direction = Literal["higher", "lower"]
TYPE_NAMES = {MetricType.NPS: "NPS", MetricType.CSAT: "CSAT", MetricType.CES: "CES"}


@dataclass(frozen=True)
class Metric:
    """A metric's definition. ``direction`` says whether a higher or lower score is better."""

    id: int
    title: str
    type: MetricType
    survey_id: str
    question_id: str
    mapping: AnswerMapping
    owner: str | None
    target: float | None
    direction: Direction
    created_at: str
    updated_at: str

    @property
    def type_name(self) -> str:
        """"NPS", "CSAT" or "CES" as the cards show it."""
        return TYPE_NAMES[self.type]


def _metric_type(value: str | MetricType) -> MetricType:
    try:
        return MetricType(str(value).lower())
    except ValueError:
        raise Invalid(f"Unknown metric type {value!r}; use nps, csat or ces.") from None


def _direction(value: str) -> Direction:
    if value not in ("higher", "lower"):
        raise Invalid(f"Direction must be 'higher' or 'lower' (is better), not {value!r}.")
    return value  # type: ignore[return-value]


def _row_to_metric(row: dict[str, Any]) -> Metric:
    return Metric(
        id=row["id"], title=row["title"], type=MetricType(row["type"]), survey_id=row["survey_id"],
        question_id=row["question_id"], mapping=AnswerMapping.from_records(json.loads(row["mapping"])),
        owner=row["owner"], target=row["target"], direction=row["direction"],
        created_at=row["created_at"], updated_at=row["updated_at"])


def mapping_for(question: Question, metric_type: str | MetricType) -> AnswerMapping:
    """The default mapping (design.md §2) of a question's choices for a metric type."""
    scale = None
    if question.scale.minimum is not None and question.scale.maximum is not None:
        scale = (question.scale.minimum, question.scale.maximum)
    return default_mapping(_metric_type(metric_type),
                           [(c.value, c.label, c.recode) for c in question.choices], scale=scale)


# Qualtrics names questions Q1, Q1.2, QID5_3… unless the author renames them ("Recommend", "NPS_overall").
_GENERATED_TAG = re.compile(r"Q(ID)?\d+([._]\d+)*", re.IGNORECASE)
# Lead-ins that every rating question shares and that say nothing about the step it measures.
_LEAD_INS = [re.compile(p, re.IGNORECASE) for p in (
    r"^(overall|in general|all in all|thinking about [^,]+|on a scale[^,]*),\s*",
    r"^(how|how much) (likely|satisfied|dissatisfied|easy|difficult|hard|happy|pleased) (are|were|is|was|would) "
    r"(you|it)( be)?( with| by| to| that you would| for you to)?\s+",
    r"^(how would you rate|please rate|rate|how do you rate|how did you find)\s+",
    r"^(to what extent do you agree with the following( statement)?:?|the company made it easy for me to)\s*",
    r"^(our|your|the|my|this|each)\s+",
)]
_TRAILERS = re.compile(r"(\s+(today|overall|recently|so far|in general))*\s*[?.!:]*\s*$", re.IGNORECASE)
_CUT_AT = re.compile(r"\s+(to (a|your|others|someone)|with (us|them)|for (us|you))\b.*$", re.IGNORECASE)
SHORT_LABEL_CHARS = 28


def short_label(question: Question) -> str:
    """The question's own short name: the matrix row's label, else the author's export tag, else the gist
    of its text ("How likely are you to recommend Journey Pulse to a friend?" → "Recommend Journey Pulse")."""
    if question.row_label:
        return question.row_label.strip()
    tag = question.export_tag.strip()
    if tag and not _GENERATED_TAG.fullmatch(tag):
        return tag.replace("_", " ")
    text = " ".join(question.text.split())
    asked, mark, after = text.partition("?")
    if mark and 0 < len(after.split()) <= 6:   # "How important is the following to you? Overall quality"
        text = after.strip()
    for _ in range(3):
        for pattern in _LEAD_INS:
            text = pattern.sub("", text)
    text = _CUT_AT.sub("", _TRAILERS.sub("", text))
    if len(text) > SHORT_LABEL_CHARS:
        words, kept = text.split(), ""
        for word in words:
            if len(kept) + len(word) + 1 > SHORT_LABEL_CHARS:
                break
            kept = f"{kept} {word}".strip()
        text = (kept or text[:SHORT_LABEL_CHARS]).rstrip(",;:") + "…"
    return (text[:1].upper() + text[1:]) if text else question.id


def default_title(question: Question, metric_type: str | MetricType) -> str:
    """"NPS · Recommend Journey Pulse", "CSAT · Billing": the type and the question's short label, short
    enough for a lane card; the wizard and the metric page let the user change it."""
    return f"{TYPE_NAMES[_metric_type(metric_type)]} · {short_label(question)}"


def _old_default_title(question: Question, metric_type: MetricType) -> str:
    """The default before short labels (whole question text), to recognise titles nobody edited."""
    text = question.text if len(question.text) <= 80 else question.text[:79].rstrip() + "…"
    if question.row_label:
        text = f"{question.row_label}: {text}" if len(text) < 60 else question.row_label
    return f"{TYPE_NAMES[metric_type]} · {text}"


def shorten_default_titles(settings: Settings) -> int:
    """Give metrics still carrying the old whole-question default title the short default (titles a user
    typed are left alone). Idempotent; run at start. Returns how many titles changed."""
    changed = 0
    for metric in list_metrics(settings):
        try:
            question = cached_question(settings, metric.survey_id, metric.question_id)
        except NotFound:
            continue
        if metric.title == _old_default_title(question, metric.type):
            update_metric(settings, metric.id, title=default_title(question, metric.type))
            changed += 1
    return changed


def create_metric(settings: Settings, survey_id: str, question_id: str, metric_type: str | MetricType, *,
                  title: str | None = None, mapping: AnswerMapping | None = None, owner: str | None = None,
                  target: float | None = None, direction: Direction = "higher") -> Metric:
    """Store a new metric. Without ``mapping`` the default one is built from the cached question
    (refresh the survey's questions first); without ``title`` one is made from the question text."""
    kind = _metric_type(metric_type)
    if mapping is None or not title:
        question = cached_question(settings, survey_id, question_id)
        mapping = mapping or mapping_for(question, kind)
        title = title or default_title(question, kind)
    title = title.strip()
    if not title:
        raise Invalid("A metric needs a title.")
    now = utcnow()
    with connect(settings.store) as db:
        with transaction(db):
            versions.bump(db)
            metric_id = db.insert_returning_id(
                "INSERT INTO metrics (title, type, survey_id, question_id, mapping, owner, target, direction, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (title, str(kind), survey_id, question_id, json.dumps(mapping.to_records()), owner, target,
                 _direction(direction), now, now))
        return _get(db, metric_id)


def _get(db: Database, metric_id: int) -> Metric:
    rows = list(db.query("SELECT * FROM metrics WHERE id = ?", [metric_id]))
    if not rows:
        raise NotFound(f"Metric {metric_id} does not exist (it may have been deleted).")
    return _row_to_metric(rows[0])


def get_metric(settings: Settings, metric_id: int) -> Metric:
    """One metric's definition."""
    with connect(settings.store) as db:
        return _get(db, metric_id)


def list_metrics(settings: Settings, survey_id: str | None = None) -> list[Metric]:
    """Every metric (or those of one survey), oldest first."""
    where, args = ("WHERE survey_id = ?", [survey_id]) if survey_id else ("", [])
    with connect(settings.store) as db:
        return [_row_to_metric(r) for r in db.query(f"SELECT * FROM metrics {where} ORDER BY id", args)]


def surveys_of(settings: Settings, metric_ids: Iterable[int]) -> list[str]:
    """The surveys behind these metrics (a journey's, a step's), sorted."""
    wanted = set(metric_ids)
    return sorted({m.survey_id for m in list_metrics(settings) if m.id in wanted})


_UNSET: Any = object()


def update_metric(settings: Settings, metric_id: int, *, title: str | None = None,
                  metric_type: str | MetricType | None = None, mapping: AnswerMapping | None = None,
                  target: float | None = _UNSET, direction: Direction | None = None) -> Metric:
    """Change a metric's definition; scores follow at once (they are computed from stored answers).

    Pass ``target=None`` to clear the target; leave it out to keep it.
    """
    changes: dict[str, Any] = {}
    if title is not None:
        if not title.strip():
            raise Invalid("A metric needs a title.")
        changes["title"] = title.strip()
    if metric_type is not None:
        changes["type"] = str(_metric_type(metric_type))
    if mapping is not None:
        changes["mapping"] = json.dumps(mapping.to_records())
    if target is not _UNSET:
        changes["target"] = None if target is None else float(target)
    if direction is not None:
        changes["direction"] = _direction(direction)
    with connect(settings.store) as db:
        with transaction(db):
            versions.bump(db)
            _get(db, metric_id)
            if changes:
                changes["updated_at"] = utcnow()
                sets = ", ".join(f"{k} = ?" for k in changes)
                db.execute(f"UPDATE metrics SET {sets} WHERE id = ?", [*changes.values(), metric_id])
        return _get(db, metric_id)


def delete_metric(settings: Settings, metric_id: int) -> None:
    """Delete a metric and its placements. Stored answers stay while another metric uses the question."""
    with connect(settings.store) as db, transaction(db):
        versions.bump(db)
        if db.execute("DELETE FROM metrics WHERE id = ?", (metric_id,)).rowcount == 0:
            raise NotFound(f"Metric {metric_id} does not exist (it may have been deleted).")


def tracked_surveys(settings: Settings) -> dict[str, list[str]]:
    """Survey id → sorted distinct question ids its metrics use: what a sync must export."""
    with connect(settings.store) as db:
        rows = db.execute("SELECT DISTINCT survey_id, question_id FROM metrics ORDER BY survey_id, question_id")
        tracked: dict[str, list[str]] = {}
        for survey_id, question_id in rows:
            tracked.setdefault(survey_id, []).append(question_id)
    return tracked

"""Stored answers, comments and segment values: the write path of the sync engine and the segment settings.

Every response of a batch first gets its number (``responses``, handed out in export order: see
migration 0004 for why rows are keyed by it and not by Qualtrics' random id). Then each question column
becomes one ``executemany`` upsert keyed by (survey, question, response number), rows in number order, so
that a first export appends to the B-trees. Rows are built from whole pandas columns (``tolist``), never a
Python loop over responses doing per-row work. Only answered questions are stored; an unanswered one is
simply absent, which is also what "not a respondent" means for scoring. Open-text answers are comments,
stored apart from answers so that they never count in a score.
"""

from __future__ import annotations

import json
import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # batches arrive as DataFrames; a sync that brings none imports neither
    import numpy as np
    import pandas as pd

from qualtrics.models import Question
from scoring import canonical_value
from workspace.config import Settings
from workspace.store import Database, connect, transaction, versions
from workspace.errors import Invalid

# One statement numbers a whole batch, new and known responses alike (a known one keeps its number: the
# no-op update is there so that RETURNING gives its row too).
_NUMBER = ("INSERT INTO responses (survey_id, response_id) SELECT ?, {ids} WHERE true "
           "ON CONFLICT (survey_id, response_id) DO UPDATE SET response_id = excluded.response_id "
           "RETURNING response_id, id")
NUMBER_SQLITE = _NUMBER.format(ids="value FROM json_each(?)")
NUMBER_POSTGRESQL = _NUMBER.format(ids="unnest(?::text[])")
INSERT_ANSWER = (
    "INSERT INTO answers (survey_id, question_id, response, value, label, recorded_date, finished) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (survey_id, question_id, response) DO NOTHING")
UPSERT_ANSWER = (
    "INSERT INTO answers (survey_id, question_id, response, value, label, recorded_date, finished) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (survey_id, question_id, response) DO UPDATE SET "
    "value = excluded.value, label = excluded.label, recorded_date = excluded.recorded_date, "
    "finished = excluded.finished")
UPSERT_COMMENT = (
    "INSERT INTO comments (survey_id, question_id, response, text, recorded_date) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (survey_id, question_id, response) DO UPDATE SET text = excluded.text, "
    "recorded_date = excluded.recorded_date")
UPSERT_SEGMENT = (
    "INSERT INTO response_segments (survey_id, response, field, value) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (survey_id, response, field) DO UPDATE SET value = excluded.value")
ADD_DAY_COUNTS = (
    "INSERT INTO answer_days (survey_id, question_id, day, value, finished, n) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (survey_id, question_id, day, value, finished) DO UPDATE SET n = answer_days.n + excluded.n")
_DAY = "coalesce(substr(recorded_date, 1, 10), '')"


class Written(NamedTuple):
    """Rows one batch wrote: answers (metric questions) and comments (open-text questions)."""

    answers: int = 0
    comments: int = 0


def label_lookup(question: Question | None) -> dict[str, str]:
    """Canonical exported value → plain-text label of a question's choices."""
    if question is None:
        return {}
    return {key: c.label for c in question.choices if (key := canonical_value(c.value)) is not None}


def _answered(column: pd.Series) -> np.ndarray:
    text = column.astype("string")
    return (text.notna() & (text.str.strip() != "")).fillna(False).to_numpy(dtype=bool)


def _labels(values: pd.Series, lookup: Mapping[str, str]) -> list[str | None]:
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values)
    table = np.array([lookup.get(canonical_value(u) or "") for u in uniques] + [None], dtype=object)
    return table[codes].tolist()


def number_responses(db: Database, survey_id: str, response_ids: pd.Series) -> np.ndarray:
    """The store's number of each response (aligned with ``response_ids``); new ones are numbered in order."""
    import numpy as np
    import pandas as pd

    distinct = pd.unique(response_ids.astype(str)).tolist()
    if db.is_postgresql:
        rows = db.execute(NUMBER_POSTGRESQL, (survey_id, distinct)).fetchall()
    else:
        rows = db.execute(NUMBER_SQLITE, (survey_id, json.dumps(distinct))).fetchall()
    return response_ids.astype(str).map(dict(rows)).to_numpy(dtype=np.int64)


def write_batch(db: Database, survey_id: str, frame: pd.DataFrame, question_ids: Sequence[str],
                labels: Mapping[str, Mapping[str, str]], segment_fields: Sequence[str] = (),
                comment_ids: Sequence[str] = ()) -> Written:
    """Upsert one export batch's answers, comments and segment values inside the caller's transaction.

    ``labels`` maps question id → :func:`label_lookup`. A repeated response (a re-export after a crash, a
    pushed response the export brings again) overwrites its rows: nothing is ever stored twice.

    The per-day counts (``answer_days``) move in the same transaction: a batch of new responses (the usual
    case: an export continues from its token) adds its own counts; a batch that overwrote stored answers
    has its question's days from the batch's first day counted again from the answers. The survey's data
    version moves too.
    """
    if frame.empty:
        return Written()
    import numpy as np

    versions.bump(db, versions.survey(survey_id))
    numbers = number_responses(db, survey_id, frame["responseId"])
    # Number order: neighbouring inserts land on the same B-tree pages (at its end, for new responses).
    order = np.argsort(numbers, kind="stable")
    wanted = [c for c in ("recordedDate", "finished", *question_ids, *segment_fields, *comment_ids)
              if c in frame.columns]
    frame, numbers = frame[wanted].iloc[order].reset_index(drop=True), numbers[order]
    dates = frame["recordedDate"].astype(object).where(frame["recordedDate"].notna(), None)
    written = _write_answers(db, survey_id, frame, numbers, dates, question_ids, labels)
    for field in segment_fields:
        if field in frame.columns and (mask := _answered(frame[field])).any():
            db.executemany(UPSERT_SEGMENT, zip(
                repeat(survey_id), numbers[mask].tolist(), repeat(field),
                frame[field][mask].astype(str).str.strip().tolist()))
    comments = 0
    for question_id in comment_ids:
        if question_id in frame.columns and (mask := _answered(frame[question_id])).any():
            db.executemany(UPSERT_COMMENT, zip(
                repeat(survey_id), repeat(question_id), numbers[mask].tolist(),
                frame[question_id][mask].astype(str).tolist(), dates[mask].tolist()))
            comments += int(mask.sum())
    return Written(written, comments)


def _write_answers(db: Database, survey_id: str, frame: pd.DataFrame, numbers: np.ndarray, dates: pd.Series,
                   question_ids: Sequence[str], labels: Mapping[str, Mapping[str, str]]) -> int:
    finished_flags = frame["finished"].astype("boolean").astype("Int64")
    finished = finished_flags.astype(object).where(finished_flags.notna(), None)
    days = frame["recordedDate"].astype("string").str.slice(0, 10).fillna("")
    written = 0
    for question_id in question_ids:
        if question_id not in frame.columns or not (mask := _answered(frame[question_id])).any():
            continue
        values = frame[question_id][mask].astype(str).str.strip()
        rows = list(zip(
            repeat(survey_id), repeat(question_id), numbers[mask].tolist(), values.tolist(),
            _labels(values, labels.get(question_id, {})), dates[mask].tolist(), finished[mask].tolist()))
        if db.executemany(INSERT_ANSWER, rows) == len(rows):
            _add_day_counts(db, survey_id, question_id, days[mask], values, finished_flags[mask])
        else:
            db.executemany(UPSERT_ANSWER, rows)
            batch_days = days[mask]
            recount_days(db, survey_id, question_id, None if (batch_days == "").any() else str(batch_days.min()))
        written += len(rows)
    return written


def _add_day_counts(db: Database, survey_id: str, question_id: str, days: pd.Series, values: pd.Series,
                    finished: pd.Series) -> None:
    """Add a batch of new answers to the per-day counts. Counted on integer codes (a groupby over three
    string keys cost about as much as writing the answers)."""
    import numpy as np
    import pandas as pd

    day_codes, day_names = pd.factorize(days)
    value_codes, value_names = pd.factorize(values)
    flags = finished.fillna(0).astype(int).to_numpy() != 0
    combined = (day_codes.astype(np.int64) * len(value_names) + value_codes) * 2 + flags
    keys, counts = np.unique(combined, return_counts=True)
    pairs, flag = np.divmod(keys, 2)
    day_at, value_at = np.divmod(pairs, len(value_names))
    db.executemany(ADD_DAY_COUNTS, zip(
        repeat(survey_id), repeat(question_id), [str(d) for d in day_names[day_at]],
        [str(v) for v in value_names[value_at]], flag.tolist(), counts.tolist()))


def recount_days(db: Database, survey_id: str, question_id: str, since: str | None = None) -> None:
    """Count a question's answers per day again from the answers (the days from ``since`` on, or all)."""
    day_cond, answer_cond, args = (" AND day >= ?", " AND recorded_date >= ?", [since]) if since else ("", "", [])
    db.execute(f"DELETE FROM answer_days WHERE survey_id = ? AND question_id = ?{day_cond}",
               [survey_id, question_id, *args])
    db.execute(
        "INSERT INTO answer_days (survey_id, question_id, day, value, finished, n) "
        f"SELECT survey_id, question_id, {_DAY}, value, coalesce(finished, 0), count(*) FROM answers "
        f"WHERE survey_id = ? AND question_id = ?{answer_cond} "
        f"GROUP BY survey_id, question_id, {_DAY}, value, coalesce(finished, 0)", [survey_id, question_id, *args])


@dataclass(frozen=True)
class StoredComment:
    """One stored open-text answer. ``text`` is what the respondent typed: show it as text, never as Markdown
    or HTML. ``number`` is its response's number, the order responses reached the store."""

    number: int
    survey_id: str
    response_id: str
    question_id: str
    recorded_date: str | None
    text: str


def newest_comments(db: Database, survey_ids: Sequence[str] | None, limit: int) -> list[StoredComment]:
    """The newest comments (of these surveys, of every survey when None), by recorded date, newest first.

    Read as one backward seek per open-text question along the comments' key, the ``limit`` last stored of
    each (a question's responses are numbered as they arrive, export by export, so those are its newest),
    then merged by recorded date. That replaces sorting every comment of the surveys; an index on the
    recorded date would cost every comment a sync stores one more B-tree to insert into.
    """
    if limit <= 0:
        return []
    where, args = "", []
    if survey_ids is not None:
        if not survey_ids:
            return []
        where, args = f" WHERE survey_id IN ({', '.join('?' for _ in survey_ids)})", list(survey_ids)
    found: list[StoredComment] = []
    for survey_id, question_id in db.execute(
            f"SELECT survey_id, question_id FROM survey_comment_questions{where}", args).fetchall():
        found.extend(StoredComment(*row) for row in db.execute(
            "SELECT c.response, c.survey_id, r.response_id, c.question_id, c.recorded_date, c.text "
            "FROM comments c JOIN responses r ON r.id = c.response WHERE c.survey_id = ? AND c.question_id = ? "
            "ORDER BY c.response DESC LIMIT ?", (survey_id, question_id, int(limit))))
    return heapq.nlargest(limit, found, key=lambda c: (c.recorded_date or "", c.number, c.question_id))


def answer_count(settings: Settings, survey_id: str, question_id: str | None = None) -> int:
    """Stored answers of a survey (or of one of its questions)."""
    sql, args = "SELECT count(*) FROM answers WHERE survey_id = ?", [survey_id]
    if question_id:
        sql, args = sql + " AND question_id = ?", [survey_id, question_id]
    with connect(settings.store) as db:
        return db.execute(sql, args).fetchone()[0]


def stored_answers(settings: Settings, survey_id: str, question_id: str) -> pd.DataFrame:
    """Every stored answer of one question: responseId, recordedDate, value (sorted by responseId)."""
    with connect(settings.store) as db:
        return db.frame(
            'SELECT r.response_id AS "responseId", a.recorded_date AS "recordedDate", a.value FROM answers a '
            "JOIN responses r ON r.id = a.response WHERE a.survey_id = ? AND a.question_id = ? "
            "ORDER BY r.response_id", (survey_id, question_id))


# --- segments ------------------------------------------------------------------------------------------

def set_segment_fields(settings: Settings, survey_id: str, fields: Iterable[str]) -> list[str]:
    """Choose the embedded-data fields (region, channel, persona…) stored per response for a survey.

    Newly chosen fields are backfilled on the next sync; dropped ones are deleted with their values.
    """
    chosen = sorted({f.strip() for f in fields if f and f.strip()})
    for field in chosen:
        if any(ch in field for ch in "\"'\n"):
            raise Invalid(f"{field!r} is not an embedded-data field name.")
    with connect(settings.store) as db, transaction(db):
        versions.bump(db, versions.survey(survey_id))
        existing = {r[0] for r in db.execute("SELECT field FROM segment_fields WHERE survey_id = ?",
                                                   (survey_id,))}
        for field in existing - set(chosen):
            db.execute("DELETE FROM segment_fields WHERE survey_id = ? AND field = ?", (survey_id, field))
            db.execute("DELETE FROM synced_segments WHERE survey_id = ? AND field = ?", (survey_id, field))
            db.execute("DELETE FROM response_segments WHERE survey_id = ? AND field = ?", (survey_id, field))
        db.executemany("INSERT INTO segment_fields (survey_id, field) VALUES (?, ?) ON CONFLICT DO NOTHING",
                            [(survey_id, f) for f in chosen])
    return chosen


def segment_fields(settings: Settings, survey_id: str) -> list[str]:
    """The embedded-data fields chosen as segments for a survey."""
    with connect(settings.store) as db:
        return [r[0] for r in db.execute(
            "SELECT field FROM segment_fields WHERE survey_id = ? ORDER BY field", (survey_id,))]


def segment_values(settings: Settings, survey_id: str) -> dict[str, list[str]]:
    """Field → distinct stored values, for the pages' segment filters."""
    with connect(settings.store) as db:
        rows = db.execute(
            "SELECT field, value FROM response_segments WHERE survey_id = ? GROUP BY field, value "
            "ORDER BY field, value", (survey_id,))
        options: dict[str, list[str]] = {}
        for field, value in rows:
            options.setdefault(field, []).append(value)
    return options

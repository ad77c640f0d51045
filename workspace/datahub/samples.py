"""Sample pushes for trying the Data Hub without a Qualtrics Workflow.

They are real HTTP calls to the app's own endpoint with the key, shaped the way the Web Service task
sends them (one JSON body per response), so what the page then shows went through the same intake a
Workflow uses. The comments are ones the app already has: open-text answers stored by metric syncs, or,
before any sync, the embedded sandbox's open-text answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pandas as pd
import requests

from workspace.answers import newest_comments
from workspace.config import Settings
from workspace.datahub.endpoint import endpoint_url
from workspace.store import connect

TIMEOUT_SECONDS = 16.0  # what Qualtrics gives a Web Service call


class AnswerSource(Protocol):
    """The embedded sandbox's view of its ground truth (qualtrics.sandbox.Sandbox fits)."""

    survey_ids: dict[str, str]

    def expected_answers(self, survey_id: str, question_id: str) -> pd.DataFrame: ...


@dataclass(frozen=True)
class SampleRun:
    sent: int
    stored: int          # new responses (201)
    updated: int         # already there (200): a re-send never duplicates
    failed: int
    first_error: str | None


def stored_comments(settings: Settings, limit: int) -> list[dict[str, str]]:
    """Newest synced open-text answers as Workflow bodies, with the response's region/channel if synced."""
    with connect(settings.store) as db:
        found = newest_comments(db, None, limit)
        segments: dict[int, dict[str, str]] = {}
        for number, name, value in db.execute(
                "SELECT response, field, value FROM response_segments WHERE response IN "
                f"({', '.join('?' for _ in found)})", [c.number for c in found]) if found else ():
            segments.setdefault(number, {})[name] = value
    return [{"SurveyID": c.survey_id, "ResponseID": c.response_id, "RecordedDate": c.recorded_date or "",
             "Comment": c.text, **segments.get(c.number, {})} for c in found]


def sandbox_comments(sandbox: AnswerSource, limit: int) -> list[dict[str, str]]:
    """The sandbox's newest open-text answers (QID2_TEXT of its demo surveys) as Workflow bodies."""
    frames = []
    for survey_id in sandbox.survey_ids.values():
        try:
            frame = sandbox.expected_answers(survey_id, "QID2_TEXT").assign(survey_id=survey_id)
        except KeyError:  # a demo survey whose QID2 is no open-text question (the carry-forward matrix)
            continue
        frames.append(frame)
    if not frames:
        return []
    answers = pd.concat(frames).sort_values(["recordedDate", "responseId"], ascending=[False, True]).head(limit)
    return [{"SurveyID": row.survey_id, "ResponseID": row.responseId, "RecordedDate": str(row.recordedDate),
             "Comment": str(row.value)} for row in answers.itertuples()]


def sample_bodies(settings: Settings, sandbox: AnswerSource | None, limit: int = 100) -> list[dict[str, str]]:
    """What the sample button sends: synced comments, else the sandbox's, else nothing."""
    bodies = stored_comments(settings, limit)
    if not bodies and sandbox is not None:
        bodies = sandbox_comments(sandbox, limit)
    return bodies


def send(url: str, key: str, bodies: list[dict[str, str]]) -> SampleRun:
    """POST each body to ``url`` as a Web Service task would; count what the endpoint answered."""
    stored = updated = failed = 0
    first_error = None
    with requests.Session() as session:
        session.headers["X-API-KEY"] = key
        for body in bodies:
            try:
                answer = session.post(url, json=body, timeout=TIMEOUT_SECONDS)
            except requests.RequestException as exc:
                return SampleRun(len(bodies), stored, updated, len(bodies) - stored - updated,
                                 f"The endpoint {url} cannot be reached ({type(exc).__name__}); is PULSE_URL "
                                 "this app's address?")
            if answer.status_code == 201:
                stored += 1
            elif answer.status_code == 200:
                updated += 1
            else:
                failed += 1
                if first_error is None:
                    try:
                        first_error = f"{answer.status_code}: {answer.json().get('error')}"
                    except ValueError:
                        first_error = f"{answer.status_code}: {answer.text[:200]}"
    return SampleRun(len(bodies), stored, updated, failed, first_error)


def send_samples(settings: Settings, key: str, sandbox: AnswerSource | None, limit: int = 100,
                 url: str | None = None) -> SampleRun:
    """Push up to ``limit`` sample responses through the app's endpoint (``url`` defaults to PULSE_URL's)."""
    return send(url or endpoint_url(settings), key, sample_bodies(settings, sandbox, limit))

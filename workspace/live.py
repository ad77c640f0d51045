"""Live mode: a journey's scores kept fresh for a wall screen, and the link the room answers on.

Every viewer's screen refreshes every few seconds, but Qualtrics is asked at most once per
`MIN_SYNC_AGE` seconds per survey, whoever asks: the survey's last sync time is in the database
and its lock keeps two viewers from exporting at once. The same syncs bring the surveys' open-text
answers, shown under the cards as the room's newest comments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workspace import catalog, journeys, metrics, runs, scores, sync
from workspace.config import Settings
from workspace.db import connect
from workspace.scores import MetricCard

# Well inside Qualtrics' brand-wide 3,000 requests a minute: one sync is about five requests.
MIN_SYNC_AGE = 10.0
REFRESH_SECONDS = 5


@dataclass(frozen=True)
class LiveStep:
    stage: str
    step: str
    cards: list[MetricCard]


@dataclass(frozen=True)
class LiveComment:
    """One open-text answer, with where it belongs on the journey. ``text`` is what the respondent typed:
    show it as text, never as Markdown or HTML."""

    text: str
    recorded_date: str | None
    survey_id: str
    survey_name: str
    steps: tuple[str, ...]   # the journey steps where metrics of this comment's survey sit, in journey order


def _survey_steps(settings: Settings, journey_id: int) -> dict[str, list[str]]:
    """Survey id → names of the journey's steps holding a metric of that survey, in journey order."""
    journey = journeys.get_journey(settings, journey_id)
    survey_of = {m.id: m.survey_id for m in metrics.list_metrics(settings)}
    steps: dict[str, list[str]] = {}
    for step in journey.steps:
        for metric_id in step.metric_ids:
            names = steps.setdefault(survey_of[metric_id], [])
            if step.name not in names:
                names.append(step.name)
    return steps


def survey_ids(settings: Settings, journey_id: int) -> list[str]:
    """The surveys behind the metrics on a journey."""
    return sorted(_survey_steps(settings, journey_id))


def comments(settings: Settings, journey_id: int, limit: int = 8) -> list[LiveComment]:
    """The newest open-text answers of the journey's surveys (as stored by the last syncs), newest first."""
    steps = _survey_steps(settings, journey_id)
    if not steps or limit <= 0:
        return []
    marks = ", ".join("?" for _ in steps)
    with connect(settings.db_path) as db:
        rows = db.conn.execute(
            "SELECT c.survey_id, c.text, c.recorded_date FROM comments AS c "
            "JOIN survey_comment_questions AS q ON q.survey_id = c.survey_id AND q.question_id = c.question_id "
            f"WHERE c.survey_id IN ({marks}) ORDER BY c.recorded_date DESC, c.response_id DESC LIMIT ?",
            [*steps, int(limit)]).fetchall()
    names = {survey_id: catalog.survey_name(settings, survey_id) or survey_id for survey_id in steps}
    return [LiveComment(text, recorded, survey_id, names[survey_id], tuple(steps[survey_id]))
            for survey_id, text, recorded in rows]


def _age(last_sync: str | None) -> float:
    if not last_sync:
        return float("inf")
    when = dt.datetime.fromisoformat(last_sync.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return (dt.datetime.now(dt.timezone.utc) - when).total_seconds()


def refresh(settings: Settings, journey_id: int, min_age: float = MIN_SYNC_AGE) -> list[sync.SyncResult]:
    """Sync the journey's surveys that were not synced in the last `min_age` seconds (busy ones skipped)."""
    results = []
    for survey_id in survey_ids(settings, journey_id):
        if _age(runs.survey_state(settings, survey_id).last_sync) >= min_age:
            results.append(sync.sync_survey(settings, survey_id, trigger="live", wait=0.0))
    return results


def board(settings: Settings, journey_id: int) -> list[LiveStep]:
    """Every step that has metrics, in journey order, with its cards."""
    journey = journeys.get_journey(settings, journey_id)
    lane = scores.journey_lane(settings, journey_id)
    return [LiveStep(stage.name, step.name, lane[step.id])
            for stage in journey.stages for step in stage.steps if lane.get(step.id)]


def public_link(settings: Settings, survey_id: str) -> str:
    """The survey's anonymous link, as Qualtrics forms it: `{base}/jfe/form/{survey id}`."""
    base = settings.qualtrics_base_url or ""
    return f"{base}/jfe/form/{survey_id}"

"""Live mode: a journey's scores kept fresh for a wall screen, and the link the room answers on.

Every viewer's screen refreshes every few seconds, but Qualtrics is asked at most once per
`MIN_SYNC_AGE` seconds per survey, whoever asks: the survey's last sync time is in the database
and its lock keeps two viewers from exporting at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workspace import journeys, metrics, runs, scores, sync
from workspace.config import Settings
from workspace.scores import MetricCard

# Well inside Qualtrics' brand-wide 3,000 requests a minute: one sync is about five requests.
MIN_SYNC_AGE = 10.0
REFRESH_SECONDS = 5


@dataclass(frozen=True)
class LiveStep:
    stage: str
    step: str
    cards: list[MetricCard]


def survey_ids(settings: Settings, journey_id: int) -> list[str]:
    """The surveys behind the metrics on a journey."""
    journey = journeys.get_journey(settings, journey_id)
    ids = {metrics.get_metric(settings, m).survey_id for step in journey.steps for m in step.metric_ids}
    return sorted(ids)


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

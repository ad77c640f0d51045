"""Live mode: a journey's scores kept fresh for wall screens, the link the room answers on, and pushes.

- :mod:`workspace.live.feeds`: one background refresh per survey for every screen (push when Qualtrics can
  reach the app, else incremental syncs every few seconds), and the pushed responses' fetch worker.
- :mod:`workspace.live.view`: what a screen shows, computed once for all screens of a journey.
- :mod:`workspace.live.links`: the survey link a phone opens, and the relay of the embedded sandbox's form.
- :mod:`workspace.live.push`: Qualtrics event subscriptions and publications.

This module keeps the journey-level reads the views are made of: the board of cards and the comments.
"""

from __future__ import annotations

from dataclasses import dataclass

from workspace import catalog, journeys, metrics, scores
from workspace.answers import newest_comments
from workspace.config import Settings
from workspace.store import connect
from workspace.scores import MetricCard

#: How often a screen reads the stored figures again (reads only: the feeds do the syncing). The wall
#: reads every second so that a vote shows within about a second of being stored; a screen that misses
#: beats still refreshes at least every two seconds (bench/bench_live.py measures both).
REFRESH_SECONDS = 2
WALL_REFRESH_SECONDS = 1


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
    return metrics.surveys_of(settings, journeys.get_journey(settings, journey_id).metric_ids)


def comments(settings: Settings, journey_id: int, limit: int = 8) -> list[LiveComment]:
    """The newest open-text answers of the journey's surveys (as stored by syncs and pushes), newest first."""
    steps = _survey_steps(settings, journey_id)
    if not steps or limit <= 0:
        return []
    with connect(settings.store) as db:
        found = newest_comments(db, sorted(steps), limit)
    names = {survey_id: catalog.survey_name(settings, survey_id) or survey_id for survey_id in steps}
    return [LiveComment(c.text, c.recorded_date, c.survey_id, names[c.survey_id], tuple(steps[c.survey_id]))
            for c in found]


def board(settings: Settings, journey_id: int) -> list[LiveStep]:
    """Every step that has metrics, in journey order, with its cards."""
    journey = journeys.get_journey(settings, journey_id)
    lane = scores.journey_lane(settings, journey_id)
    return [LiveStep(stage.name, step.name, lane[step.id])
            for stage in journey.stages for step in stage.steps if lane.get(step.id)]


from workspace.live.feeds import FeedState, receive, watch  # noqa: E402  (they use the reads above)
from workspace.live.links import public_link, relay_survey_form, short_link  # noqa: E402
from workspace.live.view import JourneyView, SurveyPanel, journey_view  # noqa: E402

__all__ = ["REFRESH_SECONDS", "WALL_REFRESH_SECONDS", "FeedState", "JourneyView", "LiveComment", "LiveStep", "SurveyPanel", "board",
           "comments", "journey_view", "public_link", "receive", "relay_survey_form", "short_link", "survey_ids",
           "watch"]

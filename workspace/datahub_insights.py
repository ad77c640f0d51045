"""Data Hub insights: the themes of pushed open texts, per journey step, as Gains and Pains.

A pushed response belongs to a step of a journey when its ``Step`` field names that step; when the
journey has no step of that name (or none was sent), it belongs to the steps holding a metric of its
survey. Links are worked out on every read, so comments already received appear as soon as a step is
created or a metric placed.

Mining runs when a page asks. It takes tens of milliseconds per thousand comments, and the result of
one set of comments is cached, so reruns of the page cost a database read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from workspace import journeys, mining
from workspace.config import Settings
from workspace.db import connect
from workspace.mining import Theme

# Per journey, the step(s) each source belongs to (see module docstring). `named` = steps of this
# journey whose name the source's Step field gives.
_LINKS = """
WITH jsteps AS (
    SELECT s.id, s.name FROM steps s JOIN stages g ON g.id = s.stage_id WHERE g.journey_id = :journey
), named AS (
    SELECT src.id AS source_id, js.id AS step_id FROM datahub_sources src
    JOIN jsteps js ON js.name = src.step COLLATE NOCASE
), placed AS (
    SELECT DISTINCT src.id AS source_id, p.step_id FROM datahub_sources src
    JOIN metrics m ON m.survey_id = src.survey_id
    JOIN placements p ON p.metric_id = m.id
    JOIN jsteps js ON js.id = p.step_id
    WHERE src.id NOT IN (SELECT source_id FROM named)
)
SELECT link.step_id, t.text, t.sentiment, src.received_at
FROM (SELECT * FROM named UNION SELECT * FROM placed) AS link
JOIN datahub_sources src ON src.id = link.source_id
JOIN datahub_texts t ON t.source_id = link.source_id
ORDER BY link.step_id, src.received_at, src.id, t.field
"""


@dataclass(frozen=True)
class StepInsights(mining.SentimentShares):
    """A step's open texts: how many, how they feel, and their themes (largest first)."""

    stage: str
    step: str
    step_id: int
    count: int          # open texts linked to the step
    positive: int
    negative: int
    themes: tuple[Theme, ...]


@lru_cache(maxsize=64)
def _themes(texts: tuple[str, ...], compounds: tuple[float, ...], max_themes: int) -> tuple[Theme, ...]:
    return tuple(mining.find_themes(texts, compounds, max_themes=max_themes))


def journey_texts(settings: Settings, journey_id: int) -> pd.DataFrame:
    """Every open text linked to the journey's steps: columns step_id, text, sentiment, received_at."""
    with connect(settings.db_path) as db:
        rows = db.conn.execute(_LINKS, {"journey": journey_id}).fetchall()
    return pd.DataFrame(rows, columns=["step_id", "text", "sentiment", "received_at"])


def journey_insights(settings: Settings, journey_id: int, max_themes: int = 6) -> list[StepInsights]:
    """Each step of the journey, left to right, with the themes of the open texts linked to it."""
    journey = journeys.get_journey(settings, journey_id)
    texts = journey_texts(settings, journey_id)
    by_step = {step_id: group for step_id, group in texts.groupby("step_id", sort=False)}
    insights = []
    for stage in journey.stages:
        for step in stage.steps:
            group = by_step.get(step.id)
            if group is None:
                insights.append(StepInsights(stage.name, step.name, step.id, 0, 0, 0, ()))
                continue
            scores = group["sentiment"].to_numpy()
            insights.append(StepInsights(
                stage.name, step.name, step.id, count=len(group),
                positive=int((scores >= mining.POSITIVE_THRESHOLD).sum()),
                negative=int((scores <= mining.NEGATIVE_THRESHOLD).sum()),
                themes=_themes(tuple(group["text"]), tuple(float(s) for s in scores), max_themes)))
    return insights


def unlinked_sources(settings: Settings) -> int:
    """Received responses with open text that show on no step of any journey (neither their Step nor
    their survey matches one): the page tells how to place them."""
    with connect(settings.db_path) as db:
        return db.conn.execute(
            """SELECT count(*) FROM datahub_sources src
               WHERE src.status = 'Processed'
                 AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.name = src.step COLLATE NOCASE)
                 AND NOT EXISTS (SELECT 1 FROM metrics m JOIN placements p ON p.metric_id = m.id
                                 WHERE m.survey_id = src.survey_id)""").fetchone()[0]

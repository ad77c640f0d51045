"""Data Hub insights: each pushed open text on the journey step it concerns, and each step's themes.

A text's step on a journey, first rule that applies:

1. a person's choice on the Data Hub page (stored; "no step" is a choice too);
2. the push's ``Step`` field, when the journey has a step of that name;
3. its words (:mod:`.steps`: TF-IDF similarity to the steps' names, taught by rules 1–2);
4. the one step of the journey holding a metric of the push's survey, when there is exactly one;
5. otherwise none: the text is *unassigned* and the page offers to place it.

Placements are worked out on every read (cached per set of texts and steps), so texts already received
move when a step is created, renamed or a metric placed. Texts the mining worker has not read yet are
placed but not counted in tones and themes until they are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import pandas as pd

from workspace import journeys
from workspace.config import Settings
from workspace.datahub import mining, sentiment, steps, store
from workspace.datahub.mining import Theme
from workspace.store import connect, transaction, utcnow
from workspace.errors import NotFound


class How(StrEnum):
    """Why a text sits where it does (shown beside it, so a person can judge the placement)."""

    PERSON = "Chosen by a person"
    STEP_FIELD = "Step field of the push"
    WORDS = "Its words"
    SURVEY = "Its survey's metric"
    NONE = "Unassigned"


@dataclass(frozen=True)
class PlacedText:
    source_id: int
    field: str
    text: str                 # at most 10,000 characters: user input, show as text
    length: int               # characters pushed
    sentiment: float | None   # None until read
    received_at: str
    step_id: int | None
    how: How


_TEXTS = """
SELECT t.source_id, t.field, t.text, t.length, t.sentiment, src.received_at, src.survey_id, src.step,
       c.source_id IS NOT NULL AS chosen, c.step_id AS chosen_step
FROM datahub_texts t JOIN datahub_sources src ON src.id = t.source_id
LEFT JOIN datahub_step_choices c ON c.source_id = t.source_id AND c.field = t.field AND c.journey_id = ?
ORDER BY src.received_at, t.source_id, t.field
"""
_SURVEY_STEPS = """
SELECT m.survey_id, p.step_id FROM placements p JOIN metrics m ON m.id = p.metric_id
JOIN steps s ON s.id = p.step_id JOIN stages g ON g.id = s.stage_id WHERE g.journey_id = ?
GROUP BY m.survey_id, p.step_id
"""


def placed_texts(settings: Settings, journey_id: int) -> list[PlacedText]:
    """Every pushed open text with its step on this journey (or None) and the rule that put it there."""
    journey = journeys.get_journey(settings, journey_id)
    names = [steps.StepName(s.id, s.name, stage.name) for stage in journey.stages for s in stage.steps]
    by_name: dict[str, int] = {}
    for name in names:
        by_name.setdefault(name.name.casefold(), name.id)
    with connect(settings.store) as db:
        rows = db.execute(_TEXTS, (journey_id,)).fetchall()
        survey_steps: dict[str, list[int]] = {}
        for survey_id, step_id in db.execute(_SURVEY_STEPS, (journey_id,)):
            survey_steps.setdefault(survey_id, []).append(step_id)
    known: list[int | None] = []
    for *_, step, chosen, chosen_step in rows:
        known.append(chosen_step if chosen else by_name.get((step or "").casefold()))
    matches = steps.by_words([r[2] for r in rows], names, known)
    placed = []
    for row, match in zip(rows, matches):
        source_id, field, text, length, score, received_at, survey_id, step, chosen, chosen_step = row
        if chosen:
            step_id, how = chosen_step, How.PERSON if chosen_step is not None else How.NONE
        elif match.step_id is not None:
            step_id = match.step_id
            how = How.STEP_FIELD if by_name.get((step or "").casefold()) is not None else How.WORDS
        elif len(survey_steps.get(survey_id, ())) == 1:
            step_id, how = survey_steps[survey_id][0], How.SURVEY
        else:
            step_id, how = None, How.NONE
        placed.append(PlacedText(source_id, field, text, length, score, received_at, step_id, how))
    return placed


@dataclass(frozen=True)
class StepInsights(mining.SentimentShares):
    """A step's open texts: how many, how they feel, and their themes (largest first)."""

    stage: str
    step: str
    step_id: int
    count: int          # read open texts placed on the step
    positive: int
    negative: int
    themes: tuple[Theme, ...]
    unread: int = 0     # placed here, not read yet


@lru_cache(maxsize=64)
def _themes(texts: tuple[str, ...], scores: tuple[float, ...], max_themes: int) -> tuple[Theme, ...]:
    return tuple(mining.find_themes(texts, scores, max_themes=max_themes))


def journey_insights(settings: Settings, journey_id: int, placed: list[PlacedText] | None = None,
                     max_themes: int = 6) -> list[StepInsights]:
    """Each step of the journey, left to right, with the themes of the open texts placed on it
    (``placed``: :func:`placed_texts` of the journey when the caller has it already)."""
    journey = journeys.get_journey(settings, journey_id)
    texts = placed if placed is not None else placed_texts(settings, journey_id)
    insights = []
    for stage in journey.stages:
        for step in stage.steps:
            mine = [t for t in texts if t.step_id == step.id]
            read = [t for t in mine if t.sentiment is not None]
            scores = [float(t.sentiment) for t in read if t.sentiment is not None]
            insights.append(StepInsights(
                stage.name, step.name, step.id, count=len(read),
                positive=sum(s >= sentiment.POSITIVE_THRESHOLD for s in scores),
                negative=sum(s <= sentiment.NEGATIVE_THRESHOLD for s in scores),
                themes=_themes(tuple(t.text for t in read), tuple(scores), max_themes) if read else (),
                unread=len(mine) - len(read)))
    return insights


def choose_step(settings: Settings, journey_id: int, source_id: int, field: str, step_id: int | None,
                chosen_by: str | None) -> None:
    """A person places a text on a step of the journey (``None``: on none). Kept until changed again."""
    journey = journeys.get_journey(settings, journey_id)
    if step_id is not None and step_id not in {s.id for s in journey.steps}:
        raise NotFound(f"Step {step_id} is not a step of {journey.name}; reload the page.")
    with connect(settings.store) as db, transaction(db):
        if db.execute("SELECT 1 FROM datahub_texts WHERE source_id = ? AND field = ?",
                           (source_id, field)).fetchone() is None:
            raise NotFound("That comment is no longer stored; reload the page.")
        db.execute(
            """INSERT INTO datahub_step_choices (source_id, field, journey_id, step_id, chosen_by, chosen_at)
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source_id, field, journey_id) DO UPDATE SET
               step_id = excluded.step_id, chosen_by = excluded.chosen_by, chosen_at = excluded.chosen_at""",
            (source_id, field, journey_id, step_id, chosen_by, utcnow()))


def step_labels(settings: Settings, journey_id: int) -> dict[int, str]:
    """Step id → "Stage › Step", in lane order (what a placement picker offers)."""
    journey = journeys.get_journey(settings, journey_id)
    return {s.id: f"{stage.name} › {s.name}" for stage in journey.stages for s in stage.steps}


def placement_table(placed: list[PlacedText], labels: dict[int, str], chars: int, no_step: str,
                    limit: int = 500) -> pd.DataFrame:
    """The newest ``limit`` texts, unassigned first, as rows a person can re-place: source_id, field,
    Comment (cut to ``chars``), Step (its label or ``no_step``), Placed by."""
    newest_first = sorted(placed, key=lambda t: t.received_at, reverse=True)
    ordered = sorted(newest_first, key=lambda t: t.step_id is not None)  # stable: unassigned first
    newest = sorted(placed, key=lambda t: t.received_at, reverse=True)[:limit]
    keep = {(t.source_id, t.field) for t in newest}
    rows = [{"source_id": t.source_id, "field": t.field,
             "Comment": store.shown_text(t.text, t.length, chars),
             "Step": labels.get(t.step_id, no_step) if t.step_id is not None else no_step,
             "Placed by": t.how.value}
            for t in ordered if (t.source_id, t.field) in keep]
    return pd.DataFrame(rows, columns=["source_id", "field", "Comment", "Step", "Placed by"])


def save_placements(settings: Settings, journey_id: int, before: pd.DataFrame, after: pd.DataFrame,
                    labels: dict[int, str], no_step: str, chosen_by: str | None) -> int:
    """Store the rows whose Step a person changed in the placement table; returns how many."""
    by_label = {label: step_id for step_id, label in labels.items()}
    changed = 0
    for old, new in zip(before.itertuples(index=False), after.itertuples(index=False)):
        if old.Step == new.Step:
            continue
        step_id = None if new.Step == no_step else by_label.get(new.Step)
        if new.Step != no_step and step_id is None:
            continue  # a label that no longer exists (renamed meanwhile): leave it
        choose_step(settings, journey_id, int(old.source_id), str(old.field), step_id, chosen_by)
        changed += 1
    return changed

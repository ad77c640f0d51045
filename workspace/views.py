"""What the pages show, shaped for them: library rows, freshness, change sentences, mapping tables.

These functions compose the domain modules (metrics, scores, runs, journeys) so that pages stay a
list of widgets; nothing here knows about Streamlit.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from scoring import Score, format_value
from scoring.trends import compare_periods
from workspace import downloads, jobs, journeys, metrics, runs, scores
from workspace.catalog import survey_name
from workspace.config import Settings
from workspace.metrics import Metric
from workspace.scores import NO_FILTER, MetricCard, ScoreFilter

# workspace.wizard is imported by the two functions that edit a mapping: it brings the sync engine and the
# Qualtrics client, which pages showing cards (every one) do not need.

LIBRARY_COLUMNS = ["id", "title", "type", "survey", "question", "score", "n", "interval", "trend",
                   "last_sync", "status", "low_confidence"]


def library(settings: Settings, flt: ScoreFilter = NO_FILTER, period: str = "week") -> pd.DataFrame:
    """One row per metric for the Metrics Library table, with a sparkline of its recent trend."""
    records = []
    for card in scores.metric_cards(settings, flt=flt):
        metric_trend = scores.trend(settings, card.metric_id, period=period, flt=flt)
        recent = metric_trend["value"].tail(12)
        records.append({
            "id": card.metric_id,
            "title": card.title,
            "type": card.type_name,
            "survey": survey_name(settings, card.survey_id) or card.survey_id,
            "question": card.question_id,
            "score": card.display,
            "n": int(card.n),
            "interval": card.interval_display,
            "trend": [None if pd.isna(v) else float(v) for v in recent],
            "last_sync": card.last_sync,
            "status": card.sync_status,
            "low_confidence": card.low_confidence,
        })
    return pd.DataFrame.from_records(records, columns=LIBRARY_COLUMNS)


@dataclass(frozen=True)
class Freshness:
    last_sync: str | None
    next_sync: str | None
    last_error: str | None
    running: bool


def freshness(settings: Settings, metric: Metric) -> Freshness:
    """When the metric's survey was last synced, when a worker will sync it next (its job's due time), the
    last error."""
    state = runs.survey_state(settings, metric.survey_id)
    last_run = runs.latest_run(settings, metric.survey_id)
    next_sync = None
    if state.last_sync:
        last = dt.datetime.fromisoformat(state.last_sync.replace("Z", "+00:00"))
        next_sync = jobs.next_due(settings, metric.survey_id) or \
            (last + dt.timedelta(seconds=settings.sync_interval)).isoformat()
    error = last_run.error if last_run is not None and last_run.status == "failed" else None
    running = last_run is not None and last_run.status == "running"
    return Freshness(state.last_sync, next_sync, error, running)


def period_bounds(start: pd.Timestamp, period: str) -> tuple[dt.date, dt.date]:
    """First and last day of the day/week/month that starts at `start`."""
    first = start.date()
    if period == "day":
        return first, first
    if period == "week":
        return first, first + dt.timedelta(days=6)
    next_month = (start + pd.offsets.MonthBegin(1)).date()
    return first, next_month - dt.timedelta(days=1)


def latest_change(settings: Settings, metric_id: int, period: str = "week",
                  flt: ScoreFilter = NO_FILTER) -> str | None:
    """"up 6.2, not significant (…)": the latest period with a score against the one before it."""
    frame = scores.trend(settings, metric_id, period=period, flt=flt)
    scored = frame[frame["value"].notna()]
    if len(scored) < 2:
        return None
    before_start, after_start = scored["period"].iloc[-2], scored["period"].iloc[-1]

    def score_in(start: pd.Timestamp) -> Score:
        first, last = period_bounds(start, period)
        window = ScoreFilter(start=first, end=last, segments=flt.segments, finished_only=flt.finished_only)
        return scores.metric_score(settings, metric_id, window)

    change = compare_periods(score_in(before_start), score_in(after_start))
    return f"{change.describe()} vs the previous {period}"


def mapping_table(metric: Metric) -> pd.DataFrame:
    """The metric's mapping as the editable table the wizard also uses."""
    return pd.DataFrame.from_records(metric.mapping.to_records(), columns=["value", "label", "sentiment", "score"])


def default_mapping_table(settings: Settings, metric: Metric) -> pd.DataFrame:
    """The mapping a new metric of this question and type would get (design.md §2): what Reset restores."""
    from workspace.catalog import cached_question
    from workspace.wizard import default_table

    return default_table(cached_question(settings, metric.survey_id, metric.question_id), metric.type_name)


def save_mapping(settings: Settings, metric: Metric, table: pd.DataFrame) -> Metric:
    """Store an edited mapping; scores change at once because they are computed from stored answers."""
    from workspace.wizard import mapping_from_table

    return metrics.update_metric(settings, metric.id, mapping=mapping_from_table(table, metric.type_name))


ANSWER_HEADERS = {"response_id": "Response ID", "recorded_date": "Recorded (UTC)", "value": "Value",
                  "label": "Answer", "sentiment": "Sentiment", "counted": "Counted", "finished": "Finished"}


def answers_table(settings: Settings, metric: Metric, limit: int = 500) -> pd.DataFrame:
    """The newest answers for the page's table, with the recorded time as a datetime (shown as a date)."""
    frame = scores.responses(settings, metric.id, limit=limit)
    frame["recorded_date"] = pd.to_datetime(frame["recorded_date"], utc=True, errors="coerce")
    return frame


def answers_csv(settings: Settings, metric: Metric, flt: ScoreFilter = NO_FILTER) -> bytes:
    """Every stored answer behind the score (not only the rows on screen), with its segments and the filter
    that selected them, through the one CSV writer that keeps respondents' text from running as formulas."""
    frame = scores.responses(settings, metric.id, flt, limit=None).rename(columns=ANSWER_HEADERS)
    frame["Recorded (UTC)"] = frame["Recorded (UTC)"].str.replace("T", " ").str.rstrip("Z").str[:19]
    frame.insert(0, "Metric", metric.title)
    return downloads.csv_bytes(frame, downloads.filter_columns(flt))


def answers_file_name(metric: Metric) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", metric.title).strip("-").lower()[:60] or "metric"
    return f"{slug}-answers-{dt.date.today().isoformat()}.csv"


def target_text(card: MetricCard) -> str:
    """"target 40.0, higher is better" (the target in the score's own format)."""
    return f"target {format_value(card.type, card.target)}, {card.direction} is better"


def target_mark(card: MetricCard) -> str | None:
    """"below target 40", "on target 40", "above target 3.00" (when lower is better); None without a
    target or a score."""
    if card.target is None or card.on_target is None:
        return None
    shown = format_value(card.type, card.target)
    if card.on_target:
        return f"on target {shown}"
    return f"{'below' if card.direction == 'higher' else 'above'} target {shown}"


def step_options(settings: Settings) -> dict[int, str]:
    """Step id → "Journey › Stage › Step", for the "place on a step" picker."""
    options = {}
    for journey in journeys.list_journeys(settings):
        for stage in journey.stages:
            for step in stage.steps:
                options[step.id] = f"{journey.name} › {stage.name} › {step.name}"
    return options

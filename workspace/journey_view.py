"""The journey view's data: filters that round-trip through the URL, segment options, per-step trends,
the scorecard download and the placement pickers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

import scoring
from workspace import downloads, journeys, metrics, scores
from workspace.answers import segment_values
from workspace.config import Settings
from workspace.journeys import Journey
from workspace.scores import ScoreFilter

SEGMENT_PREFIX = "seg_"


def journey_options(settings: Settings) -> dict[int, str]:
    """Journey id → name, oldest first."""
    return {j.id: j.name for j in journeys.list_journeys(settings)}


def create_with_stages(settings: Settings, name: str, stages_text: str = "", owner: str | None = None) -> Journey:
    """A new journey, with the comma-separated stages (in order) if any were given."""
    stages = [(stage.strip(), ()) for stage in stages_text.split(",") if stage.strip()]
    return journeys.create_journey(settings, name, owner=owner, stages=stages)


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def filter_from_query(params: Mapping[str, str]) -> ScoreFilter:
    """The filter a shared URL describes: `from`, `to` (ISO dates) and `seg_<field>=a,b`."""
    segments = {key[len(SEGMENT_PREFIX):]: [v for v in value.split(",") if v]
                for key, value in params.items() if key.startswith(SEGMENT_PREFIX)}
    return ScoreFilter(start=_date(params.get("from")), end=_date(params.get("to")), segments=segments)


def filter_to_query(flt: ScoreFilter) -> dict[str, str]:
    """Inverse of `filter_from_query` (empty segment picks are left out)."""
    params = {}
    if flt.start:
        params["from"] = flt.start.isoformat()
    if flt.end:
        params["to"] = flt.end.isoformat()
    for field, values in flt.segments.items():
        if values:
            params[f"{SEGMENT_PREFIX}{field}"] = ",".join(values)
    return params


def build_filter(date_range: Sequence[dt.date] | dt.date, segments: Mapping[str, Sequence[str]]) -> ScoreFilter:
    """A filter from the date widget (one date while a range is being picked) and segment picks."""
    dates = list(date_range) if isinstance(date_range, (list, tuple)) else [date_range]
    start = dates[0] if dates else None
    end = dates[1] if len(dates) > 1 else start
    return ScoreFilter(start=start, end=end, segments={k: list(v) for k, v in segments.items() if v})


def segment_options(settings: Settings, journey: Journey) -> dict[str, list[str]]:
    """Segment field → values seen in the surveys of the journey's metrics."""
    merged: dict[str, set[str]] = {}
    for survey_id in metrics.surveys_of(settings, journey.metric_ids):
        for field, values in segment_values(settings, survey_id).items():
            merged.setdefault(field, set()).update(values)
    return {field: sorted(values) for field, values in sorted(merged.items())}


def types_in(table: pd.DataFrame) -> list[str]:
    """Metric types present in a journey's scores, in a fixed order (NPS, CSAT, CES)."""
    present = set(table["type"])
    return [t for t in ("nps", "csat", "ces") if t in present]


def step_trends(settings: Settings, journey: Journey, table: pd.DataFrame, period: str,
                flt: ScoreFilter) -> dict[str, dict[str, pd.DataFrame]]:
    """Metric type → {"Step · metric": trend frame}, one line per metric per step."""
    out: dict[str, dict[str, pd.DataFrame]] = {}
    trends: dict[int, pd.DataFrame] = {}
    for row in table.itertuples():
        if row.metric_id not in trends:
            trends[row.metric_id] = scores.trend(settings, row.metric_id, period=period, flt=flt)
        out.setdefault(row.type, {})[f"{row.step} · {row.title}"] = trends[row.metric_id]
    return out


def as_displayed(metric_type: str, value: float | None) -> float | None:
    """``value`` rounded exactly as the card shows it, as a number (CES "74.1%" → 74.1)."""
    text = scoring.format_value(metric_type, value)
    return None if text == scoring.NO_SCORE else float(text.rstrip("%"))


SCORE_HEADER = "Score (NPS -100 to 100 · CSAT mean · CES % easy)"


def scorecard_csv(table: pd.DataFrame, flt: ScoreFilter) -> bytes:
    """The journey's scores, one row per step and metric, for spreadsheets: scores and intervals as numbers
    rounded as on the cards, the unit in the header, and the filters that made them in their own columns."""
    rows = [{"Stage": r.stage, "Step": r.step, "Metric": r.title, "Type": str(r.type).upper(),
             SCORE_HEADER: as_displayed(r.type, r.value),
             "Respondents": int(r.respondents),
             "95% CI low": as_displayed(r.type, r.interval_low), "95% CI high": as_displayed(r.type, r.interval_high),
             "Low confidence": bool(r.low_confidence),
             "Target": None if pd.isna(r.target) else float(r.target),
             "On target": None if r.on_target is None or pd.isna(r.on_target) else bool(r.on_target)}
            for r in table.itertuples()]
    return downloads.csv_bytes(pd.DataFrame(rows), downloads.filter_columns(flt))


def scorecard_name(journey: Journey) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", journey.name).strip("-").lower() or "journey"
    return f"{slug}-scorecard-{dt.date.today().isoformat()}.csv"


@dataclass(frozen=True)
class PlacementChoices:
    metrics: dict[int, str]                 # metric id → title
    steps: dict[int, str]                   # step id → "Stage › Step"
    placed: list[tuple[int, int, str]]      # (step id, metric id, "Stage › Step: title")


def placement_choices(settings: Settings, journey: Journey) -> PlacementChoices:
    """What the "place a metric on a step" pickers offer, and what is placed already."""
    titles = {m.id: m.title for m in metrics.list_metrics(settings)}
    steps = {step.id: f"{stage.name} › {step.name}" for stage in journey.stages for step in stage.steps}
    placed = [(step.id, metric_id, f"{steps[step.id]}: {titles.get(metric_id, metric_id)}")
              for step in journey.steps for metric_id in step.metric_ids]
    return PlacementChoices(titles, steps, placed)

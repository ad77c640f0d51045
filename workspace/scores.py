"""Scores from stored answers: cards, journey lanes, trends, distributions and the answers behind a score.

Every score starts as a SQL aggregate (``GROUP BY value``, or ``GROUP BY day, value`` for trends) whose
few rows go to :func:`scoring.score` as weights. Without segment filters the aggregate sums the per-day
counts the sync keeps (``answer_days``: a few hundred rows per question, whatever the number of answers);
with them it scans the question's answers. The counts are cached per process against the survey's data
version (:mod:`workspace.store.versions`), so a rerun with nothing new costs one version lookup per
metric, and a sync on any server invalidates them everywhere. Mappings are applied at read time, which is
why an edited mapping or metric type changes every score immediately, without a re-sync.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

import scoring
from scoring import Score
from scoring.trends import scores_by_period
from workspace import journeys as journeys_module
from workspace.config import Settings
from workspace.store import Database, connect, versions
from workspace.jobs import is_held
from workspace.metrics import Metric, _get as _get_metric, _row_to_metric
from workspace.runs import SyncRun, latest_run, read_survey_state


@dataclass(frozen=True)
class ScoreFilter:
    """Which answers count: recorded between ``start`` and ``end`` (inclusive dates, UTC), segment values
    (field → accepted values; a response must match every field), and optionally finished responses only."""

    start: dt.date | None = None
    end: dt.date | None = None
    segments: Mapping[str, Sequence[str]] = field(default_factory=dict)
    finished_only: bool = False

    @property
    def key(self) -> tuple[Any, ...]:
        """The filter as a hashable value (a cache key)."""
        return (self.start, self.end, self.finished_only,
                tuple(sorted((name, tuple(values)) for name, values in self.segments.items() if values)))

    @property
    def by_day(self) -> bool:
        """Whether the per-day counts can answer it (no segment filter)."""
        return not any(self.segments.values())

    def _common(self, date: str, finished: str) -> tuple[list[str], list[Any]]:
        """The date range and finished conditions, on the given columns."""
        parts: list[str] = []
        args: list[Any] = []
        if self.start is not None:
            parts.append(f"{date} >= ?")
            args.append(self.start.isoformat())
        if self.end is not None:
            parts.append(f"{date} < ?")
            args.append((self.end + dt.timedelta(days=1)).isoformat())
        if self.finished_only:
            parts.append(f"{finished} = 1")
        return parts, args

    def day_sql(self) -> tuple[str, list[Any]]:
        """``AND …`` conditions on ``answer_days`` equal to :meth:`sql` (for a filter that is :attr:`by_day`)."""
        parts, args = self._common("day", "finished")
        if self.start is not None or self.end is not None:
            parts.append("day <> ''")  # an answer without a date is outside every date range
        return "".join(f" AND {p}" for p in parts), args

    def sql(self) -> tuple[str, list[Any]]:
        """``AND …`` conditions on ``answers a`` and their parameters."""
        parts, args = self._common("a.recorded_date", "a.finished")
        for name, accepted in sorted(self.segments.items()):
            accepted = list(accepted)
            if not accepted:
                continue
            marks = ", ".join("?" for _ in accepted)
            parts.append(
                "EXISTS (SELECT 1 FROM response_segments s WHERE s.survey_id = a.survey_id AND "
                f"s.response = a.response AND s.field = ? AND s.value IN ({marks}))")
            args.extend([name, *accepted])
        return "".join(f" AND {p}" for p in parts), args


NO_FILTER = ScoreFilter()


@dataclass(frozen=True)
class MetricCard:
    """Everything a metric card shows (design.md §6): title, type, score in its display format and n."""

    metric_id: int
    title: str
    type: str            # "nps" | "csat" | "ces"
    type_name: str       # "NPS" | "CSAT" | "CES"
    survey_id: str
    question_id: str
    score: Score
    display: str         # "32.5", "71.3%", "4.12" or "No score"
    n: int | float
    n_display: str       # "n = 1,234"
    interval_low: float | None
    interval_high: float | None
    interval_display: str
    low_confidence: bool
    target: float | None
    direction: str       # "higher" | "lower" (is better)
    on_target: bool | None
    last_sync: str | None
    sync_status: str     # "Not synced yet" | "Syncing" | "Synced" | "Sync failed"
    sync_error: str | None


_counts = versions.VersionedCache(size=4096)


def _cached_rows(db: Database, kind: str, metric: Metric, flt: ScoreFilter, sql: str, args: list[Any]
                 ) -> list[tuple[Any, ...]]:
    """Rows of an aggregate over one question's answers, cached against its survey's data version."""
    version = versions.read(db, [versions.survey(metric.survey_id)])[0]
    key = (kind, db.location.key, metric.survey_id, metric.question_id, flt.key)
    return _counts.get_or_compute(key, version, lambda: [tuple(r) for r in db.execute(sql, args).fetchall()])


def _value_counts(db: Database, metric: Metric, flt: ScoreFilter) -> tuple[list[str], list[int]]:
    if flt.by_day:
        where, args = flt.day_sql()
        sql = (f"SELECT value, sum(n) FROM answer_days WHERE survey_id = ? AND question_id = ?{where} "
               "GROUP BY value ORDER BY value")
    else:
        where, args = flt.sql()
        sql = (f"SELECT a.value, count(*) FROM answers a WHERE a.survey_id = ? AND a.question_id = ?{where} "
               "GROUP BY a.value ORDER BY a.value")
    rows = _cached_rows(db, "values", metric, flt, sql, [metric.survey_id, metric.question_id, *args])
    return [r[0] for r in rows], [int(r[1]) for r in rows]


def _score(db: Database, metric: Metric, flt: ScoreFilter) -> Score:
    values, counts = _value_counts(db, metric, flt)
    try:
        return scoring.score(metric.type, values, metric.mapping, weights=counts)
    except scoring.MappingError:
        # A CSAT mapping with a counted choice lacking a score: show "No score" until the mapping is fixed.
        return scoring.score(metric.type, [], metric.mapping, weights=[])


def _on_target(metric: Metric, s: Score) -> bool | None:
    if metric.target is None or s.value is None:
        return None
    return s.value >= metric.target if metric.direction == "higher" else s.value <= metric.target


def _sync_status(settings: Settings, db: Database, metric: Metric,
                 cache: dict[str, tuple[Any, SyncRun | None, bool]]) -> tuple[str, str | None, str | None]:
    if metric.survey_id not in cache:
        cache[metric.survey_id] = (read_survey_state(db, metric.survey_id), latest_run(settings, metric.survey_id),
                                   is_held(settings, metric.survey_id))
    state, run, locked = cache[metric.survey_id]
    synced = metric.question_id in state.synced_questions
    if locked and run is not None and run.status == "running":
        status = "Syncing"
    elif run is not None and run.status == "failed":
        status = "Sync failed"
    elif synced:
        status = "Synced"
    else:
        status = "Not synced yet"
    return status, state.last_sync if synced else None, run.error if run is not None else None


def _card(settings: Settings, db: Database, metric: Metric, flt: ScoreFilter,
          cache: dict[str, Any]) -> MetricCard:
    s = _score(db, metric, flt)
    status, last_sync, error = _sync_status(settings, db, metric, cache)
    return MetricCard(
        metric_id=metric.id, title=metric.title, type=str(metric.type), type_name=metric.type_name,
        survey_id=metric.survey_id, question_id=metric.question_id, score=s, display=scoring.format_score(s),
        n=s.respondents, n_display=scoring.format_n(s.respondents), interval_low=s.interval_low,
        interval_high=s.interval_high, interval_display=scoring.format_interval(s),
        low_confidence=s.low_confidence, target=metric.target, direction=metric.direction,
        on_target=_on_target(metric, s), last_sync=last_sync, sync_status=status,
        sync_error=error if status == "Sync failed" else None)


def metric_score(settings: Settings, metric_id: int, flt: ScoreFilter = NO_FILTER) -> Score:
    """The metric's :class:`scoring.Score` over its stored answers (filtered)."""
    with connect(settings.store) as db:
        return _score(db, _get_metric(db, metric_id), flt)


def metric_card(settings: Settings, metric_id: int, flt: ScoreFilter = NO_FILTER) -> MetricCard:
    """One metric card."""
    with connect(settings.store) as db:
        return _card(settings, db, _get_metric(db, metric_id), flt, {})


def metric_cards(settings: Settings, metric_ids: Sequence[int] | None = None,
                 flt: ScoreFilter = NO_FILTER) -> list[MetricCard]:
    """Cards for the given metrics (all metrics, oldest first, when None)."""
    with connect(settings.store) as db:
        if metric_ids is None:
            metrics = [_row_to_metric(r) for r in db.query("SELECT * FROM metrics ORDER BY id")]
        else:
            metrics = [_get_metric(db, i) for i in metric_ids]
        cache: dict[str, Any] = {}
        return [_card(settings, db, m, flt, cache) for m in metrics]


def journey_lane(settings: Settings, journey_id: int, flt: ScoreFilter = NO_FILTER) -> dict[int, list[MetricCard]]:
    """Step id → cards of the metrics placed on that step (the metrics lane under a journey's steps)."""
    journey = journeys_module.get_journey(settings, journey_id)
    with connect(settings.store) as db:
        cache: dict[str, Any] = {}
        scored: dict[int, MetricCard] = {}
        lane: dict[int, list[MetricCard]] = {}
        for step in journey.steps:
            cards = []
            for metric_id in step.metric_ids:
                if metric_id not in scored:
                    scored[metric_id] = _card(settings, db, _get_metric(db, metric_id), flt, cache)
                cards.append(scored[metric_id])
            lane[step.id] = cards
    return lane


JOURNEY_SCORE_COLUMNS = ["stage_id", "stage", "stage_position", "step_id", "step", "step_position", "metric_id",
                         "title", "type", "value", "display", "respondents", "n_display", "interval_low",
                         "interval_high", "low_confidence", "target", "on_target"]


def journey_scores(settings: Settings, journey_id: int, flt: ScoreFilter = NO_FILTER) -> pd.DataFrame:
    """One row per (step, placed metric), steps left to right: the data behind step-comparison plots."""
    journey = journeys_module.get_journey(settings, journey_id)
    lane = journey_lane(settings, journey_id, flt)
    records = []
    for stage in journey.stages:
        for step in stage.steps:
            for card in lane.get(step.id, []):
                records.append({
                    "stage_id": stage.id, "stage": stage.name, "stage_position": stage.position,
                    "step_id": step.id, "step": step.name, "step_position": step.position,
                    "metric_id": card.metric_id, "title": card.title, "type": card.type,
                    "value": card.score.value, "display": card.display, "respondents": card.n,
                    "n_display": card.n_display, "interval_low": card.interval_low,
                    "interval_high": card.interval_high, "low_confidence": card.low_confidence,
                    "target": card.target, "on_target": card.on_target})
    return pd.DataFrame.from_records(records, columns=JOURNEY_SCORE_COLUMNS)


def trend(settings: Settings, metric_id: int, period: str = "week", flt: ScoreFilter = NO_FILTER,
          timezone: str = "UTC") -> pd.DataFrame:
    """Score per day/week/month with interval and change vs the previous period (scoring.trends columns:
    period, value, low, high, respondents, …, display, change, p_value, significant)."""
    with connect(settings.store) as db:
        metric = _get_metric(db, metric_id)
        # The frame depends on the answers and on the metric's definition: both versions key it.
        version = versions.read(db, [versions.survey(metric.survey_id), versions.WORKSPACE])
        key = ("trend", db.location.key, metric_id, period, timezone, flt.key)
        frame = _counts.get_or_compute(key, version, lambda: _trend(db, metric, period, flt, timezone))
    return frame.copy()


def _trend(db: Database, metric: Metric, period: str, flt: ScoreFilter, timezone: str) -> pd.DataFrame:
    if timezone == "UTC" and flt.by_day:
        where, args = flt.day_sql()
        sql = (f"SELECT day, value, sum(n) FROM answer_days WHERE survey_id = ? AND question_id = ? "
               f"AND day <> ''{where} GROUP BY day, value ORDER BY day, value")
    else:
        where, args = flt.sql()
        # Hours matter only across time zones; group by hour so a non-UTC bucket stays exact.
        hour = "substr(a.recorded_date, 1, 13)" if timezone != "UTC" else "substr(a.recorded_date, 1, 10)"
        sql = (f"SELECT {hour} AS bucket, a.value, count(*) FROM answers a WHERE a.survey_id = ? AND "
               f"a.question_id = ? AND a.recorded_date IS NOT NULL{where} GROUP BY {hour}, a.value "
               "ORDER BY bucket, a.value")
    rows = db.execute(sql, [metric.survey_id, metric.question_id, *args]).fetchall()
    dates = [r[0] + (":00:00Z" if timezone != "UTC" else "") for r in rows]
    return scores_by_period(metric.type, dates, [r[1] for r in rows], metric.mapping,
                            weights=[int(r[2]) for r in rows], period=period, timezone=timezone)  # type: ignore[arg-type]


DISTRIBUTION_COLUMNS = ["value", "label", "sentiment", "count", "share"]


def distribution(settings: Settings, metric_id: int, flt: ScoreFilter = NO_FILTER) -> pd.DataFrame:
    """Answers per choice in mapping order (value, label, sentiment, count, share of answered), plus a
    row per stored value the mapping does not know (sentiment "Unmapped")."""
    with connect(settings.store) as db:
        metric = _get_metric(db, metric_id)
        values, counts = _value_counts(db, metric, flt)
    per_row = metric.mapping.count(values, counts)
    records = [{"value": r.value, "label": r.label, "sentiment": str(r.sentiment), "count": int(c)}
               for r, c in zip(metric.mapping.rows, per_row.per_row)]
    rows = metric.mapping.row_indices(values)
    for value, count, row in zip(values, counts, rows):
        if row < 0:
            records.append({"value": value, "label": value, "sentiment": "Unmapped", "count": int(count)})
    frame = pd.DataFrame.from_records(records, columns=DISTRIBUTION_COLUMNS[:-1])
    total = frame["count"].sum()
    frame["share"] = frame["count"] / total if total else 0.0
    return frame


SENTIMENTS = ["Positive", "Neutral", "Negative", "Excluded", "Unmapped"]


def sentiment_distribution(settings: Settings, metric_id: int, flt: ScoreFilter = NO_FILTER) -> pd.DataFrame:
    """Answers per sentiment (Positive, Neutral, Negative, Excluded, Unmapped) with their share."""
    frame = distribution(settings, metric_id, flt)
    totals = frame.groupby("sentiment")["count"].sum().reindex(SENTIMENTS, fill_value=0)
    out = pd.DataFrame({"sentiment": SENTIMENTS, "count": totals.to_numpy(dtype=int)})
    total = out["count"].sum()
    out["share"] = out["count"] / total if total else 0.0
    return out


RESPONSE_COLUMNS = ["response_id", "recorded_date", "value", "label", "sentiment", "counted", "finished"]


def responses(settings: Settings, metric_id: int, flt: ScoreFilter = NO_FILTER, limit: int | None = 1000,
              offset: int = 0, with_segments: bool = True) -> pd.DataFrame:
    """The answers behind a score, newest first: each answer's value, label, sentiment and whether it
    counts as a respondent (audit view); one extra column per chosen segment field."""
    with connect(settings.store) as db:
        metric = _get_metric(db, metric_id)
        where, args = flt.sql()
        page = " LIMIT ? OFFSET ?" if limit is not None else ""
        page_args = [limit, offset] if limit is not None else []
        frame = db.frame(
            f"SELECT a.response, r.response_id, a.recorded_date, a.value, a.label, a.finished FROM answers a "
            f"JOIN responses r ON r.id = a.response WHERE a.survey_id = ? AND a.question_id = ?{where} "
            f"ORDER BY a.recorded_date DESC NULLS LAST, r.response_id{page}",
            [metric.survey_id, metric.question_id, *args, *page_args])
        segments = pd.DataFrame()
        if with_segments and not frame.empty:
            numbers = frame["response"].tolist()
            marks = ", ".join("?" for _ in numbers)
            segments = db.frame(
                f"SELECT response, field, value FROM response_segments WHERE survey_id = ? AND "
                f"response IN ({marks})", [metric.survey_id, *numbers])
    sentiments = metric.mapping.sentiments(frame["value"])
    frame["sentiment"] = [str(s) if s is not None else "Unmapped" for s in sentiments]
    frame["counted"] = frame["sentiment"].isin(["Positive", "Neutral", "Negative"])
    frame["finished"] = frame["finished"].astype("boolean")
    if not segments.empty:
        wide = segments.pivot(index="response", columns="field", values="value")
        return frame[["response", *RESPONSE_COLUMNS]].join(wide, on="response").drop(columns="response")
    return frame[RESPONSE_COLUMNS]


@dataclass(frozen=True)
class MetricDetail:
    """The metric page: definition, card, question, where it sits, distribution and sync history."""

    metric: Metric
    card: MetricCard
    survey_name: str | None
    question_text: str | None
    placements: list[journeys_module.Placement]
    distribution: pd.DataFrame
    sentiments: pd.DataFrame
    last_run: SyncRun | None
    segment_options: dict[str, list[str]]


def metric_detail(settings: Settings, metric_id: int, flt: ScoreFilter = NO_FILTER) -> MetricDetail:
    """Everything the metric page shows, in one call."""
    from workspace.answers import segment_values
    from workspace.catalog import cached_questions, survey_name

    card = metric_card(settings, metric_id, flt)
    with connect(settings.store) as db:
        metric = _get_metric(db, metric_id)
    question = next((q for q in cached_questions(settings, metric.survey_id) if q.id == metric.question_id), None)
    return MetricDetail(
        metric=metric, card=card, survey_name=survey_name(settings, metric.survey_id),
        question_text=question.text if question else None,
        placements=journeys_module.placements_of_metric(settings, metric_id),
        distribution=distribution(settings, metric_id, flt),
        sentiments=sentiment_distribution(settings, metric_id, flt),
        last_run=latest_run(settings, metric.survey_id),
        segment_options=segment_values(settings, metric.survey_id))

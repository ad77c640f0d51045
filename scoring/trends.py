"""Scores per day, week or month, and whether a change between periods is more than noise.

The app says "up 6.2, not significant" rather than letting a wall screen celebrate a
difference that two more answers would undo; each metric gets the test that fits its
statistic (Welch t for a mean, two-proportion z for CES, trinomial z for NPS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from statistics import NormalDist

from scoring.display import format_value
from scoring.formulas import Score, score_counts
from scoring.intervals import nps_variance
from scoring.mapping import UNANSWERED, UNMAPPED, AnswerMapping, RowCounts, answer_weights
from scoring.sentiment import MetricType

Period = Literal["day", "week", "month"]
_PANDAS_PERIOD = {"day": "D", "week": "W-SUN", "month": "M"}  # W-SUN: weeks run Monday–Sunday (ISO)
ALPHA = 0.05

TREND_COLUMNS = (
    "period", "value", "low", "high", "respondents", "positive", "neutral", "negative",
    "excluded", "unmapped", "low_confidence", "display", "change", "p_value", "significant",
)


@dataclass(frozen=True)
class Change:
    """The change of a score from one period to the next, with its significance test."""

    metric_type: MetricType
    before: float | None
    after: float | None
    delta: float | None
    p_value: float | None
    significant: bool
    test: str
    untested_reason: str | None = None  # why p_value is None when both periods have a score

    def describe(self) -> str:
        """One sentence for the UI, e.g. "up 6.2, not significant (p = 0.31, two-proportion z-test)"."""
        if self.delta is None:
            return "No comparison: one of the periods has no score."
        size = format_value(self.metric_type, abs(self.delta)).rstrip("%")
        if float(size) == 0:
            direction = "no change"
        else:
            direction = f"{'up' if self.delta > 0 else 'down'} {size}"
        if self.p_value is None:
            return f"{direction}, significance cannot be tested ({self.untested_reason})"
        verdict = "significant" if self.significant else "not significant"
        p_text = "p < 0.001" if self.p_value < 0.001 else f"p = {self.p_value:.3f}".rstrip("0").rstrip(".")
        return f"{direction}, {verdict} ({p_text}, {self.test})"


def compare_periods(before: Score, after: Score, alpha: float = ALPHA) -> Change:
    """Test whether `after` differs from `before` (two independent samples, two-sided)."""
    metric = after.metric_type
    if before.metric_type != metric:
        raise ValueError("Cannot compare scores of different metric types.")
    test = {MetricType.CSAT: "Welch t-test", MetricType.CES: "two-proportion z-test",
            MetricType.NPS: "z-test on NPS"}[metric]
    if before.value is None or after.value is None:
        return Change(metric, before.value, after.value, None, None, False, test)
    delta = after.value - before.value
    if min(before.respondents, after.respondents) < 2:
        return Change(metric, before.value, after.value, delta, None, False, test, "a period has one respondent")
    if metric == MetricType.CSAT:
        p_value = _welch_p(before, after, delta)
    elif metric == MetricType.CES:
        p_value = _two_proportion_p(before, after)
    else:
        p_value = _nps_p(before, after, delta)
    significant = p_value is not None and p_value < alpha
    reason = None if p_value is not None else "no spread in the answers"
    return Change(metric, before.value, after.value, delta, p_value, significant, test, reason)


def scores_by_period(
    metric_type: MetricType | str,
    dates: Any,
    values: Any,
    mapping: AnswerMapping,
    weights: Any = None,
    period: Period = "week",
    timezone: str = "UTC",
    fill_gaps: bool = True,
) -> pd.DataFrame:
    """A tidy frame, one row per period, of each period's score and its change from the last.

    `dates` are recordedDate values (ISO-8601 strings or datetimes; naive ones are taken as
    UTC) and are bucketed in `timezone`. `period` is the first day of the period. With
    `fill_gaps`, periods without answers appear as "No score" rows so a chart shows the gap.
    `change`/`p_value`/`significant` compare with the closest earlier period that has a score.
    """
    metric = MetricType(metric_type)
    if period not in _PANDAS_PERIOD:
        raise ValueError(f"Period must be day, week or month, not {period!r}.")
    rows = mapping.row_indices(values)
    w = answer_weights(weights, len(rows))
    when = pd.to_datetime(pd.Series(dates).reset_index(drop=True), utc=True, errors="coerce", format="ISO8601")
    if len(when) != len(rows):
        raise ValueError(f"Got {len(when)} dates for {len(rows)} answers; they must match one to one.")
    local = when.dt.tz_convert(timezone).dt.tz_localize(None)
    starts = local.dt.to_period(_PANDAS_PERIOD[period]).dt.start_time
    frame = pd.DataFrame({"period": starts, "row": rows, "w": w}).dropna(subset=["period"])
    if frame.empty:
        return pd.DataFrame({c: [] for c in TREND_COLUMNS})
    per_row = (
        frame[frame["row"] >= 0].groupby(["period", "row"])["w"].sum().unstack(fill_value=0.0)
        .reindex(columns=range(len(mapping.rows)), fill_value=0.0)
    )
    extra = frame[frame["row"] < 0].groupby(["period", "row"])["w"].sum().unstack(fill_value=0.0)
    periods = sorted(frame["period"].unique())
    if fill_gaps:
        periods = list(pd.period_range(periods[0], periods[-1], freq=_PANDAS_PERIOD[period]).start_time)
    records = []
    previous: Score | None = None
    for start in periods:
        counts = RowCounts(
            per_row=per_row.loc[start].to_numpy(dtype=np.float64) if start in per_row.index
            else np.zeros(len(mapping.rows)),
            unanswered=float(extra.at[start, UNANSWERED]) if UNANSWERED in extra and start in extra.index else 0.0,
            unmapped=float(extra.at[start, UNMAPPED]) if UNMAPPED in extra and start in extra.index else 0.0,
            unmapped_values=(),
        )
        current = score_counts(metric, mapping, counts)
        change = compare_periods(previous, current) if previous is not None else None
        records.append(_record(start, current, change))
        if current.value is not None:
            previous = current
    return pd.DataFrame.from_records(records, columns=list(TREND_COLUMNS))


def _record(start: pd.Timestamp, s: Score, change: Change | None) -> dict[str, Any]:
    nan = float("nan")
    return {
        "period": start,
        "value": nan if s.value is None else s.value,
        "low": nan if s.interval_low is None else s.interval_low,
        "high": nan if s.interval_high is None else s.interval_high,
        "respondents": s.respondents,
        "positive": s.positive,
        "neutral": s.neutral,
        "negative": s.negative,
        "excluded": s.excluded,
        "unmapped": s.unmapped,
        "low_confidence": s.low_confidence,
        "display": format_value(s.metric_type, s.value),
        "change": nan if change is None or change.delta is None else change.delta,
        "p_value": nan if change is None or change.p_value is None else change.p_value,
        "significant": bool(change is not None and change.significant),
    }


def _welch_p(before: Score, after: Score, delta: float) -> float | None:
    n1, n2 = float(before.respondents), float(after.respondents)
    if before.std is None or after.std is None:
        return None
    v1, v2 = before.std**2 / n1, after.std**2 / n2
    if v1 + v2 == 0:
        return 1.0 if delta == 0 else None
    t = delta / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    # Imported here: scipy costs ~100 MB, and only Welch's test needs it; Student's t itself, which
    # scipy.stats.t.sf calls, without the second scipy.stats takes to import.
    from scipy.special import stdtr

    return float(2 * stdtr(df, -abs(t)))


def _two_proportion_p(before: Score, after: Score) -> float | None:
    n1, n2 = float(before.respondents), float(after.respondents)
    x1, x2 = float(before.positive), float(after.positive)
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0  # both periods all positive or all not: the proportions are equal
    z = (x2 / n2 - x1 / n1) / se
    return float(2 * NormalDist().cdf(-abs(z)))


def _nps_p(before: Score, after: Score, delta: float) -> float | None:
    var = nps_variance(before.positive, before.negative, before.respondents) + nps_variance(
        after.positive, after.negative, after.respondents
    )
    if var == 0:
        return 1.0 if delta == 0 else None
    z = (delta / 100.0) / math.sqrt(var)
    return float(2 * NormalDist().cdf(-abs(z)))

"""The CSAT, CES and NPS formulas of design.md §2 over arrays of answers.

`score` tallies answers per mapping row once (vectorised) and derives everything — counts,
value, interval — from those few per-row totals, so a million answers cost one factorise and
one bincount.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported where answers are scored: the scoring package itself needs none
    import numpy as np

from scoring.intervals import nps_interval, t_interval, wilson_interval
from scoring.mapping import AnswerMapping, MappingError, RowCounts
from scoring.sentiment import SENTIMENT_CODE, MetricType, Sentiment

LOW_CONFIDENCE_BELOW = 30


@dataclass(frozen=True)
class Score:
    """One metric's score with everything the UI needs to show it honestly.

    `value` is None when there are no respondents ("No score", never 0). Counts are ints
    when the weights are whole numbers. `satisfied_pct` (CSAT only) is Positive ÷
    respondents × 100, shown apart from the mean. `std` is the sample standard deviation of
    the respondents' CSAT scores (None otherwise), kept for significance tests on trends.
    """

    metric_type: MetricType
    value: float | None
    respondents: int | float
    positive: int | float
    neutral: int | float
    negative: int | float
    excluded: int | float
    unmapped: int | float
    interval_low: float | None
    interval_high: float | None
    low_confidence: bool
    satisfied_pct: float | None = None
    unanswered: int | float = 0
    unmapped_values: tuple[str, ...] = ()
    std: float | None = None

    @property
    def has_score(self) -> bool:
        return self.value is not None


def score(
    metric_type: MetricType | str,
    values: Any,
    mapping: AnswerMapping,
    weights: Any = None,
) -> Score:
    """Score answers (`values` as exported) under `mapping`; `weights` are per-value counts."""
    return score_counts(metric_type, mapping, mapping.count(values, weights))


def score_counts(metric_type: MetricType | str, mapping: AnswerMapping, counts: RowCounts) -> Score:
    """Score from per-row totals (what `AnswerMapping.count` returns)."""
    import numpy as np

    metric = MetricType(metric_type)
    per_row = np.asarray(counts.per_row, dtype=np.float64)
    by_sentiment = np.bincount(mapping.sentiment_codes(), weights=per_row, minlength=4)
    # Plain Python floats from here on: Score must serialise to JSON and compare cleanly.
    positive = float(by_sentiment[SENTIMENT_CODE[Sentiment.POSITIVE]])
    neutral = float(by_sentiment[SENTIMENT_CODE[Sentiment.NEUTRAL]])
    negative = float(by_sentiment[SENTIMENT_CODE[Sentiment.NEGATIVE]])
    excluded = float(by_sentiment[SENTIMENT_CODE[Sentiment.EXCLUDED]])
    n = positive + neutral + negative

    value: float | None = None
    low: float | None = None
    high: float | None = None
    satisfied: float | None = None
    std: float | None = None
    if n > 0:
        if metric == MetricType.CSAT:
            value, low, high, std = _csat(mapping, per_row, n)
            satisfied = positive / n * 100.0
        elif metric == MetricType.CES:
            value = positive / n * 100.0
            w_low, w_high = wilson_interval(positive, n)
            low, high = w_low * 100.0, w_high * 100.0
        else:
            value = (positive - negative) / n * 100.0
            low, high = nps_interval(positive, negative, n)
        # Guard the contract "intervals contain the score" against last-bit rounding.
        low, high = min(low, value), max(high, value)

    return Score(
        metric_type=metric,
        value=value,
        respondents=_count(n),
        positive=_count(positive),
        neutral=_count(neutral),
        negative=_count(negative),
        excluded=_count(excluded),
        unmapped=_count(counts.unmapped),
        interval_low=low,
        interval_high=high,
        low_confidence=bool(n < LOW_CONFIDENCE_BELOW),
        satisfied_pct=satisfied,
        unanswered=_count(counts.unanswered),
        unmapped_values=counts.unmapped_values,
        std=std,
    )


def _csat(mapping: AnswerMapping, per_row: np.ndarray, n: float) -> tuple[float, float, float, float | None]:
    import numpy as np

    scores = mapping.scores()
    counted = np.array([r.sentiment != Sentiment.EXCLUDED for r in mapping.rows], dtype=bool)
    used = counted & (per_row > 0)
    if np.isnan(scores[used]).any():
        names = ", ".join(repr(r.label) for r, u in zip(mapping.rows, used) if u and r.score is None)
        raise MappingError(f"CSAT needs a score for every counted answer choice; missing for {names}.")
    w = per_row[used]
    x = scores[used]
    mean = float(np.dot(w, x) / n)
    bounds = mapping.score_range() or (mean, mean)
    if n < 2:
        # One answer says nothing about spread: the honest interval is the whole scale.
        return mean, bounds[0], bounds[1], None
    std = math.sqrt(max(0.0, float(np.dot(w, (x - mean) ** 2)) / (n - 1)))
    low, high = t_interval(mean, std, n)
    # A mean of scores can never leave the scale, so neither should its interval.
    return mean, max(low, bounds[0]), min(high, bounds[1]), std


def _count(x: float) -> int | float:
    return int(round(x)) if float(x).is_integer() else float(x)

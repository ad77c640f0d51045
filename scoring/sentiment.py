"""The vocabulary every score is built from: what kind of metric, and how an answer counts.

StrEnums so that values round-trip through SQLite, JSON and the UI as plain strings.
"""

from __future__ import annotations

from enum import StrEnum


class Sentiment(StrEnum):
    """How one answer choice counts towards a score (design.md §2).

    For NPS, Positive = promoter, Neutral = passive, Negative = detractor. Excluded answers
    (N/A, Don't know…) are not respondents.
    """

    POSITIVE = "Positive"
    NEUTRAL = "Neutral"
    NEGATIVE = "Negative"
    EXCLUDED = "Excluded"


class MetricType(StrEnum):
    """The three metric kinds; the value is what users type on the command line (`--type nps`)."""

    NPS = "nps"
    CSAT = "csat"
    CES = "ces"


# Fixed integer codes so vectorised code can count sentiments with np.bincount.
SENTIMENT_ORDER: tuple[Sentiment, ...] = (
    Sentiment.POSITIVE,
    Sentiment.NEUTRAL,
    Sentiment.NEGATIVE,
    Sentiment.EXCLUDED,
)
SENTIMENT_CODE: dict[Sentiment, int] = {s: i for i, s in enumerate(SENTIMENT_ORDER)}

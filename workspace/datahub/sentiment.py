"""How a customer comment reads: a score from -1 (very negative) to 1 (very positive) and its polarity.

Scoring is linear in the text's length: the text is read sentence by sentence (long runs without
punctuation in pieces of :data:`PIECE_CHARS`), because vaderSentiment 3.3.2 is quadratic in the length
of what it is given (100,000 characters in one call take 12 s).
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
PIECE_CHARS = 300
MAX_SCORED_CHARS = 10_000

# Valences on VADER's -4..4 scale for words whose meaning in customer feedback differs from social media.
CUSTOMER_FEEDBACK_LEXICON: dict[str, float] = {
    # topic nouns: the feeling comes from what is said about them
    "support": 0.0, "problem": 0.0, "problems": 0.0, "issue": 0.0, "issues": 0.0, "need": 0.0,
    # outcomes of a service contact
    "fix": 1.2, "fixed": 1.5, "solved": 1.5, "resolved": 1.5, "helped": 1.5, "worked": 1.0,
    "quick": 1.5, "quickly": 1.5, "fast": 1.5, "painless": 1.8, "seamless": 2.0, "intuitive": 1.8,
    # effort, waiting and friction
    "slow": -1.5, "slowly": -1.5, "sluggish": -1.5, "laggy": -1.5, "waited": -1.2, "waiting": -1.0,
    "queue": -0.5, "delay": -1.3, "delayed": -1.3, "ages": -1.0, "forever": -1.2, "transferred": -1.0,
    "nobody": -1.2, "repeat": -1.0, "twice": -0.8, "overwhelming": -1.5, "cluttered": -1.5,
    "overcharged": -2.0, "crash": -2.0, "crashes": -2.0, "crashed": -2.0, "buggy": -2.0,
}

_SENTENCE_END = re.compile(r"(?<=[.!?;\n])\s+")


class Polarity(StrEnum):
    """How a comment reads. TheyDo calls positive insights Gains and negative ones Pains."""

    POSITIVE = "Positive"
    NEUTRAL = "Neutral"
    NEGATIVE = "Negative"


@lru_cache(maxsize=1)
def vader() -> SentimentIntensityAnalyzer:
    """VADER with the customer-feedback lexicon (reads its bundled lexicon file once, ~50 ms)."""
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(CUSTOMER_FEEDBACK_LEXICON)
    return analyzer


def pieces(text: str) -> list[str]:
    """The first MAX_SCORED_CHARS of ``text`` as sentences of at most PIECE_CHARS characters."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text[:MAX_SCORED_CHARS]):
        sentence = sentence.strip()
        while len(sentence) > PIECE_CHARS:
            cut = sentence.rfind(" ", 0, PIECE_CHARS)
            cut = cut if cut > PIECE_CHARS // 2 else PIECE_CHARS
            out.append(sentence[:cut])
            sentence = sentence[cut:].strip()
        if sentence:
            out.append(sentence)
    return out


def score(text: str) -> float:
    """-1 … 1: the mean of the text's sentences' scores (0 for no words)."""
    parts = pieces(text or "")
    if not parts:
        return 0.0
    return sum(float(vader().polarity_scores(p)["compound"]) for p in parts) / len(parts)


def polarity(value: float) -> Polarity:
    if value >= POSITIVE_THRESHOLD:
        return Polarity.POSITIVE
    if value <= NEGATIVE_THRESHOLD:
        return Polarity.NEGATIVE
    return Polarity.NEUTRAL

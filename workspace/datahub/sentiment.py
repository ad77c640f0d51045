"""How a customer comment reads: a score from -1 (very negative) to 1 (very positive) and its polarity.

VADER alone reads plain customer feedback poorly: it was built for social media, where feeling sits in
words like "love" or "awful", while survey comments say it with outcomes ("The self-service guide covered
exactly my case": 0 for VADER, neutral), effort ("took ages", "had to call twice") and negation ("did not
fix my problem"). So the score is a small multinomial logistic regression over two kinds of features:

* VADER's own scores (negative, neutral, positive, compound; with a customer-feedback lexicon), which
  bring a general lexicon of 7,500 words the training sentences could never cover;
* TF-IDF of word stems and stem pairs, where a word after "not", "no", "never", "n't"… up to the next
  punctuation is marked as negated ("not_fix"), so "did not fix" and "fixed" weigh differently.

It is trained when first needed (~0.1 s) on ``sentiment_training.csv`` (customer-feedback sentences
labelled positive/neutral/negative, shipped with the package). The score is P(positive) − P(negative);
a comment is neutral when that is within :data:`NEUTRAL_BAND` of 0 (chosen by cross-validation on the
training sentences, see bench/bench_sentiment.py, which also measures the model on a held-out set).

Scoring is linear in the text's length: the text is read sentence by sentence (long runs without
punctuation in pieces of :data:`PIECE_CHARS`), because vaderSentiment 3.3.2 is quadratic in the length
of what it is given (100,000 characters in one call take 12 s).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from workspace.datahub.words import stem, tokens

NEUTRAL_BAND = 0.2  # |P(positive) − P(negative)| below this reads as neutral
POSITIVE_THRESHOLD = NEUTRAL_BAND
NEGATIVE_THRESHOLD = -NEUTRAL_BAND
TRAINING = Path(__file__).with_name("sentiment_training.csv")
LABELS = ("negative", "neutral", "positive")
VADER_WEIGHT = 2.0  # VADER's four scores against hundreds of TF-IDF columns of norm 1
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


_NEGATORS = frozenset("not no never nothing nobody none nor cannot without hardly".split())
_BREAK = re.compile(r"[.,;:!?]")


def negation_marked(text: str) -> list[str]:
    """Stems of ``text`` with those after a negator, up to the next punctuation, marked ``not_``, plus pairs."""
    out: list[str] = []
    negated = False
    last_end, previous_piece = 0, 0
    for token in tokens(text):
        if token.piece != previous_piece or _BREAK.search(text[last_end:token.start]):
            negated = False
        previous_piece, last_end = token.piece, token.end
        word = token.lower
        if word in _NEGATORS or word.endswith("n't"):
            negated = True
            out.append("NEG")
            continue
        out.append(("not_" if negated else "") + stem(word))
    return out + [f"{a} {b}" for a, b in zip(out, out[1:])]


def _vader_features(texts: Sequence[str]) -> csr_matrix:
    rows = [vader().polarity_scores(t) for t in texts]
    return csr_matrix(np.array([[r["neg"], r["neu"], r["pos"], r["compound"]] for r in rows]) * VADER_WEIGHT)


class FeedbackModel:
    """The trained model: ``valence(texts)`` is P(positive) − P(negative) per text."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str], c: float = 4.0) -> None:
        self.words = TfidfVectorizer(analyzer=negation_marked, sublinear_tf=True, min_df=1)
        features = hstack([self.words.fit_transform(texts), _vader_features(texts)]).tocsr()
        self.classifier = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        self.classifier.fit(features, list(labels))
        order = list(self.classifier.classes_)
        self._positive, self._negative = order.index("positive"), order.index("negative")

    def valence(self, texts: Sequence[str]) -> np.ndarray:
        features = hstack([self.words.transform(texts), _vader_features(texts)]).tocsr()
        probabilities = self.classifier.predict_proba(features)
        return probabilities[:, self._positive] - probabilities[:, self._negative]


def training_sentences(path: Path = TRAINING) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["label"] for r in rows]


@lru_cache(maxsize=1)
def model() -> FeedbackModel:
    return FeedbackModel(*training_sentences())


def score(text: str) -> float:
    """-1 … 1: the mean of the text's sentences' valences (0 for no words)."""
    return scores([text])[0]


def scores(texts: Sequence[str]) -> list[float]:
    """:func:`score` of each text, with one model call for all their sentences (much faster in bulk)."""
    split = [[p for p in pieces(t or "") if tokens(p)] for t in texts]
    flat = [p for parts in split for p in parts]
    valences = model().valence(flat) if flat else np.zeros(0)
    out, at = [], 0
    for parts in split:
        out.append(float(np.mean(valences[at:at + len(parts)])) if parts else 0.0)
        at += len(parts)
    return out


def label(value: float) -> str:
    """The training set's label for a score: "positive", "neutral" or "negative"."""
    return polarity(value).value.lower()


def polarity(value: float) -> Polarity:
    if value >= POSITIVE_THRESHOLD:
        return Polarity.POSITIVE
    if value <= NEGATIVE_THRESHOLD:
        return Polarity.NEGATIVE
    return Polarity.NEUTRAL

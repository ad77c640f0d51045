"""Mining open-text answers: sentiment of each comment and the recurring themes of a set of comments.

Pure functions over lists of strings (no database, no Streamlit), so the Data Hub, a CLI or a notebook
can use them alike and tests can feed them any comments.

Sentiment is VADER (vaderSentiment 3.3.2: a lexicon and rules, no model download, ~0.1 ms a comment),
plus a small customer-feedback lexicon. VADER was built for social media, where "support" and
"problem" carry feeling; in survey comments they name the topic ("Support took days to reply",
"problem fixed in one call"), and the feeling sits in words VADER lacks ("slow", "waited", "took
ages"). Without these entries a third of the demo comments read the wrong way round.

Themes are TF-IDF (English stop words dropped, words and word pairs) factorised with NMF: each comment
goes to its strongest component, and a theme is labelled by the terms its comments use far more often
than the other comments. NMF was chosen over KMeans (same groups on the demo comments, but no
random restarts needed: NNDSVD initialisation is deterministic) and over keyphrase extraction, which
labels single comments but does not group them.
Everything is deterministic (NNDSVD initialisation, fixed random_state): the same comments always give
the same themes in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# VADER's own convention: compound ≥ 0.05 positive, ≤ -0.05 negative, neutral between.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
MAX_THEMES = 8
MAX_EXAMPLES = 3

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


class Polarity(StrEnum):
    """How a comment reads. TheyDo calls positive insights Gains and negative ones Pains."""

    POSITIVE = "Positive"
    NEUTRAL = "Neutral"
    NEGATIVE = "Negative"


class InsightKind(StrEnum):
    """What a theme is for the journey: mostly praise, mostly complaint, or neither."""

    GAIN = "Gain"
    PAIN = "Pain"
    OBSERVATION = "Observation"


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()  # reads its bundled lexicon file once (~50 ms)
    analyzer.lexicon.update(CUSTOMER_FEEDBACK_LEXICON)
    return analyzer


def sentiment(text: str) -> float:
    """VADER compound score of one comment, -1 (very negative) … 1 (very positive)."""
    return float(_analyzer().polarity_scores(text or "")["compound"])


def polarity(compound: float) -> Polarity:
    if compound >= POSITIVE_THRESHOLD:
        return Polarity.POSITIVE
    if compound <= NEGATIVE_THRESHOLD:
        return Polarity.NEGATIVE
    return Polarity.NEUTRAL


class SentimentShares:
    """Shares of positive and negative comments for records with ``count``, ``positive``, ``negative``."""

    count: int
    positive: int
    negative: int

    @property
    def positive_share(self) -> float:
        return self.positive / self.count if self.count else 0.0

    @property
    def negative_share(self) -> float:
        return self.negative / self.count if self.count else 0.0


@dataclass(frozen=True)
class Theme(SentimentShares):
    """A recurring subject among comments, with how people feel about it and a few of their words."""

    label: str                    # its top terms, "billing confusing · charged twice"
    terms: tuple[str, ...]
    count: int                    # comments in the theme
    positive: int
    neutral: int
    negative: int
    examples: tuple[str, ...]     # distinct comments that express it best: user input, show as text

    @property
    def kind(self) -> InsightKind:
        if self.positive > self.negative and self.positive >= self.neutral:
            return InsightKind.GAIN
        if self.negative > self.positive and self.negative >= self.neutral:
            return InsightKind.PAIN
        return InsightKind.OBSERVATION


def _theme_count(distinct: int, max_themes: int) -> int:
    """How many components to ask NMF for: ``max_themes``, fewer when there are fewer distinct comments.

    Components left without comments are dropped afterwards, so asking a little too many costs nothing;
    asking too few merges subjects ("billing is confusing" with "navigation is confusing"), which is worse.
    """
    return max(1, min(max_themes, distinct))


def _label(terms: Sequence[str]) -> tuple[str, ...]:
    """Up to three of ``terms`` (best first) that share no word: "billing confusing · charged twice · month"."""
    chosen: list[str] = []
    used: set[str] = set()
    for term in terms:
        words = set(term.split())
        if words & used:
            continue
        chosen.append(term)
        used |= words
        if len(chosen) == 3:
            break
    return tuple(chosen)


def _distinctive_terms(presence: Any, members: np.ndarray, vocabulary: np.ndarray, example: str) -> list[str]:
    """Terms by how much more often the theme's comments use them than the other comments do.

    Contrast, not NMF's weights: a word every comment of the theme uses ("billing") outranks one a few
    use, and a word other themes share ("confusing") drops. Ties go to reading order in the best example.
    """
    inside = np.asarray(presence[members].mean(axis=0)).ravel()
    others = np.setdiff1d(np.arange(presence.shape[0]), members)
    outside = np.asarray(presence[others].mean(axis=0)).ravel() if others.size else np.zeros_like(inside)
    contrast = inside - outside
    candidates = np.flatnonzero(contrast > 0)
    lowered = example.lower()

    def reading_order(term: str) -> int:
        at = lowered.find(term.split()[0])
        return at if at >= 0 else len(lowered)

    ranked = sorted(candidates, key=lambda t: (-round(float(contrast[t]), 6), reading_order(vocabulary[t]),
                                               -len(vocabulary[t].split())))
    return [str(vocabulary[t]) for t in ranked[:12]]


def find_themes(texts: Sequence[str], compounds: Sequence[float] | None = None, *,
                max_themes: int = MAX_THEMES, max_examples: int = MAX_EXAMPLES) -> list[Theme]:
    """The recurring themes of ``texts``, largest first.

    ``compounds`` are the texts' sentiment scores when already known (the Data Hub stores them on
    receipt); otherwise they are computed. Comments with no content words ("", "n/a", "it was") join no theme.
    """
    texts = [t.strip() for t in texts]
    scores = np.asarray(compounds if compounds is not None else [sentiment(t) for t in texts], dtype=float)
    if len(scores) != len(texts):
        raise ValueError("compounds must have one score per text")
    keep = [i for i, t in enumerate(texts) if t]
    if not keep:
        return []
    docs = [texts[i] for i in keep]
    vectorizer = TfidfVectorizer(stop_words="english", ngram_range=(1, 2), sublinear_tf=True,
                                 min_df=2 if len(docs) >= 50 else 1, max_df=0.95 if len(docs) >= 50 else 1.0,
                                 token_pattern=r"(?u)\b[^\W\d_][\w'-]+\b")
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # only stop words, or every term too rare/common
        return []
    rows_with_terms = np.flatnonzero(matrix.getnnz(axis=1))
    if rows_with_terms.size == 0:
        return []
    distinct = len({docs[i].lower() for i in rows_with_terms})
    k = _theme_count(distinct, max_themes)
    model = NMF(n_components=k, init="nndsvda", random_state=0, max_iter=400)
    with np.errstate(invalid="ignore"):  # sklearn's loss report takes sqrt of a rounding-error negative
        weights = model.fit_transform(matrix)
    assigned = weights.argmax(axis=1)
    strength = weights.max(axis=1)
    vocabulary = vectorizer.get_feature_names_out()
    presence = (matrix > 0).astype(np.float32).tocsr()
    themes = []
    for component in range(k):
        members = np.flatnonzero((assigned == component) & (strength > 0))
        if members.size == 0:
            continue
        member_scores = scores[[keep[i] for i in members]]
        examples: list[str] = []
        seen: set[tuple[int, ...]] = set()
        for i in members[np.argsort(-strength[members], kind="stable")]:
            # "Well, the app is slow" says nothing "The app is slow" did not: compare content words.
            said = tuple(sorted(matrix.indices[matrix.indptr[i]:matrix.indptr[i + 1]].tolist()))
            if said not in seen:
                seen.add(said)
                examples.append(docs[i])
            if len(examples) == max_examples:
                break
        terms = _label(_distinctive_terms(presence, members, vocabulary, examples[0]))
        themes.append(Theme(
            label=" · ".join(terms), terms=terms, count=int(members.size),
            positive=int((member_scores >= POSITIVE_THRESHOLD).sum()),
            negative=int((member_scores <= NEGATIVE_THRESHOLD).sum()),
            neutral=int(((member_scores > NEGATIVE_THRESHOLD) & (member_scores < POSITIVE_THRESHOLD)).sum()),
            examples=tuple(examples)))
    themes.sort(key=lambda t: (-t.count, t.label))
    return themes

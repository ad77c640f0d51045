"""Themes of a set of open-text answers, each named by the key phrases its comments use.

Pure functions over lists of strings (no database, no Streamlit), so the Data Hub, a CLI or a notebook
can use them alike and tests can feed them any comments. Sentiment is :mod:`.sentiment`'s.

Grouping is TF-IDF (words and word pairs) factorised with NMF: each comment goes to its strongest
component. NMF was chosen over KMeans (same groups on the demo comments, but no random restarts needed:
NNDSVD initialisation is deterministic). A theme is named by the phrases its comments share and the
other comments do not (:func:`key_phrases`): runs of up to four words as people wrote them, starting and
ending on a content word, never across punctuation or "and"/"but" ("Billing was confusing · charged
twice this month"), rather than by its top tokens, which read as soup ("billing confusing · charged
twice · month"). Everything is deterministic: the same comments always give the same themes in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from workspace.datahub.sentiment import NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD, scores
from workspace.datahub.words import CLAUSE_WORDS, STOP_WORDS, stem, tokens

MAX_THEMES = 8
MAX_EXAMPLES = 3
MAX_PHRASE_TOKENS = 6     # words in a key phrase, stop words included
MAX_PHRASE_CONTENT = 3    # content words in a key phrase
MAX_LABEL_PHRASES = 2


class InsightKind(StrEnum):
    """What a theme is for the journey: mostly praise, mostly complaint, or neither."""

    GAIN = "Gain"
    PAIN = "Pain"
    OBSERVATION = "Observation"


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

    label: str                    # its key phrases as written, "Billing was confusing · charged twice this month"
    terms: tuple[str, ...]        # those phrases
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


# ---------------------------------------------------------------- key phrases

Phrase = tuple[str, ...]  # the stems of a phrase's content words: "Billing was confusing" → ("bill", "confus")


def phrases(text: str) -> dict[Phrase, str]:
    """Candidate key phrases of one comment: content-word stems → the words as written (first occurrence)."""
    return {key: written for key, (written, _) in _phrases(text).items()}


def _phrases(text: str) -> dict[Phrase, tuple[str, bool]]:
    """Like :func:`phrases`, also telling whether the phrase ends where its clause does."""
    found: dict[Phrase, tuple[str, bool]] = {}
    words = tokens(text)
    for i, first in enumerate(words):
        if first.is_stop:
            continue
        content = 0
        for j in range(i, min(i + MAX_PHRASE_TOKENS, len(words))):
            last = words[j]
            if last.piece != first.piece or (j > i and last.lower in CLAUSE_WORDS):
                break
            if last.is_stop:
                continue
            content += 1
            if content > MAX_PHRASE_CONTENT:
                break
            key = tuple(stem(w.lower) for w in words[i:j + 1] if not w.is_stop)
            ends = j + 1 == len(words) or words[j + 1].piece != last.piece or words[j + 1].lower in CLAUSE_WORDS
            found.setdefault(key, (text[first.start:last.end], ends))
    return found


def _phrase_weight(key: Phrase) -> float:
    # A person names a subject in two or three words ("charged twice"); one word is vaguer.
    return {1: 1.0, 2: 1.5}.get(len(key), 1.7)


def key_phrases(members: Sequence[str], others: Sequence[str], limit: int = MAX_LABEL_PHRASES) -> list[str]:
    """Up to ``limit`` phrases that ``members`` share and ``others`` use less, as written, in reading order.

    A phrase's score is how much more often members use it than others do, times a preference for two
    or three words; a second phrase must share no word with the first and score at least half as much.
    """
    found = [_phrases(t) for t in members]
    inside = [{k: w for k, (w, _) in f.items()} for f in found]
    ends_clause = {k for f in found for k, (_, ends) in f.items() if ends}
    outside = Counter(k for t in others for k in phrases(t))
    share = Counter(k for f in inside for k in f)
    if not share:
        return []
    n_in, n_out = len(members), max(len(others), 1)
    # Ending where the clause ends breaks ties: "find basic settings," over "clicks to find basic".
    scored = [((share[k] / n_in - outside[k] / n_out) * _phrase_weight(k) * (1.1 if k in ends_clause else 1.0), k)
              for k in share]
    scored.sort(key=lambda item: (-round(item[0], 9), -len(item[1]), item[1]))
    chosen: list[Phrase] = []
    for value, key in scored:
        if value <= 0 or (chosen and value < scored[0][0] / 2):
            break
        if any(set(key) & set(c) for c in chosen) or (chosen and len(key) < 2):
            continue  # a second phrase adds a subject, not a stray word ("… · picked")
        chosen.append(key)
        if len(chosen) == limit:
            break
    # Words as written by the comment that holds the most chosen phrases, in its order.
    best = max(range(n_in), key=lambda i: (sum(k in inside[i] for k in chosen), -i))
    written = []
    for key in chosen:
        holder = inside[best] if key in inside[best] else next(f for f in inside if key in f)
        at = members[best].find(holder[key]) if key in inside[best] else len(members[best])
        written.append((at, holder[key]))
    written.sort()
    return [text for _, text in written]


def _sentence_case(label: str) -> str:
    return label[:1].upper() + label[1:]


# ---------------------------------------------------------------- themes

def _theme_count(distinct: int, max_themes: int) -> int:
    """How many components to ask NMF for: ``max_themes``, fewer when there are fewer distinct comments.

    Components left without comments are dropped afterwards, so asking a little too many costs nothing;
    asking too few merges subjects ("billing is confusing" with "navigation is confusing"), which is worse.
    """
    return max(1, min(max_themes, distinct))


def find_themes(texts: Sequence[str], compounds: Sequence[float] | None = None, *,
                max_themes: int = MAX_THEMES, max_examples: int = MAX_EXAMPLES) -> list[Theme]:
    """The recurring themes of ``texts``, largest first.

    ``compounds`` are the texts' sentiment scores when already known (the Data Hub stores them once
    read); otherwise they are computed. Comments with no content words ("", "n/a", "it was") join no theme.
    """
    texts = [t.strip() for t in texts]
    values = np.asarray(compounds if compounds is not None else scores(texts), dtype=float)
    if len(values) != len(texts):
        raise ValueError("compounds must have one score per text")
    keep = [i for i, t in enumerate(texts) if t]
    if not keep:
        return []
    docs = [texts[i] for i in keep]
    vectorizer = TfidfVectorizer(stop_words=sorted(STOP_WORDS), ngram_range=(1, 2), sublinear_tf=True,
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
    themes = []
    for component in range(k):
        members = np.flatnonzero((assigned == component) & (strength > 0))
        if members.size == 0:
            continue
        member_scores = values[[keep[i] for i in members]]
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
        member_set = set(members.tolist())
        terms = tuple(key_phrases([docs[i] for i in members],
                                  [d for i, d in enumerate(docs) if i not in member_set]))
        themes.append(Theme(
            label=_sentence_case(" · ".join(terms)), terms=terms, count=int(members.size),
            positive=int((member_scores >= POSITIVE_THRESHOLD).sum()),
            negative=int((member_scores <= NEGATIVE_THRESHOLD).sum()),
            neutral=int(((member_scores > NEGATIVE_THRESHOLD) & (member_scores < POSITIVE_THRESHOLD)).sum()),
            examples=tuple(examples)))
    themes.sort(key=lambda t: (-t.count, t.label))
    return themes

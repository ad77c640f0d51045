"""Which step of a journey a comment concerns, from its words (pure: no database).

Comments and step names become TF-IDF vectors of word stems. Names are two or three words, so matching
goes in two rounds (Rocchio relevance feedback): first, a comment that uses most of a step's name
(:data:`NAMED` of its IDF weight: "Creating an account…" for *Create account*) names that step; these
comments, and those a person or the push's Step field placed, teach the step their words (*Billing*
gains "charged", "invoice"). Then every comment is compared, by cosine similarity, with each step's
profile (name, half its stage's name, the mean of its teaching comments). A comment whose best
similarity stays below :data:`THRESHOLD` is on no step ("unassigned") rather than on a wrong one, and so
is one that shares only feeling words ("hard", "confusing": VADER's lexicon) or everyday verbs ("find")
with the step: "Hard to find where to upload the documents" is not about *Billing* because "Billing page is
confusing, invoices are hard to find" taught *Billing* those words.

Why not a trained classifier: there are no labelled comments per step when a journey is new, and step
names are the only description a journey has; the feedback round learns from the comments themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from workspace.datahub.sentiment import vader
from workspace.datahub.words import content_stems, stem

NAMED = 0.6            # share of a step name's (IDF-weighted) words a comment must use to name the step
THRESHOLD = 0.15       # cosine to a step's taught profile below which a comment is on no step
FEELING = 0.3          # a word VADER gives at least this much valence says how, not what
EVERYDAY_VERBS = frozenset(stem(w) for w in """find get take make need want try know go come look feel seem put
give keep say tell think show start""".split())
STAGE_WEIGHT = 0.5
FEEDBACK_WEIGHT = 1.0


@dataclass(frozen=True)
class StepName:
    """What a step is known by: its id, its name and its stage's name."""

    id: int
    name: str
    stage: str = ""


@dataclass(frozen=True)
class Match:
    step_id: int | None
    similarity: float


def by_words(texts: Sequence[str], steps: Sequence[StepName],
             known: Sequence[int | None] | None = None) -> list[Match]:
    """The step each text's words concern, or None. ``known`` gives texts already placed (by a person or
    by the Step field): they teach the step their words, and keep their step."""
    return list(_by_words(tuple(texts), tuple(steps), tuple(known) if known is not None else (None,) * len(texts)))


@lru_cache(maxsize=32)
def _by_words(texts: tuple[str, ...], steps: tuple[StepName, ...],
              known: tuple[int | None, ...]) -> tuple[Match, ...]:
    if len(known) != len(texts):
        raise ValueError("known must have one entry per text")
    if not texts or not steps:
        return tuple(Match(k, 1.0 if k is not None else 0.0) for k in known)
    vectorizer = TfidfVectorizer(analyzer=content_stems, sublinear_tf=True, norm="l2")
    try:
        vectorizer.fit([*texts, *(s.name for s in steps), *(s.stage for s in steps)])
    except ValueError:  # no content words anywhere
        return tuple(Match(k, 1.0 if k is not None else 0.0) for k in known)
    comments = vectorizer.transform(texts)
    names = vectorizer.transform([s.name for s in steps]).toarray()
    stages = vectorizer.transform([s.stage for s in steps]).toarray()
    profiles = normalize(names + STAGE_WEIGHT * stages)

    column = {s.id: j for j, s in enumerate(steps)}
    # How much of each name a comment uses: IDF weight of the name's words present / the name's total.
    idf = vectorizer.idf_
    name_words = (names > 0).astype(float) * idf
    used = np.asarray(((comments > 0).astype(float) @ name_words.T))
    coverage = used / np.maximum(name_words.sum(axis=1), 1e-9)
    seeds = np.full(len(texts), -1)
    for i, k in enumerate(known):
        if k is not None and k in column:
            seeds[i] = column[k]
        elif coverage[i].max() >= NAMED and np.sum(coverage[i] == coverage[i].max()) == 1:
            seeds[i] = int(coverage[i].argmax())
    learned = np.zeros_like(profiles)
    for j in range(len(steps)):
        members = np.flatnonzero(seeds == j)
        if members.size:
            learned[j] = np.asarray(comments[members].mean(axis=0)).ravel()
    profiles = normalize(profiles + FEEDBACK_WEIGHT * normalize(learned))
    second = np.asarray(comments @ profiles.T)
    # What a comment shares with a step must include a topic word, not only feelings and everyday verbs.
    vocabulary = vectorizer.get_feature_names_out()
    in_names = set(np.flatnonzero((names > 0).any(axis=0)))
    topical = np.array([j in in_names or (str(term) not in _feeling_stems() and str(term) not in EVERYDAY_VERBS)
                        for j, term in enumerate(vocabulary)], dtype=float)
    shares_topic = np.asarray((comments > 0).astype(float).multiply(topical) @ (profiles > 0).T.astype(float)) > 0

    matches = []
    for i, k in enumerate(known):
        best = int(second[i].argmax())
        if k is not None:
            matches.append(Match(k, float(second[i][column[k]]) if k in column else 1.0))
        elif second[i][best] >= THRESHOLD and shares_topic[i][best]:
            matches.append(Match(steps[best].id, float(second[i][best])))
        else:
            matches.append(Match(None, float(second[i][best])))
    return tuple(matches)


@lru_cache(maxsize=1)
def _feeling_stems() -> frozenset[str]:
    return frozenset(stem(word) for word, valence in vader().lexicon.items()
                     if abs(valence) >= FEELING and word.isalpha())

"""Scale positions for exports that hold answer labels instead of recode values.

An export made with `useLabels=true` carries "Extremely satisfied" or "10 - Extremely
likely" rather than 5 or 10. Without the survey definition the scale position has to be read
from the wording: a leading number when there is one, else the standard Qualtrics scale
wordings (satisfaction, ease, effort, agreement, likelihood, quality). Anything else is
refused by name rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from vocabulary import is_not_an_answer, is_unsure, normalise_label
from scoring.sentiment import MetricType

_LEADING_NUMBER = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)(?:\s*$|\s*[-–—:.)=]\s*|\s+)")

# Words that say which side of the scale a label is on (normalised, apostrophes removed).
_GOOD = {"satisfied", "easy", "agree", "likely", "good", "effortless", "pleased", "happy"}
_BAD = {"dissatisfied", "unsatisfied", "difficult", "hard", "disagree", "unlikely", "bad", "unhappy", "displeased"}
_MIDDLE = {"neither", "neutral", "undecided"}
_STRONG = {"extremely", "very", "strongly", "completely", "totally", "highly", "absolutely"}
_MODERATE = {"moderately", "fairly", "quite"}
_WEAK = {"slightly", "somewhat", "mildly", "rather"}  # plus the phrase "a little", matched on the text

# Ordered worst → best; labels matched whole after normalisation.
_QUALITY_SCALES: tuple[tuple[str, ...], ...] = (
    ("poor", "fair", "good", "very good", "excellent"),
    ("very poor", "poor", "fair", "good", "very good"),
    ("terrible", "poor", "average", "good", "excellent"),
    ("very bad", "bad", "average", "good", "very good"),
)
_GROUP_LABELS = {"detractor": 0.0, "passive": 7.0, "promoter": 10.0}
_NPS_ENDS = {"not at all likely": 0.0, "extremely likely": 10.0, "very unlikely": 0.0}
_EFFORT = {"very low effort": 5.0, "low effort": 4.0, "neither low nor high effort": 3.0, "moderate effort": 3.0,
           "high effort": 2.0, "very high effort": 1.0}


class UnknownLabels(ValueError):
    """Some answer labels have no known scale position; `labels` lists them for the message."""

    def __init__(self, metric_type: MetricType, labels: Iterable[str]) -> None:
        self.labels = tuple(labels)
        named = ", ".join(repr(label) for label in self.labels)
        super().__init__(
            f"Cannot tell where these {metric_type.name} answer labels sit on the scale: {named}; "
            "export the responses as values instead of labels, or map these answers by hand."
        )


def choices_from_labels(
    metric_type: MetricType | str, labels: Iterable[str]
) -> list[tuple[str, str, float | None]]:
    """`(value, label, recode)` choices for exported labels, ready for `default_mapping`.

    The value is the label itself (that is what the export holds); the recode is the scale
    position (1-based for word scales, the number itself for numbered labels); N/A-like labels
    get no position. Raises UnknownLabels naming every label it cannot place.
    """
    metric = MetricType(metric_type)
    distinct = list(dict.fromkeys(str(label).strip() for label in labels if str(label).strip()))
    positions: dict[str, float | None] = {}
    unknown: list[str] = []
    wordy: list[str] = []
    for label in distinct:
        if is_not_an_answer(label):
            positions[label] = None
            continue
        number = _leading_number(label)
        if number is not None:
            positions[label] = number
            continue
        fixed = _fixed_position(metric, normalise_label(label))
        if fixed is not None:
            positions[label] = fixed
        else:
            wordy.append(label)
    if wordy:
        placed, unplaced = _word_scale(wordy)
        positions.update(placed)
        unknown.extend(unplaced)
    if unknown:
        raise UnknownLabels(metric, unknown)
    return [(label, label, positions[label]) for label in distinct]


def _leading_number(label: str) -> float | None:
    match = _LEADING_NUMBER.match(label)
    return float(match.group(1)) if match else None


def _fixed_position(metric: MetricType, text: str) -> float | None:
    if metric == MetricType.NPS:
        if text in _GROUP_LABELS:
            return _GROUP_LABELS[text]
        return _NPS_ENDS.get(text)
    if text in _EFFORT:
        return _EFFORT[text]
    return None


def _word_scale(labels: list[str]) -> tuple[dict[str, float], list[str]]:
    """Place polarity-worded labels on a 5- or 7-point scale, or on a known quality scale."""
    known = _quality_positions(labels) or _unipolar_positions(labels)
    if known is not None:
        return known, []
    signed: dict[str, int] = {}
    unplaced: list[str] = []
    uses_seven_point_words = False
    for label in labels:
        text = normalise_label(label)
        words = set(text.split())
        if words & _MIDDLE or ("nor" in words and words & (_GOOD | _BAD)) or is_unsure(label) \
                or text == "might or might not":
            signed[label] = 0
            continue
        side = _side(words)
        if not side:
            unplaced.append(label)
            continue
        negated = "not" in words
        strength = _strength(text, words, negated)
        uses_seven_point_words |= bool(words & {"moderately", "slightly"})
        signed[label] = side * strength
    seven_point = uses_seven_point_words or _both_weak_and_plain(signed)
    centre, unit = (4, {1: 1, 2: 2, 3: 3}) if seven_point else (3, {1: 1, 2: 1, 3: 2})
    placed = {
        label: float(centre + (unit[abs(s)] if s > 0 else -unit[abs(s)]) if s else centre)
        for label, s in signed.items()
    }
    # Two wordings on one point ("Extremely" and "Very" on a 5-point scale) cannot be ordered safely.
    crowded = {p for p in placed.values() if list(placed.values()).count(p) > 1}
    unplaced += [label for label, p in placed.items() if p in crowded]
    return {label: p for label, p in placed.items() if p not in crowded}, unplaced


def _side(words: set[str]) -> int:
    """+1 for the good end's wording (satisfied, easy, agree, likely…), -1 for the bad end's, 0 for neither or
    both; "not" turns it round ("Not at all likely" is the bad end)."""
    good, bad = bool(words & _GOOD), bool(words & _BAD)
    if good == bad:
        return 0
    side = 1 if good else -1
    return -side if "not" in words else side


def polarity(label: str) -> int:
    """Which end of a rating scale a label reads as: +1 good, -1 bad, 0 the middle or no rating wording."""
    words = set(normalise_label(label).split())
    if words & _MIDDLE or "nor" in words:
        return 0
    return _side(words)


def _strength(text: str, words: set[str], negated: bool) -> int:
    if negated and "at all" in text:
        return 3
    if words & _STRONG:
        return 3
    if words & _MODERATE:
        return 2
    if words & _WEAK or "a little" in text:
        return 1
    return 2


def _both_weak_and_plain(signed: dict[str, int]) -> bool:
    """Agreement scales run 7-point without "moderately": Somewhat agree, Agree, Strongly agree."""
    for side in (1, -1):
        strengths = {abs(s) for s in signed.values() if s * side > 0}
        if {1, 2} <= strengths:
            return True
    return False


_UNIPOLAR_STEPS = {"slightly": 2, "somewhat": 2, "moderately": 3, "very": 4, "extremely": 5}


def _unipolar_positions(labels: list[str]) -> dict[str, float] | None:
    """Qualtrics' unipolar 5-point scales: Not at all / Slightly / Moderately / Very / Extremely W.

    Taken as unipolar only when "Not at all W" is among the labels or W has no opposite
    (important, valuable): "Somewhat satisfied" alone belongs to the bipolar satisfaction scale.
    """
    positions: dict[str, float] = {}
    subjects: set[str] = set()
    has_bottom = False
    for label in labels:
        text = normalise_label(label)
        if text.startswith("not at all "):
            positions[label], subject = 1.0, text.removeprefix("not at all ")
            has_bottom = True
        else:
            first, _, subject = text.partition(" ")
            if first not in _UNIPOLAR_STEPS:
                return None
            positions[label] = float(_UNIPOLAR_STEPS[first])
        subjects.add(subject)
    if len(subjects) != 1 or len(set(positions.values())) != len(positions):
        return None
    polar = bool(set(next(iter(subjects)).split()) & (_GOOD | _BAD))
    return positions if has_bottom or not polar else None


def _quality_positions(labels: list[str]) -> dict[str, float] | None:
    texts = {label: normalise_label(label) for label in labels}
    for scale in _QUALITY_SCALES:
        if set(texts.values()) <= set(scale):
            return {label: float(scale.index(text) + 1) for label, text in texts.items()}
    return None

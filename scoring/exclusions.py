"""Recognise answer choices that are not an answer at all (N/A, Don't know, Prefer not to say…).

Such choices must never count as respondents, whatever recode value the survey author gave
them: Qualtrics surveys commonly recode N/A as 99, -1 or simply the next number on the scale.
"""

from __future__ import annotations

import re

_APOSTROPHES = re.compile(r"[\u2019\u2018'`´]")
_NON_WORD = re.compile(r"[^0-9a-z]+")

# Phrases matched on the normalised label (lower case, no apostrophes, punctuation as spaces).
_PHRASES: tuple[str, ...] = (
    "not applicable",
    "does not apply",
    "doesnt apply",
    "dont know",
    "do not know",
    "didnt know",
    "prefer not to",
    "would rather not",
    "rather not say",
    "decline to",
    "no opinion",
    "cant say",
    "cannot say",
    "cant answer",
    "cannot answer",
    "unable to answer",
    "unable to say",
    "no answer",
    "not relevant",
    "havent used",
    "have not used",
    "did not use",
    "didnt use",
    "no experience",
    "cant remember",
    "cannot remember",
    "dont remember",
    "do not remember",
)
# "Not sure" is a real answer when it is the midpoint of a scale (Definitely would … Not sure …
# Definitely would not, as in the real Beskar QID21) but not-an-answer when appended at the end.
_UNSURE: tuple[str, ...] = ("not sure", "unsure", "undecided", "im not sure", "i am not sure")
_NA = re.compile(r"^(n a|na|n a \w.*|na \w.*)$")


def normalise_label(label: str) -> str:
    """Lower-case the label and reduce punctuation to single spaces ("Don’t know!" → "dont know")."""
    text = _APOSTROPHES.sub("", label.casefold())
    return _NON_WORD.sub(" ", text).strip()


def is_not_an_answer(label: str | None) -> bool:
    """True when a choice label reads as N/A, Don't know, Prefer not to say or the like."""
    if not label:
        return False
    text = normalise_label(label)
    if _NA.match(text):
        return True
    padded = f" {text} "
    return any(f" {phrase} " in padded for phrase in _PHRASES)


def is_unsure(label: str | None) -> bool:
    """True for "Not sure"-like labels: Excluded at the end of a scale, Neutral in its middle."""
    return bool(label) and normalise_label(label) in _UNSURE

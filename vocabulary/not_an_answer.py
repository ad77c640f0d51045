"""Recognise answer choices that are not an answer at all (N/A, Don't know, Prefer not to say…).

Such choices must never count as respondents, whatever recode value the survey author gave them: Qualtrics
surveys commonly recode N/A as 99, -1, 997 or simply the next number on the scale. The same rule decides the
scale of a question in the definition (``qualtrics.definitions``) and the default mapping of its answers
(``scoring``), so a label is never Excluded in one place and counted in the other.

Labels arrive as Qualtrics stores them: HTML-wrapped (``<strong>N/A</strong>``), with curly apostrophes, in
capitals, with the recode in brackets ("NA, I don't have any opinion. (997)"). They are matched on a normalised
form, never rendered.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

_TAGS = re.compile(r"<[^>]*>")
_APOSTROPHES = re.compile(r"['\u2018\u2019\u201b\u02bc\u0060\u00b4\u2032]")
_NON_WORD = re.compile(r"[^0-9a-z]+")

# Phrases matched as whole words on the normalised label (lower case, accents and apostrophes removed,
# punctuation as single spaces). English first, then the other languages surveys are commonly fielded in.
_PHRASES: tuple[str, ...] = (
    "not applicable", "does not apply", "doesnt apply", "not relevant",
    "dont know", "do not know", "didnt know", "i dont know", "dunno",
    "prefer not to", "would rather not", "rather not say", "decline to", "declined to",
    "no opinion", "no basis for evaluation", "no basis to evaluate", "no basis to judge", "no basis",
    "cant say", "cannot say", "cant answer", "cannot answer", "unable to answer", "unable to say",
    "unable to judge", "no answer", "not answered",
    "havent used", "have not used", "did not use", "didnt use", "never used", "never tried",
    "no experience", "never heard of", "not heard of", "havent heard of", "have not heard of",
    "cant remember", "cannot remember", "dont remember", "do not remember", "dont recall", "do not recall",
    # German
    "weiss nicht", "weiss ich nicht", "keine angabe", "keine ahnung", "kann ich nicht beurteilen",
    "nicht zutreffend", "trifft nicht zu", "keine meinung", "mochte ich nicht sagen", "mochte nicht antworten",
    # French
    "ne sais pas", "je ne sais pas", "ne sait pas", "sans opinion", "sans reponse", "non applicable",
    "ne s applique pas", "prefere ne pas repondre", "je prefere ne pas repondre", "pas d avis", "nsp",
    # Spanish, Italian, Dutch, Portuguese
    "no se", "no sabe", "no aplica", "no sabe no contesta", "ns nc", "prefiero no decir", "prefiero no contestar",
    "sin opinion", "non so", "non applicabile", "preferisco non rispondere", "weet niet", "weet ik niet",
    "geen mening", "niet van toepassing", "nao sei", "nao se aplica", "prefiro nao responder",
)
_PHRASE = re.compile(r"(?:^| )(?:" + "|".join(re.escape(p) for p in sorted(_PHRASES, key=len, reverse=True))
                     + r")(?: |$)")
# "Not sure" is a real answer when it is the midpoint of a scale (Definitely would … Not sure … Definitely
# would not, as in the real Beskar QID21) but not-an-answer when appended at the end: scoring decides by position.
_UNSURE = frozenset({"not sure", "unsure", "undecided", "im not sure", "i am not sure", "pas sur", "nicht sicher"})
# N/A and its spellings: "N/A", "n.a.", "NA", "N/A - I did not contact support", "NA, I don't have any opinion".
_NA = re.compile(r"^(n a|na)( .*)?$")


def normalise_label(label: str) -> str:
    """The label as plain lower-case words: tags and entities gone, accents and apostrophes dropped,
    punctuation as single spaces ("<b>Don’t know!</b>" → "dont know", "Weiß nicht" → "weiss nicht")."""
    text = html.unescape(_TAGS.sub(" ", label)) if "<" in label or "&" in label else label
    text = _APOSTROPHES.sub("", text.casefold())  # casefold turns ß into ss
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_WORD.sub(" ", text).strip()


def is_not_an_answer(label: str | None) -> bool:
    """True when a choice label reads as N/A, Don't know, Prefer not to say, No basis for evaluation, Have not
    used, Never heard of or the like (in English or a handful of other languages)."""
    return bool(label) and _reads_as_no_answer(str(label))


@lru_cache(maxsize=8192)
def _reads_as_no_answer(label: str) -> bool:
    # Cached: a survey repeats the same few scale labels on every question (a 331-question study has ~40).
    text = normalise_label(label)
    return bool(text) and (_NA.match(text) is not None or _PHRASE.search(text) is not None)


def is_unsure(label: str | None) -> bool:
    """True for "Not sure"-like labels: Excluded at the end of a scale, Neutral in its middle."""
    return bool(label) and normalise_label(str(label)) in _UNSURE

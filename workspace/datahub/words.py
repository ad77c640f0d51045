"""Words of customer comments, for matching them to steps and for naming themes.

scikit-learn's English stop list drops words that carry a comment's subject in customer feedback
("bill", "call", "find", "system", "first", "fill"), so the Data Hub keeps its own list of function
words. Matching uses a light suffix stripper ("billing", "billed", "bills" → "bill") because step
names and comments rarely use the same form of a word; phrases shown to people keep the words as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STOP_WORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being below
between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
few for from further had hadn't has hasn't have haven't having he her here hers herself him himself his how
i i'd i'll i'm i've if in into is isn't it it's its itself just let's me more most my myself no nor not of
off on once only or other ought our ours ourselves out over own same she should shouldn't so some such than
that that's the their theirs them themselves then there there's these they they'd they'll they're they've
this those through to too under until up us very was wasn't we we'd we'll we're we've were weren't what
what's when where which while who whom why will with won't would wouldn't you you'd you'll you're you've
your yours yourself yourselves also still really even much many lot lots bit quite get got getting
every everything thing things way ok okay yes yeah etc well anyone anybody anything someone
somebody something everyone everybody see saw seen look looked make made want try
""".split())

# Words that join clauses: a phrase does not run across them.
CLAUSE_WORDS = frozenset("and or but because so then although though while when if".split())

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s")


@dataclass(frozen=True)
class Token:
    """A word as written, where it sits in its comment, and the clause piece it belongs to."""

    text: str
    start: int
    end: int
    piece: int  # tokens of different pieces are separated by punctuation

    @property
    def lower(self) -> str:
        return self.text.lower().replace("’", "'")

    @property
    def is_stop(self) -> bool:
        return self.lower in STOP_WORDS or len(self.lower) < 2


def stem(word: str) -> str:
    """A crude common form of an English word, for matching only ("discovering", "discovered" → "discover")."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= (2 if suffix == "s" else 3):
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            if suffix == "es" and not word[:-2].endswith(("s", "x", "z", "ch", "sh")):
                suffix = "s"  # "invoices" → "invoice", "boxes" → "box"
            word = word[: -len(suffix)] + {"ies": "y", "ied": "y", "ation": "at", "ations": "at"}.get(suffix, "")
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":  # "stopped" → "stop"
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):  # "charge", "charged", "charging" → "charg"
        word = word[:-1]
    return word


def tokens(text: str) -> list[Token]:
    """Every word of ``text`` with its position; punctuation between two words starts a new piece."""
    out: list[Token] = []
    piece = 0
    last_end = 0
    for match in _TOKEN.finditer(text):
        if out and re.search(r"[.,;:!?()\[\]\"/|–—]|\s-\s", text[last_end:match.start()]):
            piece += 1
        out.append(Token(match.group(), match.start(), match.end(), piece))
        last_end = match.end()
    return out


def content_stems(text: str) -> list[str]:
    """The stems of ``text``'s content words, in order (what step matching compares)."""
    return [stem(t.lower) for t in tokens(text) if not t.is_stop]

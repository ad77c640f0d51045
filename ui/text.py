"""Showing text that came from Qualtrics or from users, as text.

Survey wording arrives with HTML in it and may contain Markdown by accident (`*`, `_`, `#`,
links). Streamlit renders Markdown in most elements, so everything that did not come from us
goes through `plain()` first.
"""

from __future__ import annotations

import html
import re

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")
# GitHub-flavoured Markdown turns bare "http://…", "www.…" and "name@host.tld" into links after escapes are
# resolved, so backslashes cannot stop it. An invisible WORD JOINER (U+2060) inside ":", "//", before "." of
# "www." and before "@" breaks each pattern while the text reads the same.
_AUTOLINK_SPOTS = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def plain(text: str | None) -> str:
    """Escape Markdown (and defuse autolinks) so Streamlit shows `text` exactly as written, never as a link."""
    if not text:
        return ""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", _AUTOLINK_SPOTS.sub(WORD_JOINER, text))


def for_plotly(text: object) -> str:
    """`text` for a plotly name, label or axis: plotly renders a subset of HTML (<a href>, <b>, <br>…) in
    them, and decodes entities, so escaping shows the markup as typed and never as a link."""
    return html.escape(str(text), quote=False)


def count_of(n: int, noun: str, plural: str | None = None) -> str:
    """"1 comment", "2 comments", "1,204 comments": a count with its noun in the right number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"

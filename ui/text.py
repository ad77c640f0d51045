"""Showing text that came from Qualtrics or from users, as text.

Survey wording arrives with HTML in it and may contain Markdown by accident (`*`, `_`, `#`,
links). Streamlit renders Markdown in most elements, so everything that did not come from us
goes through `plain()` first.
"""

from __future__ import annotations

import re

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def plain(text: str | None) -> str:
    """Escape Markdown so Streamlit shows `text` exactly as written."""
    if not text:
        return ""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def count_of(n: int, noun: str, plural: str | None = None) -> str:
    """"1 comment", "2 comments", "1,204 comments": a count with its noun in the right number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"

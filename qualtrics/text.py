"""Plain text from the HTML Qualtrics stores in question and choice texts (parsed, never rendered)."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from html.parser import HTMLParser

_BLOCK_TAGS = {"br", "div", "p", "li", "ul", "ol", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
               "table", "section", "blockquote", "hr"}
_SKIPPED_TAGS = {"script", "style", "video", "audio", "object", "iframe", "noscript", "template"}
_SPACES = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text(value: object) -> str:
    """Strip tags, decode entities, collapse whitespace. ``None`` becomes ``""``."""
    if value is None:
        return ""
    return _plain(str(value))


@lru_cache(maxsize=8192)
def _plain(raw: str) -> str:
    # Cached: definitions repeat the same HTML (scale labels, instructions) on hundreds of questions.
    if "<" not in raw:
        return _SPACES.sub(" ", html.unescape(raw)).strip()
    parser = _TextExtractor()
    parser.feed(raw)
    parser.close()
    return _SPACES.sub(" ", "".join(parser.parts)).strip()

"""Canonical form of exported answer values, so "9", "9.0", 9 and " 9 " find the same mapping row.

Qualtrics exports the same choice as "9" in CSV, 9 in JSON and sometimes "9.0" after a
round-trip through pandas or SQLite; comparing raw strings would silently turn real answers
into `unmapped` ones.
"""

from __future__ import annotations

import math
import re
from typing import Any

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_SPACE = re.compile(r"\s+")


def _missing(value: Any) -> bool:
    """None, NaN, pd.NA or NaT. Text and integers (what definitions and exports mostly hold) are decided
    without pandas, which a command that never scores does not import."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, (str, int)):
        return False
    import pandas as pd

    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def canonical_value(value: Any) -> str | None:
    """Return the lookup key of one exported value, or None when the question was unanswered."""
    if _missing(value):
        return None
    if isinstance(value, bool):  # bool is an int subclass; never a survey answer code
        return str(value)
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return _text_key(str(value))
        if math.isnan(number):
            return None
        return _number_key(number)
    text = str(value)
    stripped = text.strip()
    if not stripped:
        return None
    if _NUMBER.match(stripped):
        return _number_key(float(stripped))
    return _text_key(stripped)


def numeric_value(value: Any) -> float | None:
    """The number an exported value stands for, or None when it is text (a label)."""
    key = canonical_value(value)
    if key is None or not _NUMBER.match(key):
        return None
    return float(key)


def _number_key(number: float) -> str:
    if math.isfinite(number) and number.is_integer():
        return str(int(number))
    return repr(number)


def _text_key(text: str) -> str:
    return _SPACE.sub(" ", text.strip())

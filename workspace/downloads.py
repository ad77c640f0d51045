"""The one CSV writer behind every download (scorecard, answers behind a score, Data Hub).

Two promises, kept here so no page can forget them:

* **No cell runs as a formula.** Text from respondents, pushes and survey questions may start with ``=``,
  ``+``, ``-``, ``@``, a tab, a carriage return or a line feed (OWASP "CSV Injection"); Excel, LibreOffice and
  Google Sheets would evaluate such a cell (``=HYPERLINK(…)``, DDE ``=cmd|' /C calc'!A0``). Such text is
  prefixed with a single quote, which spreadsheets show as text. Full-width look-alikes (``＝＋－＠``) get the
  same treatment, because some spreadsheet locales fold them to their ASCII forms.
* **Numbers stay numbers.** Ints and floats are written as they are (``-4.0`` is an NPS, not a formula), and
  so is text that is nothing but a plain decimal number, so a sum or a chart works on the column.

The filters that produced a download travel with it as extra columns (the same value on every row) rather
than comment lines above the header: a spreadsheet's sort, filter and pivot need one rectangular table, and
the filter then survives any copy of the rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from workspace.scores import ScoreFilter

# Leading characters a spreadsheet may treat as the start of a formula or of a hidden line (OWASP list plus
# line feed, the DDE pipe and full-width variants).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` as it may be written to a CSV cell: numbers as numbers, formula-leading text neutralised,
    missing values (None, NaN, NA) as an empty cell."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return "" if isinstance(value, float) and math.isnan(value) else value
    if hasattr(value, "item") and not isinstance(value, str):   # numpy scalars
        return safe_cell(value.item())
    text = str(value)
    if _PLAIN_NUMBER.fullmatch(text.strip()):
        return text
    stripped = text.lstrip(" \u00a0")
    if text.startswith(FORMULA_LEADS) or stripped.startswith(FORMULA_LEADS):
        return "'" + text
    return text


def csv_bytes(frame: pd.DataFrame, context: Mapping[str, Any] | None = None) -> bytes:
    """``frame`` as UTF-8 CSV (with a BOM so Excel reads accents right), every cell through
    :func:`safe_cell`; ``context`` (e.g. the filters) adds one column per entry, same value on each row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    extra = list((context or {}).items())
    writer.writerow([safe_cell(str(c)) for c in frame.columns] + [safe_cell(k) for k, _ in extra])
    tail = [safe_cell(v) for _, v in extra]
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([safe_cell(v) for v in row] + tail)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def filter_columns(flt: ScoreFilter, exported_at: dt.datetime | None = None) -> dict[str, str]:
    """The columns that record which answers a download covers: period, segment picks, time of export."""
    segments = "; ".join(f"{field} = {', '.join(values)}" for field, values in sorted(flt.segments.items()) if values)
    when = (exported_at or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M")
    return {"Filter: from": flt.start.isoformat() if flt.start else "all dates",
            "Filter: to": flt.end.isoformat() if flt.end else "all dates",
            "Filter: segments": segments or "none", "Exported (UTC)": when}

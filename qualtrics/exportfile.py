"""Incremental readers for Qualtrics response export files: CSV (3 header rows), JSON and NDJSON, zipped or not.

Memory stays flat whatever the file size: the file is read as a stream (straight out of the zip member, never
extracted) and turned into :class:`ResponseBatch` frames of at most ``batch_rows`` rows. CSV goes through pandas'
C reader in chunks; JSON is decoded one response object at a time with ``json.JSONDecoder.raw_decode`` (no
third-party streaming parser needed); NDJSON line by line.

Columns are found by what Qualtrics calls ImportId, not by the export tags of header row 1, because export tags
are editable by survey authors while ImportIds (``QID16``, ``QID1_3`` for a matrix row, ``_recordId``,
``recordedDate``) are what the API's JSON exports use too. A requested id that matches no ImportId but an export
tag (``Q16``) is accepted as well, for users who only know the column names of their download.

Files as users really have them are read too: ImportIds written as Python dicts (``{'ImportId': 'QID7_1'}``, the
"Insights" CSV, with ``responseId`` and ``QID7-1`` for a matrix row), any ``timeZone`` Qualtrics writes (IANA,
``Z``, ``UTC``, ``GMT+1``, ``GMT-05:00``), no ``recordedDate`` column at all (``recordedDate`` is then None, for
callers that score without dates), and dates an Excel round trip rewrote (``1/21/2021 10:55``). What cannot be
read (the legacy two-row layout, a semicolon-separated or re-encoded file, dates in no known form) fails with
one sentence naming the problem, never with a silent NaN.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta, timezone as fixed_zone, tzinfo
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from qualtrics.errors import CorruptExport, QualtricsError
from qualtrics.models import DEFAULT_BATCH_ROWS, METADATA_COLUMNS, Progress, ResponseBatch

_READ_SIZE = 1 << 20
# QIDn, a matrix row QIDn_m, a carry-forward row QIDn_xm, a loop & merge copy k_QIDn…
_ANSWER_COLUMN = re.compile(r"^(\d+_)?QID\d+(_x?\d+)?$")
_TRUE = {"1", "true", "True", "TRUE", "1.0"}
_TRUE_VALUES = {1, True, "1", "true", "True", "TRUE", "1.0"}  # finished as JSON exports write it (1.0 == 1)


class _CountingReader(io.RawIOBase):
    """Binary stream wrapper that reports how many bytes were consumed (the parse progress)."""

    def __init__(self, inner: IO[bytes], total: int, progress: Progress | None) -> None:
        self._inner = inner
        self._total = max(total, 1)
        self._progress = progress
        self.consumed = 0
        self._reported = -1.0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.consumed += n
        if self._progress is not None:
            fraction = min(self.consumed / self._total, 1.0)
            if fraction - self._reported >= 0.01 or (n == 0 and self._reported < 1.0):
                self._reported = fraction
                self._progress("parse", fraction)
        return n


@dataclass(frozen=True)
class _Selection:
    """The question ids (None: discover every answer column) and embedded-data fields the caller asked for."""

    question_ids: tuple[str, ...] | None
    embedded_data: tuple[str, ...]

    def output_columns(self, questions: Sequence[str]) -> list[str]:
        return [*METADATA_COLUMNS, *questions, *self.embedded_data]


def _format_of(name: str) -> str | None:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {"csv": "csv", "json": "json", "ndjson": "ndjson", "jsonl": "ndjson"}.get(suffix)


def _sniff(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return "csv"
    if re.match(rb'\{\s*"responses"\s*:', text):
        return "json"
    return "ndjson"


def _open_export(path: Path, stack: ExitStack) -> tuple[IO[bytes], int, str]:
    """(binary stream, uncompressed size, format) for a raw export file or the export inside a zip."""
    if zipfile.is_zipfile(path):
        try:
            archive = stack.enter_context(zipfile.ZipFile(path))
            members = [m for m in archive.infolist() if not m.is_dir()]
            member = next((m for m in members if _format_of(m.filename)), members[0] if members else None)
            if member is None:
                raise CorruptExport(f"The export zip {path.name} is empty; download the export again.")
            stream = stack.enter_context(archive.open(member))
        except zipfile.BadZipFile as exc:
            raise CorruptExport(f"The export zip {path.name} is damaged ({exc}); download it again.") from exc
        fmt = _format_of(member.filename)
        size = member.file_size
    else:
        stream = stack.enter_context(open(path, "rb"))
        fmt = _format_of(path.name)
        size = path.stat().st_size
    if fmt is None:
        buffered = io.BufferedReader(stream, _READ_SIZE) if not isinstance(stream, io.BufferedReader) else stream
        fmt = _sniff(buffered.peek(4096)[:4096])
        stream = buffered
    return stream, size, fmt


def read_export_file(path: str | Path, question_ids: Iterable[str] | None = None, *,
                     embedded_data: Iterable[str] = (), batch_rows: int = DEFAULT_BATCH_ROWS,
                     progress: Progress | None = None, require_dates: bool = True) -> Iterator[ResponseBatch]:
    """Yield the responses of an export file (CSV, JSON or NDJSON; zipped or not; values or labels).

    ``question_ids`` None means every single-value answer column (``QIDn``, ``QIDn_m``); otherwise exactly those
    ids, in that order, as columns (missing where unanswered). The frames follow :class:`ResponseBatch`.
    ``require_dates`` False accepts a CSV without a ``recordedDate`` column (its ``recordedDate`` is None):
    a score needs no date, while storing answers for trends does, so the sync keeps the default.
    """
    path = Path(path)
    if not path.exists():
        raise QualtricsError(f"No such export file: {path}; check the path.")
    selection = _Selection(None if question_ids is None else tuple(dict.fromkeys(question_ids)),
                           tuple(dict.fromkeys(embedded_data)))
    with ExitStack() as stack:
        stream, size, fmt = _open_export(path, stack)
        counted = io.BufferedReader(_CountingReader(stream, size, progress), _READ_SIZE)
        try:
            if fmt == "csv":
                yield from _csv_batches(counted, selection, batch_rows, require_dates)
            else:
                records = _json_records(counted) if fmt == "json" else _ndjson_records(counted)
                yield from _record_batches(records, selection, batch_rows, require_dates)
        except UnicodeDecodeError:
            raise CorruptExport(
                f"The export file {path.name} is not UTF-8 text (re-saved by a spreadsheet in another encoding?); "
                "download it again from Qualtrics, or save it as 'CSV UTF-8'.") from None
        except RecursionError:
            raise CorruptExport(
                f"The export file {path.name} nests its JSON deeper than any Qualtrics export; "
                "download it again.") from None
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, csv.Error, TypeError, AttributeError,
                pd.errors.ParserError, OverflowError, MemoryError) as exc:
            # ValueError covers JSONDecodeError and pandas' own value errors; TypeError/AttributeError a JSON
            # record of the wrong shape (a list where an object belongs). Whatever the cause, one sentence.
            raise CorruptExport(
                f"The export file {path.name} could not be read ({type(exc).__name__}); download it again.") from exc


# ---------------------------------------------------------------- dates and values

_SPACE_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
_UTC_NAMES = {"", "Z", "UTC", "GMT", "ETC/UTC", "ETC/GMT", "UCT", "ZULU", "UNIVERSAL"}
# "GMT+1", "GMT-05:00", "UTC+5:30", "+01:00": offsets as people (and Qualtrics' time zone picker) write them,
# east of Greenwich positive. (POSIX "Etc/GMT+1" means the opposite; it is an IANA name and read as such.)
_OFFSET_NAME = re.compile(r"^(?:GMT|UTC)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
# Dates as a spreadsheet rewrites them: "1/21/2021 10:55" (Excel drops the seconds), "21.01.2021 10:55:36".
_SPREADSHEET_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
                        "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%m/%d/%y %H:%M", "%d/%m/%y %H:%M")


def time_zone(name: str | None) -> tzinfo:
    """The zone of an export's ``timeZone`` (None, IANA, ``Z``, ``UTC``, ``GMT+1``, ``GMT-05:00``).
    Raises QualtricsError naming the value when it is none of these."""
    text = (name or "").strip()
    if text.upper() in _UTC_NAMES:
        return fixed_zone.utc
    offset = _OFFSET_NAME.match(text)
    if offset:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta < timedelta(hours=15):
            return fixed_zone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise QualtricsError(
            f"The export's time zone {text[:60]!r} is not one Journey Pulse knows; export again with an IANA time "
            "zone such as Europe/Paris, or without one (UTC).") from None


def _spreadsheet_dates(values: pd.Series) -> pd.Series:
    """Parse dates a spreadsheet rewrote, with the first format that reads every one of them."""
    for fmt in _SPREADSHEET_FORMATS:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
        if not parsed[values.notna()].isna().any():
            return parsed
    return pd.to_datetime(values, format="ISO8601", errors="coerce")


def utc_iso(values: pd.Series, timezone: str | None) -> pd.Series:
    """Qualtrics dates (``2020-02-19 18:17:20`` in the export's timeZone, ISO with ``Z``, or as a spreadsheet
    rewrote them) as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC; blank stays None. Exports without a timeZone are UTC
    (the API default). A value that is no date raises QualtricsError naming it: never a silent NaN."""
    zone = time_zone(timezone)
    values = values.where(values.notna() & (values.astype(str).str.strip() != ""), None)
    present = values.dropna().astype(str)
    if present.empty:
        return pd.Series([None] * len(values), index=values.index, dtype=object)
    if zone is fixed_zone.utc and bool(present.str.match(_SPACE_FORMAT.pattern).all()) \
            and not bool(present.str.contains(r"(?:[+-]\d{2}:?\d{2}|[^Z\d.])$", regex=True).any()) \
            and len(present) == len(values):
        # Fast path, no datetime parsing: already UTC, only the separator and suffix differ.
        return (present.str.slice(0, 10) + "T" + present.str.slice(11, 19) + "Z").astype(str)
    parsed = pd.to_datetime(present, format="ISO8601", errors="coerce", utc=True) \
        if present.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True).all() else None
    if parsed is None:
        parsed = pd.to_datetime(present, format="ISO8601", errors="coerce")
        if parsed.isna().any():
            parsed = _spreadsheet_dates(present)
        if parsed.isna().any():
            bad = present[parsed.isna()].iloc[0]
            raise QualtricsError(
                f"The export has a date Journey Pulse cannot read ({bad[:40]!r}); download the export again "
                "from Qualtrics rather than a copy re-saved by a spreadsheet.")
        # Local times repeated by a DST change are read as the first (daylight) one rather than dropped.
        parsed = parsed.dt.tz_localize(zone, ambiguous=np.ones(len(parsed), dtype=bool),
                                       nonexistent="shift_forward")
    elif parsed.isna().any():
        bad = present[parsed.isna()].iloc[0]
        raise QualtricsError(f"The export has a date Journey Pulse cannot read ({bad[:40]!r}); download it again.")
    text = parsed.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype(str)
    return text.reindex(values.index).where(values.notna(), None)


def _finished(values: pd.Series) -> pd.Series:
    return values.isin(_TRUE).astype(bool)


def _text(value: Any) -> str | None:
    """JSON export value -> the string the CSV would hold (8 -> "8", 2.5 -> "2.5", ["2","3"] -> "2,3")."""
    kind = type(value)
    if kind is str:
        return value or None
    if kind is int:
        return str(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join(t for v in value if (t := _text(v)) is not None)
    return str(value)


# ---------------------------------------------------------------- CSV

_LEGACY_HEADER = re.compile(r"^V\d+$")
# The "Insights" CSV names the response id ``responseId`` and a matrix row ``QID7-1`` (``QID38-x4``,
# ``QID44-1-2``) where the API writes ``_recordId`` and ``QID7_1``; its third row is a Python dict, not JSON.
_INSIGHTS_KEYS = {"responseId": "_recordId"}
_INSIGHTS_ROW = re.compile(r"^(?:\d+_)?QID\d+(?:#\d+)?-")
_NOT_IMPORT_IDS = (
    "This CSV's third header row is not Qualtrics ImportIds, so its columns cannot be matched to questions; "
    "download the export again from Qualtrics (Data & Analysis > Export Data > CSV) and use the file as it is.")


def _import_meta(cell: str) -> dict[str, Any]:
    """The ImportId cell as a dict: JSON as the API writes it, or a Python dict literal (Insights CSV)."""
    text = cell.strip()
    try:
        meta = json.loads(text)
    except ValueError:
        try:
            meta = ast.literal_eval(text) if text.startswith("{") and len(text) < 2000 else None
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            meta = None
    if not isinstance(meta, dict) or not isinstance(meta.get("ImportId"), (str, int)):
        raise QualtricsError(_NOT_IMPORT_IDS)
    return meta


def _import_key(cell: str) -> tuple[str, str | None]:
    meta = _import_meta(cell)
    key = str(meta["ImportId"])
    key = _INSIGHTS_KEYS.get(key, key)
    if _INSIGHTS_ROW.match(key):
        key = key.replace("-", "_")
    if meta.get("choiceId") not in (None, ""):
        key = f"{key}_{meta['choiceId']}"
    zone = meta.get("timeZone")
    return key, zone if isinstance(zone, str) else None


def _check_layout(names: list[str]) -> None:
    """Refuse, with the reason and what to download instead, CSVs that are not the API's three-row layout."""
    if len(names) == 1 and ";" in names[0]:
        raise QualtricsError(
            "This CSV is separated by semicolons (a spreadsheet re-saved it with a European list separator); "
            "download the export again from Qualtrics and use the file as it is, without opening and saving it.")
    if len(names) >= 2 and _LEGACY_HEADER.match(names[0]) and _LEGACY_HEADER.match(names[1]):
        raise QualtricsError(
            "This is a legacy Qualtrics export (two header rows, columns V1, V2, …): it has no ImportIds, so its "
            "columns cannot be matched to questions; export the data again as CSV with 'Use legacy exporter' off.")


def _csv_batches(stream: IO[bytes], selection: _Selection, batch_rows: int, require_dates: bool = True
                 ) -> Iterator[ResponseBatch]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        names = next(reader)
        _check_layout(names)
        _labels, import_ids = next(reader), next(reader)
    except StopIteration:
        raise CorruptExport("The CSV export ends before its three header rows; download it again.") from None
    keys: dict[str, int] = {}
    timezone: str | None = None
    for index, cell in enumerate(import_ids):
        key, tz = _import_key(cell)
        keys.setdefault(key, index)
        if key == "recordedDate":
            timezone = tz
    for index, name in enumerate(names):  # export tags as aliases, never shadowing an ImportId
        keys.setdefault(name, index)
    if "_recordId" not in keys:
        raise QualtricsError(
            "This CSV export has no response ID column; export again including the Response ID metadata.")
    if require_dates and "recordedDate" not in keys:
        raise QualtricsError(
            "This CSV export has no recordedDate column; export again including the recorded date metadata.")
    if selection.question_ids is None:
        questions = [k for k in dict.fromkeys(_import_key(c)[0] for c in import_ids) if _ANSWER_COLUMN.match(k)]
    else:
        questions = list(selection.question_ids)
    absent = [q for q in (*questions, *selection.embedded_data) if q not in keys]
    if absent:
        raise QualtricsError(
            f"The export has no column for {', '.join(absent)}; check the question id "
            "(python -m qualtrics questions SURVEY_ID lists them).")
    sources = {"responseId": keys["_recordId"]}
    if "recordedDate" in keys:
        sources["recordedDate"] = keys["recordedDate"]
    if "finished" in keys:
        sources["finished"] = keys["finished"]
    for column in (*questions, *selection.embedded_data):
        sources[column] = keys[column]
    positions = sorted(set(sources.values()))
    try:
        chunks = pd.read_csv(text, header=None, usecols=positions, dtype=str, keep_default_na=False,
                             na_values=[""], chunksize=batch_rows, engine="c")
    except pd.errors.EmptyDataError:
        return  # headers only: an incremental export with no new responses
    output = selection.output_columns(questions)
    for chunk in chunks:
        frame = pd.DataFrame(index=pd.RangeIndex(len(chunk)))
        frame["responseId"] = chunk[sources["responseId"]].to_numpy()
        frame["recordedDate"] = (utc_iso(chunk[sources["recordedDate"]].reset_index(drop=True), timezone)
                                 if "recordedDate" in sources else None)
        frame["finished"] = (_finished(chunk[sources["finished"]]).to_numpy() if "finished" in sources
                             else True)
        for column in output[3:]:
            frame[column] = chunk[sources[column]].to_numpy()
        yield ResponseBatch(frame[output])


# ---------------------------------------------------------------- JSON / NDJSON

def _ndjson_records(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    for line in io.TextIOWrapper(stream, encoding="utf-8-sig"):
        if line.strip():
            yield json.loads(line)


def _json_records(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    """Response objects of ``{"responses": [...]}``, decoded one at a time from a sliding text buffer."""
    decoder = json.JSONDecoder()
    text = io.TextIOWrapper(stream, encoding="utf-8-sig")
    buffer = ""
    eof = False

    def fill() -> bool:
        nonlocal buffer, eof
        chunk = text.read(_READ_SIZE)
        if not chunk:
            eof = True
            return False
        buffer += chunk
        return True

    opening = re.compile(r'"responses"\s*:\s*\[')
    while (match := opening.search(buffer)) is None:
        if not fill():
            raise CorruptExport('The JSON export has no "responses" list; download it again.')
    pos = match.end()
    while True:
        while True:
            while pos < len(buffer) and buffer[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buffer) or not fill():
                break
        if pos >= len(buffer):
            raise CorruptExport("The JSON export ends in the middle of its responses; download it again.")
        if buffer[pos] == "]":
            return
        try:
            record, end = decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError:
            if eof:
                raise
            buffer, pos = buffer[pos:], 0  # the object continues past the buffer: read on and retry
            if not fill():
                raise
            continue
        yield record
        pos = end
        if pos > _READ_SIZE:
            buffer, pos = buffer[pos:], 0


def _record_batches(records: Iterable[dict[str, Any]], selection: _Selection, batch_rows: int,
                    require_dates: bool = False) -> Iterator[ResponseBatch]:
    """Columnar batches from JSON response records. The per-record loop only appends raw values to parallel
    lists (it is the hot path); conversion to strings and bools happens per column when a batch is flushed."""
    discover = selection.question_ids is None
    questions: list[str] = list(selection.question_ids or ())
    keys: list[str] = [*questions, *selection.embedded_data]
    response_ids: list[Any] = []
    dates: list[Any] = []
    finished: list[Any] = []
    columns: list[list[Any]] = [[] for _ in keys]

    def flush() -> ResponseBatch:
        if require_dates and any(d is None for d in dates):
            raise QualtricsError(
                "This JSON export has responses without recordedDate; export again including the recorded date "
                "metadata.")
        frame = pd.DataFrame({
            "responseId": pd.Series(response_ids, dtype=str),
            "recordedDate": utc_iso(pd.Series(dates, dtype=str), None),
            "finished": pd.Series([v in _TRUE_VALUES for v in finished], dtype=bool),
        })
        for key, values in zip(keys, columns):
            frame[key] = pd.Series(list(map(_text, values)), dtype=str)
        return ResponseBatch(frame[selection.output_columns(questions)])

    for record in records:
        values = record.get("values") or {}
        if discover:  # answer columns appear as they are met; earlier rows of the batch get None
            for key in values:
                if key not in keys and _ANSWER_COLUMN.match(key):
                    questions.append(key)
                    keys.insert(len(questions) - 1, key)
                    columns.insert(len(questions) - 1, [None] * len(response_ids))
        response_ids.append(record.get("responseId") or values.get("_recordId"))
        dates.append(values.get("recordedDate"))
        finished.append(values.get("finished", 1))
        for key, column in zip(keys, columns):
            column.append(values.get(key))
        if len(response_ids) >= batch_rows:
            yield flush()
            response_ids, dates, finished = [], [], []
            columns = [[] for _ in keys]
    if response_ids:
        yield flush()


def response_batch(record: dict[str, Any], question_ids: Iterable[str], embedded_data: Iterable[str] = ()
                   ) -> ResponseBatch:
    """One JSON response record (a single-response GET or one export record) as a one-row batch, with the
    same columns and conversions as an export of ``question_ids`` and ``embedded_data``."""
    selection = _Selection(tuple(question_ids), tuple(embedded_data))
    return next(_record_batches([record], selection, 1))


def export_member_format(path: str | Path) -> str:
    """The format of an export file (``csv``, ``json`` or ``ndjson``), looking inside a zip."""
    with ExitStack() as stack:
        return _open_export(Path(path), stack)[2]


def answer_labels(path: str | Path, question_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """The choice labels a JSON/NDJSON export carries next to its values: ``{question: {value: label}}``
    (labels as Qualtrics stored them, HTML included). A CSV holds values or labels, never both: ``{}``.

    A second pass over the file, kept apart from :func:`read_export_file` because only ``score FILE`` needs it
    (the app maps answers with the survey definition)."""
    wanted = tuple(dict.fromkeys(question_ids))
    found: dict[str, dict[str, str]] = {q: {} for q in wanted}
    path = Path(path)
    with ExitStack() as stack:
        stream, _size, fmt = _open_export(path, stack)
        if fmt == "csv":
            return {}
        counted = io.BufferedReader(_CountingReader(stream, 1, None), _READ_SIZE)
        try:
            for record in (_json_records(counted) if fmt == "json" else _ndjson_records(counted)):
                values, labels = record.get("values") or {}, record.get("labels") or {}
                for q in wanted:
                    label, value = labels.get(q), _text(values.get(q))
                    if isinstance(label, str) and value is not None and "," not in value:
                        found[q].setdefault(value, label)
        except (UnicodeDecodeError, RecursionError, zipfile.BadZipFile, EOFError, OSError, ValueError,
                TypeError, AttributeError, MemoryError) as exc:
            raise CorruptExport(
                f"The export file {path.name} could not be read ({type(exc).__name__}); download it again.") from exc
    return {q: labels for q, labels in found.items() if labels}

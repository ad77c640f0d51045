"""Export file layouts, vectorised: which fields an export has and how a block of responses becomes CSV rows or
JSON records.

Real layouts (shared/fixtures/qualtrics-real): CSV has three header rows (export tag names, question text, ImportId
JSON) and CRLF row ends; JSON records are ``{responseId, values, labels, displayedFields, displayedValues}``.
Speed matters (a million responses in seconds), so nearly every field is a lookup table rendered once per export
and indexed per block with numpy; only the final join of a row's cells is a Python loop.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .catalog import QuestionSpec, SurveySpec
from .generator import DISTRIBUTION_CHANNELS, LOCATIONS, Block, answer_slots, base_vocabulary

# (ImportId, CSV column name, CSV label row) of the 17 survey metadata fields, in export order.
METADATA = (
    ("startDate", "StartDate", "Start Date"),
    ("endDate", "EndDate", "End Date"),
    ("status", "Status", "Response Type"),
    ("ipAddress", "IPAddress", "IP Address"),
    ("progress", "Progress", "Progress"),
    ("duration", "Duration (in seconds)", "Duration (in seconds)"),
    ("finished", "Finished", "Finished"),
    ("recordedDate", "RecordedDate", "Recorded Date"),
    ("_recordId", "ResponseId", "Response ID"),
    ("recipientLastName", "RecipientLastName", "Recipient Last Name"),
    ("recipientFirstName", "RecipientFirstName", "Recipient First Name"),
    ("recipientEmail", "RecipientEmail", "Recipient Email"),
    ("externalDataReference", "ExternalReference", "External Data Reference"),
    ("locationLatitude", "LocationLatitude", "Location Latitude"),
    ("locationLongitude", "LocationLongitude", "Location Longitude"),
    ("distributionChannel", "DistributionChannel", "Distribution Channel"),
    ("userLanguage", "UserLanguage", "User Language"),
)
METADATA_IDS = tuple(m[0] for m in METADATA)
NPS_GROUP_LABELS = ("Detractor", "Passive", "Promoter")
NPS_GROUPS = (1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 3)  # by score 0..10
_DATE_FIELDS = {"startDate", "endDate", "recordedDate"}


def csv_quote(text: str) -> str:
    """One CSV cell as the csv module (QUOTE_MINIMAL) writes it."""
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Options:
    use_labels: bool
    time_zone: str | None


@dataclass
class Column:
    """One export field. ``cells`` gives CSV cells (already quoted); ``values``/``labels`` give JSON fragments
    ``"key":value`` per row, "" where the field is absent from the record."""

    name: str
    label: str
    import_id: dict[str, str]
    key: str
    cells: Callable[[Block, Options], np.ndarray]
    values: Callable[[Block], np.ndarray]
    labels: Callable[[Block], np.ndarray] | None = None
    displayed: str | None = None  # '"key":[...]' displayedValues fragment of a choice field
    question: bool = False  # listed in displayedFields when shown
    in_csv: bool = True  # a multiple-answer question is one JSON field but one CSV column per choice
    in_json: bool = True


class Table:
    """A field whose values come from a small table indexed per response (-1 = blank/absent)."""

    def __init__(self, key: str, csv_values: list[str], csv_labels: list[str] | None, json_values: list[Any],
                 json_labels: list[str] | None = None) -> None:
        self.csv_values = np.asarray([*map(csv_quote, csv_values), ""], dtype=object)
        self.csv_labels = np.asarray([*map(csv_quote, csv_labels or csv_values), ""], dtype=object)
        self.json_values = np.asarray([*(f'"{key}":{_dumps(v)}' for v in json_values), ""], dtype=object)
        self.json_labels = (np.asarray([*(f'"{key}":{_dumps(v)}' for v in json_labels), ""], dtype=object)
                            if json_labels is not None else None)

    def column(self, name: str, label: str, import_id: dict[str, str], key: str,
               index: Callable[[Block], np.ndarray], displayed: list[Any] | None = None,
               question: bool = False) -> Column:
        labels = None
        if self.json_labels is not None:
            table = self.json_labels
            labels = lambda b: table[index(b)]  # noqa: E731
        return Column(
            name, label, import_id, key,
            cells=lambda b, o: (self.csv_labels if o.use_labels else self.csv_values)[index(b)],
            values=lambda b: self.json_values[index(b)],
            labels=labels,
            displayed=f'"{key}":{_dumps(displayed)}' if displayed is not None else None,
            question=question,
        )


def _csv_dates(ms: np.ndarray, options: Options) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS' in the export's time zone (UTC unless timeZone was given)."""
    if options.time_zone:
        local = pd.to_datetime(ms, unit="ms", utc=True).tz_convert(options.time_zone).tz_localize(None)
        seconds = local.to_numpy().astype("datetime64[s]")
    else:
        seconds = ms.astype("datetime64[ms]").astype("datetime64[s]")
    raw = np.datetime_as_string(seconds, unit="s").astype("S19")
    raw.view(np.uint8).reshape(-1, 19)[:, 10] = ord(" ")
    return raw.astype("U19").astype(object)


def _json_dates(key: str, ms: np.ndarray, unit: str) -> np.ndarray:
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit=unit)
    return np.strings.add(np.strings.add(f'"{key}":"', text), 'Z"').astype(object)


def _json_string(key: str, values: np.ndarray) -> np.ndarray:
    return np.strings.add(np.strings.add(f'"{key}":"', values), '"').astype(object)


def _start_ms(b: Block) -> np.ndarray:
    return b.recorded_ms - b.duration * 1000


_NUMBERS = [str(i) for i in range(3601)]  # progress and duration (capped at an hour) as table lookups


@functools.lru_cache(maxsize=None)
def _metadata_table(field_id: str) -> tuple[Table, Callable[[Block], np.ndarray]] | None:
    """The lookup table of a metadata field that takes few distinct values (built once per process)."""
    def const(b: Block) -> np.ndarray:
        return np.zeros(len(b), dtype=np.int64)

    ips = [f"198.51.100.{i}" for i in range(256)]
    factories: dict[str, Callable[[], tuple[Table, Callable[[Block], np.ndarray]]]] = {
        "status": lambda: (Table(field_id, ["0"], ["IP Address"], [0], ["IP Address"]), const),
        "finished": lambda: (Table(field_id, ["0", "1"], ["False", "True"], [0, 1], ["False", "True"]),
                             lambda b: b.finished),
        "distributionChannel": lambda: (Table(field_id, list(DISTRIBUTION_CHANNELS), None,
                                              list(DISTRIBUTION_CHANNELS)), lambda b: b.distribution),
        "userLanguage": lambda: (Table(field_id, ["EN"], None, ["EN"]), const),
        "ipAddress": lambda: (Table(field_id, ips, None, ips), lambda b: b.ip_octet),
        "progress": lambda: (Table(field_id, _NUMBERS[:101], None, list(range(101))), lambda b: b.progress),
        "duration": lambda: (Table(field_id, _NUMBERS, None, list(range(3601))), lambda b: b.duration),
        "locationLatitude": lambda: (Table(field_id, [p[0] for p in LOCATIONS], None, [p[0] for p in LOCATIONS]),
                                     lambda b: b.location),
        "locationLongitude": lambda: (Table(field_id, [p[1] for p in LOCATIONS], None, [p[1] for p in LOCATIONS]),
                                      lambda b: b.location),
    }
    factory = factories.get(field_id)
    return factory() if factory else None


def _metadata_column(field_id: str, name: str, label: str, time_zone: str | None) -> Column:
    import_id = {"ImportId": field_id}
    if field_id in _DATE_FIELDS:  # an export requested without timeZone is in UTC and says "Z" (real exports)
        import_id["timeZone"] = time_zone or "Z"
    table = _metadata_table(field_id)
    if table is not None:
        return table[0].column(name, label, import_id, field_id, table[1])
    computed: dict[str, tuple[Callable, Callable]] = {
        "startDate": (lambda b, o: _csv_dates(_start_ms(b), o), lambda b: _json_dates(field_id, _start_ms(b), "s")),
        "endDate": (lambda b, o: _csv_dates(b.recorded_ms, o), lambda b: _json_dates(field_id, b.recorded_ms, "s")),
        "recordedDate": (lambda b, o: _csv_dates(b.recorded_ms, o),
                         lambda b: _json_dates(field_id, b.recorded_ms, "ms")),
        "_recordId": (lambda b, o: b.response_id.astype(object),
                      lambda b: _json_string(field_id, b.response_id)),
    }
    # recipient fields and the external reference are blank for anonymous-link responses
    cells, values = computed.get(
        field_id, (lambda b, o: np.full(len(b), "", dtype=object), lambda b: np.full(len(b), "", dtype=object))
    )
    return Column(name, label, import_id, field_id, cells, values)


def _choice_column(name: str, label: str, slot: str, q: QuestionSpec) -> Column:
    recodes = [c.recode for c in q.choices]
    labels = [c.variable_name or c.label for c in q.choices]
    numbers = [_number(r) for r in recodes]
    table = Table(slot, recodes, labels, numbers, labels)
    return table.column(name, label, {"ImportId": slot}, slot, lambda b: b.answers[slot], numbers, question=True)


def _nps_group_column(name: str, label: str, key: str, slot: str) -> Column:
    names = [NPS_GROUP_LABELS[g - 1] for g in NPS_GROUPS]
    table = Table(key, [str(g) for g in NPS_GROUPS], names, list(NPS_GROUPS), names)
    return table.column(name, label, {"ImportId": key}, key, lambda b: b.answers[slot], list(NPS_GROUPS),
                        question=True)


def _text_column(name: str, label: str, key: str, texts: tuple[str, ...]) -> Column:
    table = Table(key, list(texts), None, list(texts))
    return table.column(name, label, {"ImportId": key}, key, lambda b: b.answers[key], question=True)


def _embedded_column(name: str, values: tuple[str, ...], index: Callable[[Block], np.ndarray]) -> Column:
    return Table(name, list(values), None, list(values)).column(name, name, {"ImportId": name}, name, index)


def _multi_columns(q: QuestionSpec, survey: SurveySpec) -> list[Column]:
    """A multiple-answer question: one CSV column per choice ("1" when selected, the breakout real exports make
    by default), one JSON field listing the selected choice ids. Selected = rated in the matrix that carries
    the selections forward (its rows ``x<choice id>``)."""
    matrix = next((m for m in survey.questions if m.carried_from == q.qid), None)
    slots = [f"{matrix.qid}_x{c.id}" if matrix else "" for c in q.choices]

    def selected(b: Block, slot: str) -> np.ndarray:
        return b.answers[slot] >= 0 if slot in b.answers else np.zeros(len(b), dtype=bool)

    columns = []
    for c, slot in zip(q.choices, slots):
        key = f"{q.qid}_{c.id}"
        table = Table(key, ["1"], [c.label], [1])
        column = table.column(f"{q.tag}_{c.id}", f"{q.text} - Selected Choice - {c.label}",
                              {"ImportId": q.qid, "choiceId": c.id}, key,
                              lambda b, slot=slot: np.where(selected(b, slot), 0, -1))
        column.in_json = False
        columns.append(column)
    combos = range(1 << len(q.choices))
    ids = [[c.id for i, c in enumerate(q.choices) if mask >> i & 1] for mask in combos]
    labels = [[c.label for i, c in enumerate(q.choices) if mask >> i & 1] for mask in combos]

    def bitmask(b: Block) -> np.ndarray:
        mask = sum((selected(b, slot).astype(np.int64) << i for i, slot in enumerate(slots)),
                   np.zeros(len(b), dtype=np.int64))
        return np.where(mask == 0, -1, mask)

    table = Table(q.qid, [""] * len(ids), None, ids, labels)
    column = table.column(q.qid, q.text, {"ImportId": q.qid}, q.qid, bitmask,
                          [_number(c.recode) for c in q.choices], question=True)
    column.in_csv = False
    return [*columns, column]


def _label(q: QuestionSpec, slot: str) -> str:
    """The question-text header of a slot: a loop iteration's text has its loop field piped in."""
    if not q.loop:
        return q.text
    return q.text.replace("${lm://Field/1}", q.loop[int(slot.split("_", 1)[0]) - 1])


def build_columns(survey: SurveySpec, question_ids: tuple[str, ...], metadata_ids: tuple[str, ...],
                  embedded_ids: tuple[str, ...], time_zone: str | None,
                  vocabulary: dict[str, tuple[str, ...]] | None = None) -> list[Column]:
    """The export's columns; ``vocabulary`` (`ResponseStore.vocabulary`) holds the values of open-text slots and
    embedded fields, including those given through the survey link (default: the built-in ones). Column names
    are the ImportIds with the question id replaced by its export tag: ``1_QID1`` -> ``1_Q1``, ``QID2_x1`` ->
    ``Q2_x1``."""
    vocabulary = vocabulary if vocabulary is not None else base_vocabulary(survey)
    by_id = {m[0]: m for m in METADATA}
    columns = [_metadata_column(*by_id[m], time_zone) for m in metadata_ids]
    for q in survey.questions:
        if q.export_qid not in question_ids:
            continue
        slots = answer_slots(q)

        def name(slot: str, q: QuestionSpec = q) -> str:
            return slot.replace(q.qid, q.tag, 1)

        if q.kind == "nps":
            for slot in slots:
                columns.append(_nps_group_column(f"{name(slot)}_NPS_GROUP", f"{_label(q, slot)} - Group",
                                                 f"{slot}_NPS_GROUP", slot))
                columns.append(_choice_column(name(slot), _label(q, slot), slot, q))
        elif q.kind == "mc":
            columns.extend(_choice_column(name(slot), _label(q, slot), slot, q) for slot in slots)
        elif q.kind == "matrix":
            for row, slot in zip(q.rows * max(len(q.loop), 1), slots):
                columns.append(_choice_column(name(slot), f"{_label(q, slot)} - {row.label}", slot, q))
        elif q.kind == "multi":
            columns.extend(_multi_columns(q, survey))
        else:
            slot = slots[0]
            columns.append(_text_column(q.tag, q.text, slot, vocabulary[slot]))
    sources = {"region": lambda b: b.region, "channel": lambda b: b.channel}
    blank = lambda b: np.full(len(b), -1)  # noqa: E731 - fields a loaded QSF declares are never set
    for field_name in embedded_ids:
        columns.append(_embedded_column(field_name, vocabulary.get(field_name, ()), sources.get(field_name, blank)))
    return columns


def csv_header(columns: list[Column]) -> str:
    columns = [c for c in columns if c.in_csv]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    writer.writerow([c.label for c in columns])
    writer.writerow([_dumps(c.import_id) for c in columns])
    return buffer.getvalue()


def csv_rows(block: Block, columns: list[Column], options: Options) -> str:
    cells = [c.cells(block, options) for c in columns if c.in_csv]
    return "".join(",".join(row) + "\r\n" for row in zip(*cells))


def json_records(block: Block, columns: list[Column]) -> list[str]:
    """One JSON object per response, as text (the caller joins them into JSON or NDJSON)."""
    columns = [c for c in columns if c.in_json]
    ids = block.response_id.tolist()
    values = [c.values(block).tolist() for c in columns]
    labels = [c.labels(block).tolist() for c in columns if c.labels is not None]
    questions = [(i, c) for i, c in enumerate(columns) if c.question]
    full_fields = _dumps([c.key for _, c in questions])
    full_displayed = "{" + ",".join(c.displayed for _, c in questions if c.displayed) + "}"
    label_rows = zip(*labels) if labels else itertools.repeat(())
    out = []
    for rid, finished, value_row, label_row in zip(ids, block.finished.tolist(), zip(*values), label_rows):
        if finished:
            fields, displayed = full_fields, full_displayed
        else:  # a partial response saw only the questions it answered
            shown = [c for i, c in questions if value_row[i]]
            fields = _dumps([c.key for c in shown])
            displayed = "{" + ",".join(c.displayed for c in shown if c.displayed) + "}"
        out.append(
            '{"responseId":"' + rid + '","values":{' + ",".join(filter(None, value_row))
            + '},"labels":{' + ",".join(filter(None, label_row))
            + '},"displayedFields":' + fields + ',"displayedValues":' + displayed + "}"
        )
    return out

"""The asynchronous response export: request validation, the background job that streams generated responses
into a (zipped) CSV / JSON / NDJSON file, and continuation tokens.

Files are written chunk by chunk from `ResponseStore.blocks`, so memory stays flat however many responses a
survey has. Layouts follow the real exports in shared/fixtures/qualtrics-real: three CSV header rows (export
tags, question text, ImportId JSON), CRLF row ends, a zip named after the survey holding "<Survey Name>.csv".
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from .catalog import CHANNELS, REGIONS, QuestionSpec, SurveySpec
from .generator import DISTRIBUTION_CHANNELS, Block, ResponseStore, answer_slots

FORMATS = {"csv": "text/csv", "json": "application/json", "ndjson": "application/x-ndjson"}
KNOWN_FIELDS = {
    "format", "startDate", "endDate", "limit", "useLabels", "compress", "breakoutSets", "exportResponsesInProgress",
    "filterId", "formatDecimalAsComma", "includeDisplayOrder", "seenUnansweredRecode",
    "multiselectSeenUnansweredRecode", "newlineReplacement", "timeZone", "questionIds", "embeddedDataIds",
    "surveyMetadataIds", "continuationToken", "allowContinuation", "includeLabelColumns", "sortByLastModifiedDate",
}

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
_DATE_FIELDS = {"startDate", "endDate", "recordedDate"}
NPS_GROUP_LABELS = ("Detractor", "Passive", "Promoter")


class ExportRequestError(ValueError):
    """A request body the real API would reject with 400."""


def _parse_time(value: Any, name: str) -> int:
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ExportRequestError(f"Invalid {name}: expected an ISO-8601 date-time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return int(moment.timestamp() * 1000)


@dataclass
class ExportRequest:
    """A validated ``POST /export-responses`` body."""

    format: str
    question_ids: tuple[str, ...]
    metadata_ids: tuple[str, ...]
    embedded_ids: tuple[str, ...]
    start_ms: int | None = None
    end_ms: int | None = None
    limit: int | None = None
    use_labels: bool = False
    compress: bool = True
    time_zone: str | None = None
    allow_continuation: bool = False
    continuation_token: str | None = None

    @classmethod
    def parse(cls, body: Any, survey: SurveySpec) -> "ExportRequest":
        if not isinstance(body, dict):
            raise ExportRequestError("Request body must be a JSON object")
        unknown = sorted(set(body) - KNOWN_FIELDS)
        if unknown:
            raise ExportRequestError(f"Unrecognized field(s) in request body: {', '.join(unknown)}")
        fmt = body.get("format")
        if fmt not in FORMATS:
            raise ExportRequestError("format must be one of csv, json, ndjson (the sandbox exports no spss/tsv/xml)")
        qids = {q.qid for q in survey.questions}
        question_ids = body.get("questionIds", [q.qid for q in survey.questions])
        if not isinstance(question_ids, list) or any(q not in qids for q in question_ids):
            raise ExportRequestError(f"Invalid questionIds: {question_ids!r}")
        metadata_ids = body.get("surveyMetadataIds", list(METADATA_IDS))
        if not isinstance(metadata_ids, list) or any(m not in METADATA_IDS for m in metadata_ids):
            raise ExportRequestError(f"Invalid surveyMetadataIds: {metadata_ids!r}")
        embedded_ids = body.get("embeddedDataIds", list(survey.embedded_fields))
        if not isinstance(embedded_ids, list) or any(e not in survey.embedded_fields for e in embedded_ids):
            raise ExportRequestError(f"Invalid embeddedDataIds: {embedded_ids!r}")
        limit = body.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise ExportRequestError("limit must be a positive integer")
        time_zone = body.get("timeZone")
        if time_zone is not None:
            try:
                ZoneInfo(str(time_zone))
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ExportRequestError(f"Invalid timeZone: {time_zone!r}") from exc
        if body.get("continuationToken") is not None and body.get("allowContinuation") is False:
            pass  # a last export with a token that asks for no new token is legal
        return cls(
            format=fmt,
            question_ids=tuple(q.qid for q in survey.questions if q.qid in set(question_ids)),
            metadata_ids=tuple(m for m in METADATA_IDS if m in set(metadata_ids)),
            embedded_ids=tuple(e for e in survey.embedded_fields if e in set(embedded_ids)),
            start_ms=_parse_time(body["startDate"], "startDate") if body.get("startDate") else None,
            end_ms=_parse_time(body["endDate"], "endDate") if body.get("endDate") else None,
            limit=limit,
            use_labels=bool(body.get("useLabels", False)),
            compress=bool(body.get("compress", True)),
            time_zone=time_zone,
            allow_continuation=bool(body.get("allowContinuation", False)),
            continuation_token=body.get("continuationToken"),
        )


class ContinuationTokens:
    """Opaque, tamper-evident tokens: (survey, index of the first response not yet exported), HMAC-signed."""

    def __init__(self, seed: int) -> None:
        self._key = hashlib.sha256(f"journey-pulse-sandbox:{seed}".encode()).digest()

    def issue(self, survey_id: str, watermark: int) -> str:
        payload = f"{survey_id}.{watermark}".encode()
        sig = hmac.new(self._key, payload, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(payload + b"." + sig).decode().rstrip("=")

    def read(self, token: str, survey_id: str) -> int:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            payload, sig = raw[: -13], raw[-12:]
            if raw[-13:-12] != b"." or not hmac.compare_digest(hmac.new(self._key, payload, hashlib.sha256).digest()[:12], sig):
                raise ValueError
            token_survey, watermark = payload.decode().rsplit(".", 1)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ExportRequestError("Invalid continuationToken") from exc
        if token_survey != survey_id:
            raise ExportRequestError("continuationToken belongs to another survey")
        return int(watermark)


# ---------------------------------------------------------------- columns


@dataclass
class Column:
    """One export field: CSV header, label row, ImportId, JSON key, and how to get its values from a block."""

    name: str
    label: str
    import_id: dict[str, str]
    key: str
    values: Callable[[Block, "Formatter"], np.ndarray]  # CSV cell strings ("" = blank)
    json_values: Callable[[Block], list[Any]]  # JSON values (None = absent)
    json_labels: Callable[[Block], list[Any]] | None = None
    displayed: list[Any] | None = None  # displayedValues entry for choice fields


@dataclass
class Formatter:
    time_zone: str | None
    use_labels: bool

    def csv_dates(self, ms: np.ndarray) -> np.ndarray:
        stamps = pd.to_datetime(ms, unit="ms", utc=True)
        if self.time_zone:
            stamps = stamps.tz_convert(self.time_zone)
        return np.asarray(stamps.strftime("%Y-%m-%d %H:%M:%S"), dtype=object)


def _json_iso(ms: np.ndarray, millis: bool) -> list[str]:
    stamps = pd.to_datetime(ms, unit="ms", utc=True)
    text = stamps.strftime("%Y-%m-%dT%H:%M:%S.%f" if millis else "%Y-%m-%dT%H:%M:%S")
    return [t[:-3] + "Z" for t in text] if millis else [t + "Z" for t in text]


def _lookup(table: list[Any], index: np.ndarray) -> np.ndarray:
    """table[index] with -1 mapping to the blank value at the end."""
    return np.asarray([*table, ""], dtype=object)[index]


def _json_lookup(table: list[Any], index: np.ndarray) -> list[Any]:
    return np.asarray([*table, None], dtype=object)[index].tolist()


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _metadata_column(field_id: str, name: str, label: str, tz: str | None) -> Column:
    import_id = {"ImportId": field_id}
    if field_id in _DATE_FIELDS and tz:
        import_id["timeZone"] = tz

    def start_ms(b: Block) -> np.ndarray:
        return b.recorded_ms - b.duration * 1000

    simple: dict[str, tuple[Callable, Callable]] = {
        "startDate": (lambda b, f: f.csv_dates(start_ms(b)), lambda b: _json_iso(start_ms(b), False)),
        "endDate": (lambda b, f: f.csv_dates(b.recorded_ms), lambda b: _json_iso(b.recorded_ms, False)),
        "recordedDate": (lambda b, f: f.csv_dates(b.recorded_ms), lambda b: _json_iso(b.recorded_ms, True)),
        "status": (lambda b, f: np.full(len(b), "IP Address" if f.use_labels else "0", dtype=object),
                   lambda b: [0] * len(b)),
        "ipAddress": (lambda b, f: np.char.add("198.51.100.", b.ip_octet.astype(str)).astype(object),
                      lambda b: np.char.add("198.51.100.", b.ip_octet.astype(str)).tolist()),
        "progress": (lambda b, f: b.progress.astype(str).astype(object), lambda b: b.progress.tolist()),
        "duration": (lambda b, f: b.duration.astype(str).astype(object), lambda b: b.duration.tolist()),
        "finished": (lambda b, f: _lookup(["False", "True"] if f.use_labels else ["0", "1"], b.finished),
                     lambda b: b.finished.tolist()),
        "_recordId": (lambda b, f: b.response_id.astype(object), lambda b: b.response_id.tolist()),
        "locationLatitude": (lambda b, f: b.latitude.astype(str).astype(object), lambda b: b.latitude.astype(str).tolist()),
        "locationLongitude": (lambda b, f: b.longitude.astype(str).astype(object),
                              lambda b: b.longitude.astype(str).tolist()),
        "distributionChannel": (lambda b, f: _lookup(list(DISTRIBUTION_CHANNELS), b.distribution),
                                lambda b: _json_lookup(list(DISTRIBUTION_CHANNELS), b.distribution)),
        "userLanguage": (lambda b, f: np.full(len(b), "EN", dtype=object), lambda b: ["EN"] * len(b)),
    }
    csv_fn, json_fn = simple.get(
        field_id, (lambda b, f: np.full(len(b), "", dtype=object), lambda b: [None] * len(b))
    )
    labels = None
    if field_id == "status":
        labels = lambda b: ["IP Address"] * len(b)  # noqa: E731
    elif field_id == "finished":
        labels = lambda b: _json_lookup(["False", "True"], b.finished)  # noqa: E731
    return Column(name, label, import_id, field_id, csv_fn, json_fn, labels)


def _choice_column(name: str, label: str, key: str, slot: str, q: QuestionSpec) -> Column:
    recodes = [c.recode for c in q.choices]
    labels = [c.variable_name or c.label for c in q.choices]
    numbers = [_number(r) for r in recodes]
    return Column(
        name,
        label,
        {"ImportId": key},
        key,
        lambda b, f: _lookup(labels if f.use_labels else recodes, b.answers[slot]),
        lambda b: _json_lookup(numbers, b.answers[slot]),
        lambda b: _json_lookup(labels, b.answers[slot]),
        displayed=numbers,
    )


def _nps_group_column(name: str, label: str, key: str, slot: str) -> Column:
    groups = [1] * 7 + [2] * 2 + [3] * 2  # choice index == score 0..10
    return Column(
        name,
        label,
        {"ImportId": key},
        key,
        lambda b, f: _lookup([NPS_GROUP_LABELS[g - 1] for g in groups] if f.use_labels else [str(g) for g in groups],
                             b.answers[slot]),
        lambda b: _json_lookup(groups, b.answers[slot]),
        lambda b: _json_lookup([NPS_GROUP_LABELS[g - 1] for g in groups], b.answers[slot]),
        displayed=groups,
    )


def _text_column(name: str, label: str, key: str, q: QuestionSpec) -> Column:
    themes = list(q.themes)
    return Column(name, label, {"ImportId": key}, key, lambda b, f: _lookup(themes, b.answers[key]),
                  lambda b: _json_lookup(themes, b.answers[key]))


def _embedded_column(name: str, values: tuple[str, ...], attribute: str) -> Column:
    table = list(values)
    return Column(name, name, {"ImportId": name}, name, lambda b, f: _lookup(table, getattr(b, attribute)),
                  lambda b: _json_lookup(table, getattr(b, attribute)))


def build_columns(survey: SurveySpec, request: ExportRequest) -> list[Column]:
    by_id = {m[0]: m for m in METADATA}
    columns = [_metadata_column(*by_id[m], request.time_zone) for m in request.metadata_ids]
    for q in survey.questions:
        if q.qid not in request.question_ids:
            continue
        if q.kind == "nps":
            columns.append(_nps_group_column(f"{q.tag}_NPS_GROUP", f"{q.text} - Group", f"{q.qid}_NPS_GROUP", q.qid))
            columns.append(_choice_column(q.tag, q.text, q.qid, q.qid, q))
        elif q.kind == "mc":
            columns.append(_choice_column(q.tag, q.text, q.qid, q.qid, q))
        elif q.kind == "matrix":
            for row, slot in zip(q.rows, answer_slots(q)):
                columns.append(_choice_column(f"{q.tag}_{row.id}", f"{q.text} - {row.label}", slot, slot, q))
        else:
            columns.append(_text_column(q.tag, q.text, answer_slots(q)[0], q))
    sources = {"region": (REGIONS, "region"), "channel": (CHANNELS, "channel")}
    for name in request.embedded_ids:
        columns.append(_embedded_column(name, *sources[name]))
    return columns


# ---------------------------------------------------------------- writers


def _csv_header(columns: list[Column]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    writer.writerow([c.label for c in columns])
    writer.writerow([json.dumps(c.import_id, separators=(",", ":")) for c in columns])
    return buffer.getvalue()


def _csv_rows(block: Block, columns: list[Column], fmt: Formatter) -> str:
    frame = pd.DataFrame({i: c.values(block, fmt) for i, c in enumerate(columns)})
    return frame.to_csv(header=False, index=False, lineterminator="\r\n")


def _json_records(block: Block, columns: list[Column]) -> Iterator[dict[str, Any]]:
    values = [(c.key, c.json_values(block)) for c in columns]
    labels = [(c.key, c.json_labels(block)) for c in columns if c.json_labels is not None]
    displayed = {c.key: c.displayed for c in columns if c.displayed is not None}
    question_keys = [c.key for c in columns if c.displayed is not None or c.key.endswith("_TEXT")]
    for row in range(len(block)):
        record_values = {k: v[row] for k, v in values if v[row] is not None}
        shown = [k for k in question_keys if block.finished[row] == 1 or k in record_values]
        yield {
            "responseId": block.response_id[row],
            "values": record_values,
            "labels": {k: v[row] for k, v in labels if v[row] is not None},
            "displayedFields": shown,
            "displayedValues": {k: displayed[k] for k in shown if k in displayed},
        }


@dataclass
class ExportJob:
    """One export: created by the start call, run in a thread, polled, then downloaded."""

    progress_id: str
    survey: SurveySpec
    request: ExportRequest
    first: int
    stop: int
    min_polls: int = 0
    fail: bool = False
    polls: int = 0
    fraction: float = 0.0
    status: str = "inProgress"
    file_id: str | None = None
    path: str | None = None
    error: str | None = None
    continuation_token: str | None = None
    rows_written: int = 0
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def download_name(self) -> str:
        return f"{self.survey.name}.{'zip' if self.request.compress else self.request.format}"

    @property
    def inner_name(self) -> str:
        return f"{self.survey.name}.{self.request.format}"

    def progress(self) -> dict[str, Any]:
        """The result of a progress poll; honours the slow-export fault by counting polls."""
        self.polls += 1
        held = self.polls <= self.min_polls
        if self.status == "inProgress" or held:
            percent = self.fraction * 100
            if held:
                percent = min(percent, 100.0 * self.polls / (self.min_polls + 1))
            return {"percentComplete": round(percent, 1), "status": "inProgress"}
        if self.status == "failed":
            return {"fileId": None, "percentComplete": 100.0, "status": "failed"}
        result: dict[str, Any] = {"fileId": self.file_id, "percentComplete": 100.0, "status": "complete"}
        if self.continuation_token:
            result["continuationToken"] = self.continuation_token
        return result


class Exporter:
    """Runs export jobs in background threads and keeps their files in a work folder."""

    def __init__(self, store: ResponseStore, tokens: ContinuationTokens, workdir: str) -> None:
        self.store = store
        self.tokens = tokens
        self.workdir = workdir
        self.jobs: dict[str, ExportJob] = {}
        self.files: dict[str, ExportJob] = {}
        self._lock = threading.Lock()

    def start(self, survey: SurveySpec, request: ExportRequest, *, min_polls: int, fail: bool) -> ExportJob:
        first = self.tokens.read(request.continuation_token, survey.id) if request.continuation_token else 0
        stop = self.store.total(survey)
        progress_id = "ES_" + uuid.uuid4().hex[:15]
        job = ExportJob(progress_id, survey, request, first=min(first, stop), stop=stop, min_polls=min_polls,
                        fail=fail)
        with self._lock:
            self.jobs[progress_id] = job
        threading.Thread(target=self._run, args=(job,), name=f"export-{progress_id}", daemon=True).start()
        return job

    def job(self, survey_id: str, progress_id: str) -> ExportJob | None:
        with self._lock:
            job = self.jobs.get(progress_id)
        return job if job and job.survey.id == survey_id else None

    def file(self, survey_id: str, file_id: str) -> ExportJob | None:
        with self._lock:
            job = self.files.get(file_id)
        return job if job and job.survey.id == survey_id else None

    def _run(self, job: ExportJob) -> None:
        try:
            if job.fail:
                raise RuntimeError("export job failed (sandbox fault)")
            file_id = f"{uuid.uuid4()}-def"
            path = os.path.join(self.workdir, file_id)
            with open(path, "wb") as raw:
                if job.request.compress:
                    with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
                        with archive.open(job.inner_name, "w", force_zip64=True) as member:
                            self._write(job, member)
                else:
                    self._write(job, raw)
            if job.request.allow_continuation:
                job.continuation_token = self.tokens.issue(job.survey.id, job.stop)
            job.file_id, job.path = file_id, path
            with self._lock:
                self.files[file_id] = job
            job.fraction, job.status = 1.0, "complete"
        except Exception as exc:  # a failed job is a state clients must see, not a crash of the server
            job.error, job.status = str(exc), "failed"
        finally:
            job.done.set()

    def _write(self, job: ExportJob, out: Any) -> None:
        request = job.request
        columns = build_columns(job.survey, request)
        fmt = Formatter(request.time_zone, request.use_labels)
        total = max(job.stop - job.first, 1)
        remaining = request.limit if request.limit is not None else None
        if request.format == "csv":
            out.write(_csv_header(columns).encode("utf-8"))
        elif request.format == "json":
            out.write(b'{"responses":[')
        first_record = True
        for block in self.store.blocks(job.survey, job.first, job.stop):
            job.fraction = min(0.99, (block.first - job.first) / total)
            mask = np.ones(len(block), dtype=bool)
            if request.start_ms is not None:
                mask &= block.recorded_ms >= request.start_ms
            if request.end_ms is not None:
                mask &= block.recorded_ms < request.end_ms
            if not mask.all():
                block = block.take(mask)
            if remaining is not None:
                block = block.take(slice(0, remaining))
                remaining -= len(block)
            if len(block):
                if request.format == "csv":
                    out.write(_csv_rows(block, columns, fmt).encode("utf-8"))
                else:
                    lines = [json.dumps(r, separators=(",", ":"), ensure_ascii=False)
                             for r in _json_records(block, columns)]
                    if request.format == "json":
                        text = ("" if first_record else ",") + ",".join(lines)
                    else:
                        text = "".join(line + "\n" for line in lines)
                    out.write(text.encode("utf-8"))
                    first_record = False
                job.rows_written += len(block)
            if remaining == 0:
                break
        if request.format == "json":
            out.write(b"]}")

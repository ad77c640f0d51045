"""The asynchronous response export: request validation, the background job that streams generated responses
into a (zipped) CSV / JSON / NDJSON file, and continuation tokens.

Files are written chunk by chunk from `ResponseStore.blocks`, so memory stays flat however many responses a
survey has. Layouts follow the real exports in shared/fixtures/qualtrics-real: three CSV header rows (export
tags, question text, ImportId JSON), CRLF row ends, a zip named after the survey holding "<Survey Name>.csv".
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from .catalog import SurveySpec
from .generator import ResponseStore
from .layout import METADATA_IDS, Options, build_columns, csv_header, csv_rows, json_records
from .signing import derive_key, seal, unseal

WRITE_SLICE = 10_000
_SIGNATURE_BYTES = 12
FORMATS = {"csv": "text/csv", "json": "application/json", "ndjson": "application/x-ndjson"}
KNOWN_FIELDS = {
    "format", "startDate", "endDate", "limit", "useLabels", "compress", "breakoutSets", "exportResponsesInProgress",
    "filterId", "formatDecimalAsComma", "includeDisplayOrder", "seenUnansweredRecode",
    "multiselectSeenUnansweredRecode", "newlineReplacement", "timeZone", "questionIds", "embeddedDataIds",
    "surveyMetadataIds", "continuationToken", "allowContinuation", "includeLabelColumns", "sortByLastModifiedDate",
}

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
        qids = {q.export_qid for q in survey.questions}
        question_ids = body.get("questionIds", sorted(qids))
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
            question_ids=tuple(dict.fromkeys(q.export_qid for q in survey.questions
                                             if q.export_qid in set(question_ids))),
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
    """Opaque, tamper-evident tokens: (survey, index of the first response not yet exported), HMAC-signed.
    The key depends on the seed alone, so a token stored before a restart still works afterwards."""

    def __init__(self, seed: int) -> None:
        self._key = derive_key(f"journey-pulse-sandbox:{seed}")

    def issue(self, survey_id: str, watermark: int) -> str:
        return seal(self._key, f"{survey_id}.{watermark}".encode(), _SIGNATURE_BYTES)

    def read(self, token: str, survey_id: str) -> int:
        payload = unseal(self._key, token, _SIGNATURE_BYTES)
        try:
            if payload is None:
                raise ValueError
            token_survey, watermark = payload.decode().rsplit(".", 1)
            position = int(watermark)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ExportRequestError("Invalid continuationToken") from exc
        if token_survey != survey_id:
            raise ExportRequestError("continuationToken belongs to another survey")
        return position


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
    started_at: float = field(default_factory=time.time)  # when the start call came (tests count exports by it)

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
        columns = build_columns(job.survey, request.question_ids, request.metadata_ids, request.embedded_ids,
                                request.time_zone, self.store.vocabulary(job.survey))
        options = Options(request.use_labels, request.time_zone)
        total = max(job.stop - job.first, 1)
        remaining = request.limit
        if request.format == "csv":
            out.write(csv_header(columns).encode("utf-8"))
        elif request.format == "json":
            out.write(b'{"responses":[')
        separator = ""
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
            # write in slices so the per-row strings of one slice are all that is held at once
            for start in range(0, len(block), WRITE_SLICE):
                part = block.take(slice(start, start + WRITE_SLICE))
                if request.format == "csv":
                    out.write(csv_rows(part, columns, options).encode("utf-8"))
                elif request.format == "json":
                    out.write((separator + ",".join(json_records(part, columns))).encode("utf-8"))
                    separator = ","
                else:
                    out.write("".join(r + "\n" for r in json_records(part, columns)).encode("utf-8"))
                job.rows_written += len(part)
            if remaining == 0:
                break
        if request.format == "json":
            out.write(b"]}")

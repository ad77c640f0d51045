"""The asynchronous response export: start, poll, download, then parse incrementally.

Nothing is held in memory beyond one batch: the file is streamed to a temporary directory (deleted when the
batches are consumed or the generator is closed) and read back with :func:`read_export_file`.
A damaged download (broken zip, connection dropped mid-body) is fetched once more before giving up.
"""

from __future__ import annotations

import csv
import io
import itertools
import re

import shutil
import tempfile
import time
import zipfile
from contextlib import ExitStack
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
    wait_random,
)
from tenacity.wait import wait_base

from qualtrics.errors import CorruptExport, ExportFailed, ExportTimeout, NotFound, QualtricsError
from qualtrics.models import DEFAULT_BATCH_ROWS, Progress, ResponseBatch

#: Metadata the sync needs; everything else (IP address, location...) is left out of the export on purpose.
SURVEY_METADATA_IDS: tuple[str, ...] = ("recordedDate", "finished", "_recordId")
#: Format of the sync path. Measured with bench/bench_export.py (1M NPS responses, 2 CPUs): CSV through pandas'
#: chunked C reader parses ~690k responses/s (20.6 MB file), NDJSON ~140k/s and JSON ~170k/s (36.7 MB each),
#: all at flat memory (tracemalloc peak 4.1 / 6.0 / 12.3 MB from 100k to 1M responses).
SYNC_FORMAT = "csv"
_DOWNLOAD_CHUNK = 1 << 20
#: ``on_job(progress_id, file_id)``: told when the job has started (file None) and when its file is ready.
JobCallback = Callable[[str, "str | None"], None]


@dataclass(frozen=True)
class PollPolicy:
    """Export polling: exponential backoff from ``initial`` up to ``maximum`` seconds, until ``deadline``.

    The backoff keeps a long export to a poll every few seconds (what Qualtrics asks of clients). Each wait is
    shortened towards the finish the job's ``percentComplete`` projects, but never below ``floor`` times the
    backoff step, so a job stuck at 99 % is still polled at a backing-off pace rather than hammered.
    """

    initial: float = 0.1
    factor: float = 1.5
    maximum: float = 5.0
    deadline: float = 900.0
    floor: float = 0.25

    def backoff(self, attempt: int) -> float:
        """The wait after poll number ``attempt`` (1-based) when nothing is known about the job's progress."""
        return min(self.initial * self.factor ** min(attempt - 1, 64), self.maximum)

    def next_wait(self, attempt: int, elapsed: float, percent: float) -> float:
        """The wait after poll ``attempt``, ``elapsed`` seconds into the job, which reported ``percent``."""
        step = self.backoff(attempt)
        if 0.0 < percent < 100.0 and elapsed > 0.0:
            projected = elapsed * (100.0 - percent) / percent
            return max(min(step, projected), step * self.floor)
        return step


class _ProgressWait(wait_base):
    """tenacity wait strategy that applies :meth:`PollPolicy.next_wait` to the last progress poll."""

    def __init__(self, policy: PollPolicy, started: float) -> None:
        self.policy, self.started = policy, started

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        result = outcome.result() if outcome is not None and not outcome.failed else {}
        percent = float(result.get("percentComplete") or 0.0) if isinstance(result, dict) else 0.0
        return self.policy.next_wait(retry_state.attempt_number, time.monotonic() - self.started, percent)


class Api(Protocol):
    """The slice of QualtricsClient an export needs (kept narrow so the export logic is testable alone)."""

    def post_json(self, path: str, what: str, body: Mapping[str, Any]) -> dict[str, Any]: ...

    def get_json(self, path: str, what: str) -> dict[str, Any]: ...

    def stream(self, path: str, what: str) -> requests.Response: ...


_EXPORTED_QUESTION = re.compile(r"^(?:\d+_)?(QID\d+)(?:_|$)")


def parent_question_ids(question_ids: Sequence[str]) -> list[str]:
    """The ``questionIds`` an export must ask for: a matrix row ``QID7_3``, a carried-forward row ``QID38_x4``,
    an open-text column ``QID2_TEXT`` and a loop & merge column ``2_QID4137_1`` all come with their question
    (``QID7``, ``QID38``, ``QID2``, ``QID4137``); anything else is passed on as given."""
    return list(dict.fromkeys(m.group(1) if (m := _EXPORTED_QUESTION.match(q)) else q for q in question_ids))


class _DamagedDownload(Exception):
    """Internal: the downloaded file is unusable; try once more."""


def _check_zip(path: Path) -> None:
    """Exports are requested with ``compress: true``, so anything but a sound zip is a damaged download."""
    if not zipfile.is_zipfile(path):
        raise _DamagedDownload("not a readable zip file")
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.testzip() is not None or not archive.infolist():
                raise _DamagedDownload("zip member fails its CRC check")
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise _DamagedDownload(str(exc)) from exc


#: A Qualtrics CSV export starts with three header rows (export tags, question texts, import ids).
_CSV_HEADER_ROWS = 3


def _csv_has_responses(path: Path) -> bool:
    """Whether a (zipped) CSV export holds a response row below its three header rows. Read with the csv
    module, so a question text with a line break in the header is still one row."""
    with ExitStack() as stack:
        if zipfile.is_zipfile(path):
            archive = stack.enter_context(zipfile.ZipFile(path))
            raw = stack.enter_context(archive.open(archive.infolist()[0]))
        else:
            raw = stack.enter_context(open(path, "rb"))
        text = stack.enter_context(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        rows = csv.reader(text)
        return any(True for _ in itertools.islice(rows, _CSV_HEADER_ROWS, _CSV_HEADER_ROWS + 1))


class Export:
    """One export job. Iterate :meth:`batches` once; ``continuation_token`` is set after the last batch.

    ``resume``: the progress id of the same export started earlier (by a process that stopped before reading
    it): that job is polled instead of starting a second one, and a new one starts only if Qualtrics no longer
    knows it or it failed. ``on_job`` hears the job's progress id once started and its file id once complete,
    so a caller can record them for such a resume."""

    def __init__(self, api: Api, survey_id: str, question_ids: Sequence[str], *,
                 continuation_token: str | None = None, embedded_data: Sequence[str] = (),
                 progress: Progress | None = None, fmt: str = SYNC_FORMAT, poll: PollPolicy = PollPolicy(),
                 batch_rows: int = DEFAULT_BATCH_ROWS, resume: str | None = None,
                 on_job: JobCallback | None = None) -> None:
        self._api = api
        self.survey_id = survey_id
        self.question_ids = tuple(dict.fromkeys(question_ids))
        self.embedded_data = tuple(dict.fromkeys(embedded_data))
        self._start_token = continuation_token
        self._progress = progress or (lambda stage, fraction: None)
        self._format = fmt
        self._poll = poll
        self._batch_rows = batch_rows
        self._next_token: str | None = None
        self.continuation_token: str | None = None
        self.rows = 0
        self._consumed = False
        self._resume = resume
        self._on_job = on_job or (lambda progress_id, file_id: None)
        self.resumed = False

    # -- the three API steps -------------------------------------------------------------------------------
    def _request_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format": self._format,
            "compress": True,
            "useLabels": False,
            "timeZone": "UTC",
            "surveyMetadataIds": list(SURVEY_METADATA_IDS),
            "allowContinuation": True,
        }
        if self.question_ids:
            body["questionIds"] = parent_question_ids(self.question_ids)
        if self.embedded_data:
            body["embeddedDataIds"] = list(self.embedded_data)
        if self._start_token:
            body["continuationToken"] = self._start_token
        return body

    def _start(self) -> str:
        self._progress("export", 0.0)
        result = self._api.post_json(f"surveys/{self.survey_id}/export-responses",
                                     f"the export of survey {self.survey_id}", self._request_body())
        progress_id = result.get("progressId")
        if not progress_id:
            raise QualtricsError(f"Qualtrics did not start the export of survey {self.survey_id}; try again.")
        return str(progress_id)

    def _wait(self, progress_id: str, started: float) -> dict[str, Any]:
        what = f"the export job of survey {self.survey_id}"

        def check() -> dict[str, Any]:
            result = self._api.get_json(f"surveys/{self.survey_id}/export-responses/{progress_id}", what)
            self._progress("export", min(float(result.get("percentComplete") or 0.0) / 100.0, 1.0))
            return result

        policy = self._poll
        poller = Retrying(
            retry=retry_if_result(lambda r: r.get("status") not in ("complete", "failed")),
            wait=_ProgressWait(policy, started) + wait_random(0, policy.initial / 2),
            stop=stop_after_delay(policy.deadline),
        )
        try:
            result = poller(check)
        except RetryError:
            raise ExportTimeout(
                f"The export of survey {self.survey_id} did not finish within {policy.deadline:.0f} s; "
                "Qualtrics may be busy, try the sync again later.") from None
        if result.get("status") == "failed":
            error = result.get("error") or {}
            detail = f" ({error.get('errorMessage') or error})" if error else ""
            raise ExportFailed(
                f"Qualtrics could not export survey {self.survey_id}{detail}; try again, and if it keeps "
                "failing check the survey in Qualtrics (Data & Analysis > Export).")
        if not result.get("fileId"):
            raise ExportFailed(f"The export of survey {self.survey_id} finished without a file; try again.")
        return result

    def _download(self, file_id: str, dest: Path) -> None:
        with self._api.stream(f"surveys/{self.survey_id}/export-responses/{file_id}/file",
                              f"the export file of survey {self.survey_id}") as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            self._progress("download", 0.0)
            try:
                with open(dest, "wb") as fh:
                    for chunk in response.iter_content(_DOWNLOAD_CHUNK):
                        fh.write(chunk)
                        done += len(chunk)
                        if total:
                            self._progress("download", min(done / total, 1.0))
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
                raise _DamagedDownload(f"connection dropped after {done} bytes") from exc
        self._progress("download", 1.0)
        _check_zip(dest)

    def fetch(self, directory: Path) -> Path:
        """Run the job and leave the export file in ``directory``; returns its path."""
        started = time.monotonic()
        result = None
        if self._resume:
            try:
                result = self._wait(self._resume, started)
                progress_id, self.resumed = self._resume, True
            except (NotFound, ExportFailed):  # expired or failed meanwhile: this export starts afresh
                result = None
        if result is None:
            progress_id = self._start()
            self._on_job(progress_id, None)
            result = self._wait(progress_id, started)
        self._on_job(progress_id, str(result["fileId"]))
        self._next_token = result.get("continuationToken") or None
        dest = directory / f"{self.survey_id}.export"
        attempts = Retrying(stop=stop_after_attempt(2), wait=wait_random(0.05, 0.3),
                            retry=retry_if_exception_type(_DamagedDownload), reraise=True)
        try:
            attempts(self._download, str(result["fileId"]), dest)
        except _DamagedDownload as exc:
            raise CorruptExport(
                f"The export file of survey {self.survey_id} arrived damaged twice ({exc}); "
                "run the sync again.") from None
        return dest

    # -- public -------------------------------------------------------------------------------------------
    def batches(self) -> Iterator[ResponseBatch]:
        """Start the job, wait, download, and yield :class:`ResponseBatch` frames of bounded size."""
        if self._consumed:
            raise QualtricsError("This export has already been read; start a new export.")
        self._consumed = True
        with tempfile.TemporaryDirectory(prefix="qualtrics-export-") as tmp:
            path = self.fetch(Path(tmp))
            if self._format == "csv" and not _csv_has_responses(path):
                # Nothing new (the usual re-sync): no parser to start, and pandas stays unimported.
                self._progress("parse", 1.0)
                self.continuation_token = self._next_token
                return
            from qualtrics.exportfile import read_export_file

            for batch in read_export_file(path, self.question_ids, embedded_data=self.embedded_data,
                                          batch_rows=self._batch_rows, progress=self._progress):
                self.rows += len(batch)
                yield batch
        self.continuation_token = self._next_token

    def save(self, out: str | Path) -> Path:
        """Write the export file itself (unzipped) to ``out``, e.g. for ``python -m qualtrics export``."""
        out = Path(out)
        with tempfile.TemporaryDirectory(prefix="qualtrics-export-") as tmp:
            path = self.fetch(Path(tmp))
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive, archive.open(archive.infolist()[0]) as src, \
                        open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, _DOWNLOAD_CHUNK)
            else:
                shutil.copyfile(path, out)
        self.continuation_token = self._next_token
        return out


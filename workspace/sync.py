"""The sync engine: bring a survey's stored answers up to date with Qualtrics, incrementally and safely.

Per survey, holding its job (:mod:`workspace.jobs`: claimed in the store, so one sync of a survey runs at a
time across processes and machines; every store transaction below checks the claim still holds):

1. Export only what the metrics need: their question ids, ``recordedDate``/``finished`` and the chosen
   segment fields, continuing from the stored continuation token so a re-sync costs only new responses.
   The survey's open-text questions (``QIDn_TEXT``) come along as comments, stored apart from answers so
   they never count in a score.
2. A question, comment question or segment field the stored token does not cover yet is *backfilled*
   first: one export of just that column without a token, after which the survey's token (untouched)
   covers it too.
3. Whole batches are written in write transactions as ``executemany`` upserts keyed by (survey, question,
   response number; :mod:`workspace.answers`): a retried or repeated export can never duplicate, a crash
   never leaves half a batch. Consecutive batches share a transaction (up to 250k rows or 2 s), because
   every commit rewrites the B-tree pages it touched into the WAL.
4. The new continuation token is stored in the same transaction as the last batch. A crash before that
   re-exports the same responses next time (harmless, see 3) instead of skipping any.

A failure leaves earlier answers, and therefore scores, untouched, records the run as failed with its
reason and logs that reason (one line, ``workspace.sync``); an authorization failure also puts the
integration in *Error*. A cancel request (:func:`workspace.runs.request_cancel`, any tab or process) is read
between export polls, before anything is stored: the run ends as ``cancelled``, token and answers as they
were. An interrupt (Ctrl-C, a Streamlit rerun, the process ending) ends it as ``cancelled`` too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from qualtrics.errors import QualtricsError
from workspace import jobs, runs
from workspace.answers import label_lookup, segment_fields, write_batch
from workspace.catalog import cached_questions, comment_questions, definition_is_current, refresh_catalog
from workspace.config import Settings
from workspace.connection import open_client, record_successful_sync, reporting_auth_failures
from workspace.store import connect, sqlite, transaction, utcnow
from workspace.errors import NotFound, StoreFull, SyncBusy, WorkspaceError
from workspace.metrics import get_metric, list_metrics, tracked_surveys

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
STAGES = ("export", "download", "parse", "store", "score")
_PROGRESS_WRITE_EVERY = 0.5  # seconds between progress rows written for pages polling another thread
#: Batches share a transaction up to this many rows or seconds: each commit rewrites every B-tree page the
#: batch touched into the WAL, so fewer commits write less; the time cap keeps other writers (the app
#: editing a metric) from waiting near the 5 s busy timeout.
COMMIT_ROWS = 250_000
COMMIT_SECONDS = 2.0
#: The sync's page cache. What it must hold is the index of response ids (the one B-tree a sync still
#: inserts into at random places, about 40 MB at 1M responses); answers and comments are appended. At 1M
#: responses 32 MiB synced as fast as 64 MiB (the bench survey with comments: 80.8 s against 84.5 s) with
#: 36 MB less peak memory; 16 MiB was 10 % slower.
SYNC_CACHE_KIB = 32 * 1024


@dataclass(frozen=True)
class SyncResult:
    """How one survey's sync ended. ``status``: succeeded, failed, skipped (busy or nothing to sync)."""

    survey_id: str
    status: str
    run_id: int | None = None
    responses: int = 0          # export rows read (new responses, plus backfilled ones)
    answers: int = 0            # answer rows written (metric questions only)
    backfilled: tuple[str, ...] = field(default=())
    message: str | None = None
    seconds: float = 0.0
    comments: int = 0           # comment rows written (open-text answers)

    @property
    def ok(self) -> bool:
        """Nothing went wrong: succeeded, or skipped (busy, nothing to sync). Cancelled is not ok."""
        return self.status in ("succeeded", "skipped")


class SyncCancelled(Exception):
    """Someone asked the running sync to stop (raised between export polls, before anything is stored)."""

    def __init__(self, by: str, stage: str, fraction: float) -> None:
        super().__init__(f"Cancelled by {by} during {stage} ({fraction:.0%}); nothing from this sync was stored "
                         "and the next sync starts from the same point.")


#: Stages a cancel request stops: nothing of this export is written yet, so stopping loses nothing.
_CANCELLABLE = ("export", "download")


def _noop(stage: str, fraction: float) -> None:
    return None


class _Reporter:
    """Forwards progress to the caller and, throttled, to the run row (for pages polling a worker)."""

    def __init__(self, settings: Settings, run_id: int, callback: Progress, claim: jobs.Claim) -> None:
        self.settings, self.run_id, self.callback, self.claim = settings, run_id, callback, claim
        self.last_write = 0.0
        self.parsed = 0.0
        # While the sync holds the write lock, progress must go through its own connection: another
        # connection of this process would wait for that lock (up to the busy timeout) on every update.
        self.db: object | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        if self.claim.lost.is_set():  # another worker has the job now: stop before doing more
            raise jobs.LeaseLost(self.claim.survey_id)
        fraction = max(0.0, min(1.0, float(fraction)))
        if stage == "parse":
            self.parsed = fraction
        self.callback(stage, fraction)
        now = time.monotonic()
        if now - self.last_write >= _PROGRESS_WRITE_EVERY or fraction >= 1.0:
            self.last_write = now
            cancel_by = None
            try:
                cancel_by = runs.record_progress(self.settings, self.run_id, stage, fraction, db=self.db)  # type: ignore[arg-type]
            except Exception:  # progress is a courtesy; never fail a sync over it
                log.debug("could not record progress", exc_info=True)
            storing = self.db is not None and self.db.in_transaction  # type: ignore[attr-defined]
            if cancel_by and stage in _CANCELLABLE and not storing:
                raise SyncCancelled(cancel_by, stage, fraction)


@dataclass(frozen=True)
class _Columns:
    """What one export asks for: metric questions (stored as answers) and comment questions (as comments)."""

    questions: tuple[str, ...]
    comments: tuple[str, ...] = ()

    @property
    def all(self) -> list[str]:
        return [*self.questions, *self.comments]


def _definition(settings: Settings, client: object, survey_id: str, question_ids: Sequence[str]
                ) -> tuple[dict, tuple[str, ...]]:
    """Answer labels of the metric questions and the survey's comment columns, from the cache.

    The definition is read again only when a metric question is unknown or the stored definition is missing
    or stale; comment ids (``QIDn_TEXT``) are never trackable questions, so they never force a read."""
    questions = {q.id: q for q in cached_questions(settings, survey_id)}
    if any(q not in questions for q in question_ids) or not definition_is_current(settings, survey_id):
        questions = {q.id: q for q in refresh_catalog(settings, client, survey_id).questions}
    labels = {qid: label_lookup(questions.get(qid)) for qid in question_ids}
    comments = tuple(q.id for q in comment_questions(settings, survey_id) if q.id not in question_ids)
    return labels, comments


def _export(settings: Settings, client: object, survey_id: str, columns: _Columns,
            segments: Sequence[str], token: str | None, labels: dict, report: _Reporter,
            finish: Callable[[object, str | None, int], None]) -> tuple[int, int, int]:
    """Run one export and store it: whole batches per write transaction, committed every
    :data:`COMMIT_ROWS` rows or :data:`COMMIT_SECONDS`; ``finish(db, new_token, rows)`` runs in the same
    transaction as the last batch, so the token can never be ahead of the stored answers.
    Returns (responses read, answers written, comments written)."""
    claim = report.claim
    key = jobs.export_key(survey_id, columns.all, segments, token)
    export = client.export_responses(  # type: ignore[attr-defined]
        survey_id, columns.all, continuation_token=token, embedded_data=list(segments), progress=report,
        resume=claim.resumable(key),
        on_job=lambda progress_id, file_id: jobs.record_export(settings, claim, key, progress_id, file_id))
    rows = written = comments = 0
    batches = iter(export.batches())
    with connect(settings.store) as db:
        if not db.is_postgresql:
            # A large page cache keeps the response ids' index in memory while a big first export lands.
            sqlite.set_cache_size(db.conn, SYNC_CACHE_KIB)
        report.db = db
        try:
            # The next batch is read outside a transaction after each commit (and the first one, which waits
            # for the export, before any): the write lock is held only while batches are being stored.
            batch = next(batches, None)
            while True:
                with transaction(db):
                    jobs.check_held(db, claim)  # fencing: a worker that lost its lease writes nothing
                    opened, pending = time.monotonic(), 0
                    while batch is not None:
                        stored = write_batch(db, survey_id, batch.frame, columns.questions, labels, segments,
                                             columns.comments)
                        written, comments = written + stored.answers, comments + stored.comments
                        rows += len(batch)
                        pending += len(batch)
                        report("store", report.parsed)
                        if pending >= COMMIT_ROWS or time.monotonic() - opened >= COMMIT_SECONDS:
                            break
                        batch = next(batches, None)
                    else:
                        finish(db, export.continuation_token, rows)
                        jobs.export_stored(db, claim)
                        break
                batch = next(batches, None)
        finally:
            report.db = None
    report("store", 1.0)
    return rows, written, comments


def _mark_synced(db: object, survey_id: str, question_ids: Sequence[str], segments: Sequence[str]) -> None:
    now = utcnow()
    db.executemany(  # type: ignore[attr-defined]
        "INSERT INTO synced_questions (survey_id, question_id, synced_at) VALUES (?, ?, ?) "
        "ON CONFLICT (survey_id, question_id) DO NOTHING", [(survey_id, q, now) for q in question_ids])
    db.executemany(  # type: ignore[attr-defined]
        "INSERT INTO synced_segments (survey_id, field, synced_at) VALUES (?, ?, ?) "
        "ON CONFLICT (survey_id, field) DO NOTHING", [(survey_id, f, now) for f in segments])


def _store_token(db: object, survey_id: str, token: str | None, rows: int) -> None:
    db.execute(  # type: ignore[attr-defined]
        "INSERT INTO survey_sync (survey_id, continuation_token, last_sync, responses) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (survey_id) DO UPDATE SET continuation_token = excluded.continuation_token, "
        "last_sync = excluded.last_sync, responses = survey_sync.responses + excluded.responses",
        (survey_id, token, utcnow(), rows))


def _score_metrics(settings: Settings, survey_id: str, report: _Reporter) -> None:
    """The score stage: score every metric of the survey once from the fresh answers (SQL aggregates)."""
    from workspace.scores import metric_score

    metrics = list_metrics(settings, survey_id)
    for i, metric in enumerate(metrics, start=1):
        metric_score(settings, metric.id)
        report("score", i / len(metrics))
    if not metrics:
        report("score", 1.0)


def sync_survey(settings: Settings, survey_id: str, *, client: object | None = None,
                progress: Progress | None = None, trigger: str = "manual", wait: float = 0.0,
                question_ids: Sequence[str] | None = None, claim: jobs.Claim | None = None) -> SyncResult:
    """Sync one survey's metric questions (or ``question_ids``); see the module docstring for guarantees.

    ``wait``: seconds to wait for another sync of the same survey to finish (0: skip at once). ``claim``: the
    survey's job, already claimed (the worker's scheduled syncs); else it is claimed here. Never raises for
    Qualtrics or busy errors: the result says what happened (``status``, ``message``).
    """
    started = time.monotonic()
    callback = progress or _noop
    wanted = sorted(set(question_ids if question_ids is not None else tracked_surveys(settings).get(survey_id, [])))
    if not wanted:
        if claim is not None:
            jobs.release(settings, claim, succeeded=True)
        return SyncResult(survey_id, "skipped", message=f"No metric uses survey {survey_id}; nothing to sync.")
    if claim is None:
        try:
            # Waiting for another sync of this survey: say so, not "Starting…".
            claim = jobs.claim_survey(settings, survey_id, trigger, wait=wait,
                                      on_wait=lambda: callback("waiting", 0.0))
        except SyncBusy as exc:
            return SyncResult(survey_id, "skipped", message=str(exc))
    with jobs.holding(settings, claim):
        result = _sync_with_lock(settings, survey_id, wanted, client, callback, trigger, started, claim)
        claim.succeeded, claim.cancelled = result.status == "succeeded", result.status == "cancelled"
        return result


def _sync_with_lock(settings: Settings, survey_id: str, wanted: list[str], client: object | None,
                    callback: Progress, trigger: str, started: float, claim: jobs.Claim) -> SyncResult:
    """Sync holding the job: record the run, export, store, score; failures end as a failed run."""
    run_id = runs.start_run(settings, claim)
    report = _Reporter(settings, run_id, callback, claim)
    own_client = client is None
    try:
        with reporting_auth_failures(settings):
            client = client or open_client(settings)
            try:
                result = _sync_locked(settings, client, survey_id, wanted, report, run_id)
            finally:
                if own_client:
                    client.close()  # type: ignore[union-attr]
        if result.answers:
            _score_metrics(settings, survey_id, report)
        else:  # nothing new stored: every score is what it was
            report("score", 1.0)
    except SyncCancelled as exc:
        runs.finish_run(settings, run_id, "cancelled", error=str(exc))
        log.info("sync of %s cancelled (run %s, %s): %s", survey_id, run_id, trigger, exc)
        return SyncResult(survey_id, "cancelled", run_id, message=str(exc), seconds=time.monotonic() - started)
    except jobs.LeaseLost as exc:  # the run row is the log, not the data: say what happened to this run
        runs.finish_run(settings, run_id, "cancelled", error=str(exc))
        log.warning("sync of %s stopped (run %s, %s): %s", survey_id, run_id, trigger, exc)
        return SyncResult(survey_id, "cancelled", run_id, message=str(exc), seconds=time.monotonic() - started)
    except (QualtricsError, WorkspaceError, OSError) as exc:
        message = str(exc) or type(exc).__name__
        try:
            runs.finish_run(settings, run_id, "failed", error=message)
        except StoreFull:  # no room even for the run's outcome: it reads as interrupted once the job is free
            log.warning("could not record the failed sync run %s: the database is full", run_id)
        # Messages of these errors never carry tokens (qualtrics/errors.py): safe for the server log.
        log.warning("sync of %s failed (run %s, %s): %s", survey_id, run_id, trigger, message)
        return SyncResult(survey_id, "failed", run_id, message=message, seconds=time.monotonic() - started)
    except Exception as exc:
        runs.finish_run(settings, run_id, "failed", error=f"Unexpected error: {type(exc).__name__}: {exc}")
        log.exception("sync of %s failed (run %s, %s) with an unexpected error", survey_id, run_id, trigger)
        raise
    except BaseException as exc:  # Ctrl-C, a Streamlit rerun or stop, the process ending: an interruption
        stopped = (f"Stopped before finishing ({type(exc).__name__}); the next sync continues from the last "
                   "saved point.")
        runs.finish_run(settings, run_id, "cancelled", error=stopped)
        log.info("sync of %s interrupted (run %s, %s): %s", survey_id, run_id, trigger, type(exc).__name__)
        raise
    record_successful_sync(settings, utcnow())
    return SyncResult(survey_id, "succeeded", run_id, result.responses, result.answers, result.backfilled,
                      seconds=time.monotonic() - started, comments=result.comments)


@dataclass
class _Outcome:
    responses: int = 0
    answers: int = 0
    comments: int = 0
    backfilled: tuple[str, ...] = ()

    def add(self, counts: tuple[int, int, int]) -> None:
        self.responses += counts[0]
        self.answers += counts[1]
        self.comments += counts[2]


def _sync_locked(settings: Settings, client: object, survey_id: str, wanted: list[str], report: _Reporter,
                 run_id: int) -> _Outcome:
    segments = segment_fields(settings, survey_id)
    state = runs.survey_state(settings, survey_id)
    labels, comments = _definition(settings, client, survey_id, wanted)
    everything = _Columns(tuple(wanted), comments)
    outcome = _Outcome()
    if state.continuation_token is not None:
        new_columns = [q for q in everything.all if q not in state.synced_questions]
        new_segments = [f for f in segments if f not in state.synced_segments]
        if new_columns or new_segments:
            # Without a token, for the new column(s) only; the survey's token stays as it is. New segment
            # fields alone are fetched with the metric questions (an export needs at least one question).
            backfill = _Columns(tuple(q for q in wanted if q in new_columns),
                                tuple(q for q in comments if q in new_columns))
            if not backfill.all:
                backfill = _Columns(tuple(wanted))
            outcome.add(_export(
                settings, client, survey_id, backfill, segments, None, labels, report,
                lambda db, _token, _rows: _mark_synced(db, survey_id, backfill.all, segments)))
            outcome.backfilled = tuple(new_columns)

    def finish(db: object, token: str | None, exported: int) -> None:
        _store_token(db, survey_id, token, exported)
        _mark_synced(db, survey_id, everything.all, segments)

    outcome.add(_export(settings, client, survey_id, everything, segments, state.continuation_token, labels,
                        report, finish))
    runs.finish_run(settings, run_id, "succeeded", responses=outcome.responses, answers=outcome.answers)
    return outcome


def sync_response(settings: Settings, survey_id: str, response_id: str, *, client: object | None = None
                  ) -> SyncResult:
    """Store one response Qualtrics pushed (an event subscription named it) through the same upserts as an
    export batch, keyed by (survey, question, response): when the next incremental export brings the same
    response, it overwrites these rows with equal values and nothing counts twice. The continuation token
    and the survey's last sync stay as they are, so that export still runs as usual."""
    started = time.monotonic()
    wanted = sorted(set(tracked_surveys(settings).get(survey_id, [])))
    if not wanted:
        return SyncResult(survey_id, "skipped", message=f"No metric uses survey {survey_id}; nothing to store.")
    own_client = client is None
    try:
        with reporting_auth_failures(settings):
            client = client or open_client(settings)
            try:
                labels, comments = _definition(settings, client, survey_id, wanted)
                segments = segment_fields(settings, survey_id)
                batch = client.response(survey_id, response_id, [*wanted, *comments], segments)  # type: ignore[attr-defined]
            finally:
                if own_client:
                    client.close()  # type: ignore[union-attr]
        with connect(settings.store) as db, transaction(db):
            stored = write_batch(db, survey_id, batch.frame, wanted, labels, segments, comments)
    except (QualtricsError, WorkspaceError, OSError) as exc:
        log.warning("storing pushed response %s of %s failed: %s", response_id, survey_id, exc)
        return SyncResult(survey_id, "failed", message=str(exc) or type(exc).__name__,
                          seconds=time.monotonic() - started)
    return SyncResult(survey_id, "succeeded", responses=1, answers=stored.answers, comments=stored.comments,
                      seconds=time.monotonic() - started)


def sync_metric(settings: Settings, metric_id: int, **options: object) -> SyncResult:
    """Sync the survey of one metric (every metric question of that survey comes along)."""
    metric = get_metric(settings, metric_id)
    return sync_survey(settings, metric.survey_id, **options)  # type: ignore[arg-type]


def sync_all(settings: Settings, *, progress: Progress | None = None, trigger: str = "manual",
             wait: float = 0.0, on_result: Callable[[SyncResult], None] | None = None) -> list[SyncResult]:
    """Sync every survey that has metrics, one client for all; busy surveys are skipped."""
    surveys = sorted(tracked_surveys(settings))
    if not surveys:
        return []
    results = []
    try:
        client = open_client(settings)
    except WorkspaceError as exc:
        log.warning("sync of %d survey(s) could not start (%s): %s", len(surveys), trigger, exc)
        return [SyncResult(s, "failed", message=str(exc)) for s in surveys]
    with client:
        for survey_id in surveys:
            result = sync_survey(settings, survey_id, client=client, progress=progress, trigger=trigger, wait=wait)
            results.append(result)
            if on_result:
                on_result(result)
    return results


__all__ = ["STAGES", "NotFound", "Progress", "SyncCancelled", "SyncResult", "sync_all", "sync_metric",
           "sync_response", "sync_survey"]

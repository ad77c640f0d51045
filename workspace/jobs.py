"""Sync jobs claimed in the store: each survey's sync runs in one place at a time, across processes and machines.

One ``sync_jobs`` row per survey says when its next scheduled sync is due and who holds it now: a worker id
(host, pid, a random part), a random claim token, a lease and the last heartbeat. A claim is one short write
transaction; every write transaction of the store is exclusive (``BEGIN IMMEDIATE`` on SQLite, the advisory
write lock on PostgreSQL, where the row is also taken ``FOR UPDATE SKIP LOCKED``), so two workers can never
claim the same row. While a sync runs, :func:`holding` renews the lease from a heartbeat thread; a worker
that dies (SIGKILL, a lost machine) stops renewing and, once the lease has run out, any other worker takes
the job over. Fencing makes the takeover safe: every store transaction of a sync checks, inside that
transaction, that its claim token is still the row's (:func:`check_held`), so a worker that lost its lease
writes nothing more, however late it wakes up.

The export in flight is recorded on the job (its progress id, then its file id), with a key of what it asks
for; a worker taking the job over polls that export instead of starting a second one when it would ask for
the same thing. The continuation token stays in ``survey_sync`` (written in the sync's last transaction).

Times are ISO-8601 UTC text with milliseconds, from the database server's clock on PostgreSQL (workers on
several machines compare leases on one clock) and from this machine's on SQLite (one machine by nature).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from workspace.config import Settings
from workspace.errors import SyncBusy
from workspace.store import Database, connect, transaction

log = logging.getLogger(__name__)

#: How long a claim holds without a heartbeat. It must comfortably outlast the heartbeat period (several
#: beats may be missed while the store is busy) and the longest store transaction a heartbeat can wait for
#: (a sync commits at least every couple of seconds; SQLite's busy timeout is 5 s).
LEASE_SECONDS = 30.0
#: How often a holder renews its lease: six beats per lease.
HEARTBEAT_SECONDS = 5.0
#: A job taken over this many times in a row without a success (each holder died mid-sync) is left until its
#: next scheduled time instead of killing worker after worker.
MAX_ATTEMPTS = 3
_CLAIM_WAIT_STEP = 0.1


class LeaseLost(Exception):
    """This worker no longer holds the survey's job (its lease ran out and another worker took it over)."""

    def __init__(self, survey_id: str) -> None:
        super().__init__(f"The sync of survey {survey_id} was taken over by another worker after this one's "
                         "lease ran out; nothing more was stored here.")


def _busy(survey_id: str) -> SyncBusy:
    return SyncBusy(f"Survey {survey_id} is being synced by another process right now; "
                    "its new responses will be there when it finishes.")


@dataclass
class Claim:
    """This worker's hold on one survey's job. ``lost`` is set by the heartbeat once another worker has it."""

    survey_id: str
    holder: str
    token: str
    trigger: str
    attempts: int = 1
    export_key: str | None = None
    progress_id: str | None = None
    taken_over: bool = False
    run_id: int | None = None
    lease_seconds: float = LEASE_SECONDS
    succeeded: bool = False  # set by the sync when it ended well: the release then reschedules
    cancelled: bool = False  # set when it was cancelled: the release forgets the export in flight
    lost: threading.Event = field(default_factory=threading.Event)

    def resumable(self, key: str) -> str | None:
        """The progress id of the export in flight when it asks for ``key``, else None (start a new one)."""
        return self.progress_id if self.progress_id and self.export_key == key else None


_worker_id: tuple[int, str] | None = None


def worker_id() -> str:
    """This process's worker id, ``host:pid:random`` (the random part tells a reused pid apart)."""
    global _worker_id
    if _worker_id is None or _worker_id[0] != os.getpid():
        _worker_id = (os.getpid(), f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}")
    return _worker_id[1]


def _format(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now(db: Database) -> dt.datetime:
    """The clock leases are compared on: the server's on PostgreSQL, this machine's on SQLite."""
    if db.is_postgresql:
        value = db.execute("SELECT CURRENT_TIMESTAMP").fetchone()[0]
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)


def stamp(db: Database, plus: float = 0.0) -> str:
    """Now (plus ``plus`` seconds) as the text the job columns hold."""
    return _format(now(db) + dt.timedelta(seconds=plus))


def export_key(survey_id: str, columns: Sequence[str], segments: Sequence[str], token: str | None) -> str:
    """What one export asks for, as a short key: a takeover resumes an export only if it would ask the same."""
    text = json.dumps([survey_id, list(columns), list(segments), token])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def holder_is_gone(holder: str | None) -> bool:
    """A holder on this machine whose process has ended: its claim is dead now, not only once its lease runs
    out (a killed CLI sync must not hold the survey for a whole lease). A pid reused by another process looks
    alive and the lease decides; two machines sharing a host name cost at worst a second export, never a
    double write (fencing)."""
    host, _, rest = (holder or "").partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: alive
        return False
    return False


def _skip_locked(db: Database) -> str:
    # Under the store's write lock no other claim runs at the same time; the row lock keeps the claim correct
    # even for a writer that does not take it.
    return " FOR UPDATE SKIP LOCKED" if db.is_postgresql else ""


def anything_due(settings: Settings) -> bool:
    """A cheap read: is some sync due, or held past its lease, or some survey with metrics without a job yet?"""
    with connect(settings.store) as db:
        current = stamp(db)
        return db.execute(
            "SELECT 1 FROM metrics WHERE survey_id NOT IN (SELECT survey_id FROM sync_jobs) UNION ALL "
            "SELECT 1 FROM sync_jobs WHERE survey_id IN (SELECT survey_id FROM metrics) AND "
            "((holder IS NULL AND due_at <= ?) OR (holder IS NOT NULL AND lease_until < ?)) LIMIT 1",
            (current, current)).fetchone() is not None


def ensure_jobs(settings: Settings, db: Database | None = None) -> None:
    """A job row for every survey that has metrics (due at once: it has never been scheduled)."""
    def insert(conn: Database) -> None:
        conn.execute("INSERT INTO sync_jobs (survey_id, due_at) SELECT DISTINCT survey_id, ? FROM metrics "
                     "WHERE survey_id NOT IN (SELECT survey_id FROM sync_jobs)", (stamp(conn),))
    if db is not None:
        insert(db)
        return
    with connect(settings.store) as own, transaction(own):
        insert(own)


def _take(db: Database, survey_id: str, trigger: str, lease: float, next_due: str | None) -> Claim:
    """Write the claim on a row the caller has just found free (inside its write transaction)."""
    holder, token = worker_id(), secrets.token_hex(8)
    row = db.execute(
        "UPDATE sync_jobs SET holder = ?, claim = ?, trigger = ?, claimed_at = ?, lease_until = ?, "
        "heartbeat_at = ?, attempts = attempts + 1, run_id = NULL, due_at = coalesce(?, due_at) "
        "WHERE survey_id = ? RETURNING attempts, export_key, progress_id",
        (holder, token, trigger, stamp(db), stamp(db, lease), stamp(db), next_due, survey_id)).fetchall()[0]
    return Claim(survey_id, holder, token, trigger, attempts=row[0], export_key=row[1], progress_id=row[2],
                 taken_over=row[2] is not None, lease_seconds=lease)


def claim_due(settings: Settings, *, lease: float = LEASE_SECONDS) -> Claim | None:
    """Claim the most overdue scheduled sync, or one whose holder's lease ran out; None when nothing is due.

    A scheduled claim moves the job's next due time one interval on at once, so whichever worker looks next
    finds it not due: each survey is synced once per interval however many workers there are."""
    with connect(settings.store) as db, transaction(db):
        ensure_jobs(settings, db)
        current = stamp(db)
        row = db.execute(
            "SELECT survey_id, holder FROM sync_jobs WHERE survey_id IN (SELECT survey_id FROM metrics) AND "
            "((holder IS NULL AND due_at <= ?) OR (holder IS NOT NULL AND lease_until < ?)) "
            f"ORDER BY due_at, survey_id LIMIT 1{_skip_locked(db)}", (current, current)).fetchone()
        if row is None:
            row = next((r for r in db.execute(
                "SELECT survey_id, holder FROM sync_jobs WHERE survey_id IN (SELECT survey_id FROM metrics) AND "
                "holder LIKE ? ORDER BY due_at, survey_id", (f"{socket.gethostname()}:%",)).fetchall()
                if holder_is_gone(r[1])), None)
        if row is None:
            return None
        survey_id, expired_holder = row
        claim = _take(db, survey_id, "scheduler", lease, stamp(db, settings.sync_interval))
        if claim.attempts > MAX_ATTEMPTS:
            # Every holder of this run died mid-sync: leave it to its next scheduled time.
            db.execute("UPDATE sync_jobs SET holder = NULL, claim = NULL, lease_until = NULL, attempts = 0, "
                       "export_key = NULL, progress_id = NULL, file_id = NULL WHERE survey_id = ?", (survey_id,))
            log.warning("sync job of %s abandoned after %d takeovers; it runs again at its next interval",
                        survey_id, MAX_ATTEMPTS)
            return None
    if expired_holder:
        log.info("took over the sync job of %s from %s (its lease ran out)", survey_id, expired_holder)
    return claim


def claim_survey(settings: Settings, survey_id: str, trigger: str, *, wait: float = 0.0,
                 on_wait: Callable[[], None] | None = None, lease: float = LEASE_SECONDS) -> Claim:
    """Claim one survey's job now (a manual, CLI or Live sync), whether or not it is due; :class:`SyncBusy`
    when another worker holds it and it is not free within ``wait`` seconds (``on_wait`` is called once,
    when the wait starts). The scheduled time is left as it is."""
    deadline = time.monotonic() + wait
    waiting = False
    while True:
        with connect(settings.store) as db, transaction(db):
            db.execute("INSERT INTO sync_jobs (survey_id, due_at) VALUES (?, ?) ON CONFLICT (survey_id) DO NOTHING",
                       (survey_id, stamp(db, settings.sync_interval)))
            current = stamp(db)
            row = db.execute(f"SELECT holder, lease_until FROM sync_jobs WHERE survey_id = ?{_skip_locked(db)}",
                             (survey_id,)).fetchone()  # None: locked by another claim right now (busy)
            if row is not None and (row[0] is None or row[1] < current or holder_is_gone(row[0])):
                return _take(db, survey_id, trigger, lease, None)
        if time.monotonic() >= deadline:
            raise _busy(survey_id)
        if not waiting and on_wait is not None:
            on_wait()
        waiting = True
        time.sleep(_CLAIM_WAIT_STEP)


def check_held(db: Database, claim: Claim) -> None:
    """Inside a sync's write transaction: raise :class:`LeaseLost` unless ``claim`` still holds the job, so the
    transaction (rolled back by the caller) writes nothing."""
    row = db.execute("SELECT claim FROM sync_jobs WHERE survey_id = ?", (claim.survey_id,)).fetchone()
    if row is None or row[0] != claim.token:
        claim.lost.set()
        raise LeaseLost(claim.survey_id)


def heartbeat(settings: Settings, claim: Claim) -> bool:
    """Renew the lease; False (and ``claim.lost`` set) when another worker holds the job now."""
    with connect(settings.store) as db, transaction(db):
        renewed = db.execute("UPDATE sync_jobs SET lease_until = ?, heartbeat_at = ? WHERE survey_id = ? AND claim = ?",
                             (stamp(db, claim.lease_seconds), stamp(db), claim.survey_id, claim.token)).rowcount
    if not renewed:
        claim.lost.set()
    return bool(renewed)


def record_run(db: Database, claim: Claim, run_id: int) -> None:
    """Inside the transaction that writes the run row: the job names it (its "running" is true while held)."""
    claim.run_id = run_id
    db.execute("UPDATE sync_jobs SET run_id = ? WHERE survey_id = ? AND claim = ?", (run_id, claim.survey_id, claim.token))


def record_export(settings: Settings, claim: Claim, key: str, progress_id: str, file_id: str | None = None) -> None:
    """The export in flight (and its file once complete), so that a takeover polls it instead of starting one."""
    claim.export_key, claim.progress_id = key, progress_id
    with connect(settings.store) as db, transaction(db):
        db.execute("UPDATE sync_jobs SET export_key = ?, progress_id = ?, file_id = ? WHERE survey_id = ? AND claim = ?",
                   (key, progress_id, file_id, claim.survey_id, claim.token))


def export_stored(db: Database, claim: Claim) -> None:
    """Inside the transaction that stored an export's last batch: that export is done, nothing to resume."""
    db.execute("UPDATE sync_jobs SET export_key = NULL, progress_id = NULL, file_id = NULL "
               "WHERE survey_id = ? AND claim = ?", (claim.survey_id, claim.token))
    claim.export_key = claim.progress_id = None


def release(settings: Settings, claim: Claim, *, succeeded: bool) -> None:
    """Give the job back. A success resets the attempts and puts the next scheduled sync at least one
    interval away; a failure keeps the export in flight recorded, for the next holder to resume."""
    with connect(settings.store) as db, transaction(db):
        if succeeded:
            db.execute("UPDATE sync_jobs SET holder = NULL, claim = NULL, lease_until = NULL, run_id = NULL, "
                       "attempts = 0, due_at = CASE WHEN due_at < ? THEN ? ELSE due_at END "
                       "WHERE survey_id = ? AND claim = ?",
                       (stamp(db, settings.sync_interval), stamp(db, settings.sync_interval), claim.survey_id,
                        claim.token))
        elif claim.cancelled:  # someone stopped it (a stuck export?): the next sync starts a fresh export
            db.execute("UPDATE sync_jobs SET holder = NULL, claim = NULL, lease_until = NULL, run_id = NULL, "
                       "export_key = NULL, progress_id = NULL, file_id = NULL WHERE survey_id = ? AND claim = ?",
                       (claim.survey_id, claim.token))
        else:
            db.execute("UPDATE sync_jobs SET holder = NULL, claim = NULL, lease_until = NULL, run_id = NULL "
                       "WHERE survey_id = ? AND claim = ?", (claim.survey_id, claim.token))


@contextmanager
def holding(settings: Settings, claim: Claim, heartbeat_seconds: float | None = None) -> Iterator[Claim]:
    """Keep ``claim`` alive for the block (a heartbeat thread renews its lease) and release it afterwards.
    The block sets ``claim.succeeded`` when the sync ended well; anything else is released as a failure."""
    period = heartbeat_seconds if heartbeat_seconds is not None else min(HEARTBEAT_SECONDS, claim.lease_seconds / 6)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(period):
            try:
                if not heartbeat(settings, claim):
                    log.warning("lost the sync job of %s to another worker", claim.survey_id)
                    return
            except Exception:  # a busy or unreachable store: the next beat tries again, the lease has room
                log.warning("heartbeat of the sync job of %s failed; retrying", claim.survey_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"sync-heartbeat-{claim.survey_id}", daemon=True)
    thread.start()
    try:
        yield claim
    finally:
        stop.set()
        thread.join(period + 1.0)
        if not claim.lost.is_set():
            try:
                release(settings, claim, succeeded=claim.succeeded)
            except Exception:  # the lease runs out by itself; another worker then takes the job
                log.warning("could not release the sync job of %s", claim.survey_id, exc_info=True)


@contextmanager
def held(settings: Settings, survey_id: str, trigger: str, *, wait: float = 0.0) -> Iterator[Claim]:
    """Claim the survey's job and hold it for the block (:class:`SyncBusy` when another worker has it)."""
    with holding(settings, claim_survey(settings, survey_id, trigger, wait=wait)) as claim:
        yield claim


@dataclass(frozen=True)
class JobState:
    survey_id: str
    due_at: str
    holder: str | None
    trigger: str | None
    lease_until: str | None
    attempts: int
    run_id: int | None
    progress_id: str | None
    held: bool  # holder set and lease not run out


def job_states(settings: Settings) -> list[JobState]:
    """Every job, for pages, tests and the worker's log."""
    with connect(settings.store) as db:
        current = stamp(db)
        rows = db.execute("SELECT survey_id, due_at, holder, trigger, lease_until, attempts, run_id, progress_id "
                          "FROM sync_jobs ORDER BY survey_id").fetchall()
    return [JobState(*row, held=row[2] is not None and (row[4] or "") >= current) for row in rows]


def next_due(settings: Settings, survey_id: str) -> str | None:
    """When the survey's next scheduled sync is due (None before its job exists)."""
    with connect(settings.store) as db:
        row = db.execute("SELECT due_at FROM sync_jobs WHERE survey_id = ?", (survey_id,)).fetchone()
    return row[0] if row else None


def held_runs(db: Database) -> set[int]:
    """Run ids whose sync holds its job right now (a "running" row not among them was interrupted)."""
    current = stamp(db)
    return {row[0] for row in db.execute(
        "SELECT run_id, holder FROM sync_jobs WHERE holder IS NOT NULL AND lease_until >= ? AND run_id IS NOT NULL",
        (current,)).fetchall() if not holder_is_gone(row[1])}


def is_held(settings: Settings, survey_id: str) -> bool:
    """Whether some worker holds the survey's job right now (its sync is running somewhere)."""
    with connect(settings.store) as db:
        row = db.execute("SELECT holder, lease_until FROM sync_jobs WHERE survey_id = ?", (survey_id,)).fetchone()
        return row is not None and row[0] is not None and row[1] >= stamp(db) and not holder_is_gone(row[0])


def release_all(settings: Settings, holder: str | None = None) -> int:
    """Give back every job this worker holds (a clean shutdown); returns how many."""
    with connect(settings.store) as db, transaction(db):
        return db.execute("UPDATE sync_jobs SET holder = NULL, claim = NULL, lease_until = NULL, run_id = NULL "
                          "WHERE holder = ?", (holder or worker_id(),)).rowcount

"""The sync run log and per-survey sync state, read by cards ("last sync", "Syncing…") and written by sync.

A run row is written when a sync starts and finished when it ends, so a page can poll progress (stage,
fraction) of a sync running in another thread or process. A run left ``running`` by a killed process is
reported as failed once its sync no longer holds the survey's job (:mod:`workspace.jobs`: its lease ran out,
or another worker took the job over).

Cancelling is a request written on the run row (:func:`request_cancel`, from any tab or process); the sync
reads it between export polls and ends the run as ``cancelled`` before it has stored anything.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any


from workspace import jobs
from workspace.config import Settings
from workspace.store import Database, connect, transaction, utcnow

INTERRUPTED = "The sync stopped before finishing (the process ended); it will resume from the last saved point."


@dataclass(frozen=True)
class SyncRun:
    id: int
    survey_id: str
    trigger: str
    started_at: str
    finished_at: str | None
    status: str  # running | succeeded | failed | skipped | cancelled
    stage: str | None
    fraction: float | None
    responses: int
    answers: int
    error: str | None
    cancel_requested_by: str | None = None  # set while a cancel request waits for the sync to see it

    @property
    def started_by(self) -> str:
        """Who started it, in a page's words (the trigger is a code: wizard, scheduler, cli, manual)."""
        return {"wizard": "Sync data in the app", "scheduler": "the automatic sync",
                "cli": "the command line"}.get(self.trigger, "a manual sync")

    @property
    def progress_text(self) -> str:
        """Where a running sync is, in words: "export 40%"."""
        return f"{self.stage or 'export'} {self.fraction or 0.0:.0%}"


@dataclass(frozen=True)
class SurveySyncState:
    survey_id: str
    continuation_token: str | None
    last_sync: str | None
    synced_questions: tuple[str, ...]
    synced_segments: tuple[str, ...]


def _run(row: dict[str, Any], held: set[int]) -> SyncRun:
    status, error = row["status"], row["error"]
    if status == "running" and row["id"] not in held:
        status, error = "failed", INTERRUPTED
    return SyncRun(row["id"], row["survey_id"], row["trigger"], row["started_at"], row["finished_at"], status,
                   row["stage"], row["fraction"], row["responses"], row["answers"], error,
                   row["cancel_requested_by"] if row["cancel_requested_at"] else None)


def start_run(settings: Settings, claim: jobs.Claim) -> int:
    """The run row of the sync holding ``claim``, recorded on its job in the same transaction (a running row
    is live exactly while its job names it)."""
    with connect(settings.store) as db, transaction(db):
        run_id = db.insert_returning_id(
            "INSERT INTO sync_runs (survey_id, trigger, started_at, status, stage, fraction, pid, host) "
            "VALUES (?, ?, ?, 'running', 'export', 0, ?, ?)",
            (claim.survey_id, claim.trigger, utcnow(), os.getpid(), socket.gethostname()))
        jobs.record_run(db, claim, run_id)
        return run_id


_PROGRESS_SQL = "UPDATE sync_runs SET stage = ?, fraction = ? WHERE id = ? RETURNING cancel_requested_by, " \
                "cancel_requested_at"


def record_progress(settings: Settings, run_id: int, stage: str, fraction: float,
                    db: Database | None = None) -> str | None:
    """Store where the run is; returns who asked to cancel it ("someone" if unnamed), or None.
    Pass ``db`` to write through the caller's connection (inside its transaction)."""
    if db is not None:
        rows = db.execute(_PROGRESS_SQL, (stage, fraction, run_id)).fetchall()
    else:
        # fetchall: finish the RETURNING statement before COMMIT (a half-read cursor blocks it).
        with connect(settings.store) as own, transaction(own):
            rows = own.execute(_PROGRESS_SQL, (stage, fraction, run_id)).fetchall()
    return (rows[0][0] or "someone") if rows and rows[0][1] else None


def request_cancel(settings: Settings, run_id: int, by: str | None = None) -> bool:
    """Ask a running sync to stop (it checks between export polls). False when it is no longer running."""
    with connect(settings.store) as db, transaction(db):
        changed = db.execute(
            "UPDATE sync_runs SET cancel_requested_at = ?, cancel_requested_by = ? "
            "WHERE id = ? AND status = 'running'", (utcnow(), by, run_id)).rowcount
    return bool(changed)


def running_run(settings: Settings, survey_id: str) -> SyncRun | None:
    """The sync of ``survey_id`` running now (in any tab, thread or process), if any."""
    run = latest_run(settings, survey_id)
    return run if run is not None and run.status == "running" else None


def finish_run(settings: Settings, run_id: int, status: str, *, responses: int = 0, answers: int = 0,
               error: str | None = None, db: Database | None = None) -> None:
    """Close a run. Pass ``db`` to do it inside the caller's open transaction."""
    sql = ("UPDATE sync_runs SET status = ?, finished_at = ?, responses = ?, answers = ?, error = ?, "
           "fraction = CASE WHEN ? = 'succeeded' THEN 1.0 ELSE fraction END WHERE id = ?")
    args = (status, utcnow(), responses, answers, error, status, run_id)
    if db is not None:
        db.execute(sql, args)
        return
    with connect(settings.store) as own, transaction(own):
        own.execute(sql, args)


def get_run(settings: Settings, run_id: int) -> SyncRun:
    with connect(settings.store) as db:
        row = next(db.query("SELECT * FROM sync_runs WHERE id = ?", [run_id]))
        held = jobs.held_runs(db) if row["status"] == "running" else set()
    return _run(row, held)


def latest_runs(settings: Settings, survey_id: str | None = None, limit: int = 20) -> list[SyncRun]:
    """Most recent runs first (of one survey, or all)."""
    where, args = ("WHERE survey_id = ?", [survey_id]) if survey_id else ("", [])
    with connect(settings.store) as db:
        rows = list(db.query(f"SELECT * FROM sync_runs {where} ORDER BY id DESC LIMIT ?", [*args, limit]))
        held = jobs.held_runs(db) if any(r["status"] == "running" for r in rows) else set()
    return [_run(r, held) for r in rows]


def latest_run(settings: Settings, survey_id: str) -> SyncRun | None:
    runs = latest_runs(settings, survey_id, limit=1)
    return runs[0] if runs else None


def survey_state(settings: Settings, survey_id: str) -> SurveySyncState:
    with connect(settings.store) as db:
        return read_survey_state(db, survey_id)


def read_survey_state(db: Database, survey_id: str) -> SurveySyncState:
    """The survey's sync state as seen by ``db`` (inside a sync's transaction, its snapshot)."""
    row = db.execute("SELECT continuation_token, last_sync FROM survey_sync WHERE survey_id = ?",
                          (survey_id,)).fetchone()
    questions = tuple(r[0] for r in db.execute(
        "SELECT question_id FROM synced_questions WHERE survey_id = ? ORDER BY question_id", (survey_id,)))
    segments = tuple(r[0] for r in db.execute(
        "SELECT field FROM synced_segments WHERE survey_id = ? ORDER BY field", (survey_id,)))
    return SurveySyncState(survey_id, row[0] if row else None, row[1] if row else None, questions, segments)


"""Opening the SQLite store: one connection per operation, WAL, foreign keys, 5 s busy timeout.

Why a connection per operation: Streamlit runs every session in its own thread and a cached
``sqlite3.Connection`` fails or interleaves transactions across them (streamlit-notes §5.3). Opening
costs about 0.1 ms, so every public workspace function opens, works and closes.

Why ``isolation_level=None``: the driver then never opens transactions behind our back. Reads run in
autocommit; every write that reads before it writes starts with ``BEGIN IMMEDIATE`` (:func:`transaction`),
because a deferred ``BEGIN`` that upgrades from read to write fails with "database is locked" under
concurrency no matter how long the busy timeout is (measured in streamlit-notes §5.3).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from workspace.schema import MIGRATIONS

BUSY_TIMEOUT_SECONDS = 5.0

_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def utcnow() -> str:
    """Now as ISO-8601 UTC with a ``Z``, the form every timestamp column holds (sorts as text)."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_database(path: str | os.PathLike[str]) -> sqlite_utils.Database:
    """A fresh ``sqlite_utils.Database`` on ``path`` with the per-connection pragmas set.

    The caller closes it (prefer :func:`connect`). The schema is assumed migrated; see :func:`migrate`.
    """
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL + NORMAL: a commit does not fsync the database, only WAL checkpoints do; a power cut can lose
    # the last commits but never corrupts the file, and a process crash loses nothing committed.
    conn.execute("PRAGMA synchronous = NORMAL")
    return sqlite_utils.Database(conn)


@contextmanager
def connect(path: str | os.PathLike[str]) -> Iterator[sqlite_utils.Database]:
    """Open the store for one operation, migrating it first if this process has not done so yet."""
    ensure_migrated(path)
    db = open_database(path)
    try:
        yield db
    finally:
        db.conn.close()


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rollback on any error): takes the write lock up front.

    sqlite-utils calls made inside join this transaction (as savepoints) and never commit it.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


def migrate(path: str | os.PathLike[str]) -> list[str]:
    """Create or upgrade the database at ``path``; returns the names of the migrations applied now.

    Idempotent and safe to call from several processes at once: the migrations run under an
    exclusive lock taken with ``BEGIN IMMEDIATE`` semantics by sqlite-utils' per-step transactions,
    and the WAL switch happens before them.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = open_database(path)
    try:
        if db.conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            db.conn.execute("PRAGMA journal_mode = WAL")
        # Serialise concurrent first starts: the second process waits here, then finds nothing pending.
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            pending = [m.name for m in MIGRATIONS.pending(db)]
            # Migrations.apply opens its own transactions; run it inside ours via savepoints.
            MIGRATIONS.apply(db)
            db.conn.execute(f"PRAGMA user_version = {len(MIGRATIONS.applied(db))}")
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        return pending
    finally:
        db.conn.close()


def ensure_migrated(path: str | os.PathLike[str]) -> None:
    """Migrate ``path`` once per process (later calls cost a set lookup)."""
    key = str(Path(path).resolve())
    if key in _migrated:
        return
    with _migrate_lock:
        if key not in _migrated:
            migrate(path)
            _migrated.add(key)


def forget_migrated(path: str | os.PathLike[str]) -> None:
    """Make the next :func:`connect` re-check the schema (after the file was replaced or deleted)."""
    _migrated.discard(str(Path(path).resolve()))


def schema_version(db: sqlite_utils.Database) -> int:
    """Number of applied migrations (also kept in ``PRAGMA user_version`` for outside tools)."""
    return len(MIGRATIONS.applied(db))

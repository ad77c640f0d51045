"""Opening the SQLite store: one connection per operation, WAL, foreign keys, 5 s busy timeout.

Why a connection per operation: Streamlit runs every session in its own thread and a cached
``sqlite3.Connection`` fails or interleaves transactions across them (streamlit-notes §5.3). Opening
costs about 0.1 ms, so every public workspace function opens, works and closes.

Why ``isolation_level=None``: the driver then never opens transactions behind our back. Reads run in
autocommit; every write that reads before it writes starts with ``BEGIN IMMEDIATE`` (:func:`transaction`),
because a deferred ``BEGIN`` that upgrades from read to write fails with "database is locked" under
concurrency no matter how long the busy timeout is (measured in streamlit-notes §5.3).

The files hold respondents' answers and comments, so they are private to the account running the app: the
data folder 0700, ``pulse.db`` created 0600 before SQLite opens it (SQLite gives ``-wal`` and ``-shm`` the
mode of the database file), and existing files tightened on the first open of each process.

SQLite's own errors never reach a page as-is: a full disk becomes :class:`StoreFull` and a file that is
not a database (or cannot be opened) a :class:`~workspace.config.ConfigError`, each one sentence naming
``PULSE_DB`` and what to do.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from workspace.config import ConfigError
from workspace.errors import StoreFull
from workspace.schema import MIGRATIONS

BUSY_TIMEOUT_SECONDS = 5.0
#: Below this much free space on the database's disk, /api/health reports the store not ok: a sync would
#: soon fail with "database or disk is full".
LOW_DISK_BYTES = 1024 * 1024
log = logging.getLogger("journey_pulse")

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


def is_disk_full(exc: BaseException) -> bool:
    """SQLITE_FULL: the disk (or the database's size limit) is full."""
    return isinstance(exc, sqlite3.OperationalError) and (
        getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "database or disk is full" in str(exc))


def store_full(path: str | os.PathLike[str]) -> StoreFull:
    return StoreFull(
        f"The database at PULSE_DB ({Path(path)}) is full because its disk has no space left: free space on "
        "that disk (or point PULSE_DB at a larger one) and try again; everything stored before is kept.")


@contextmanager
def connect(path: str | os.PathLike[str]) -> Iterator[sqlite_utils.Database]:
    """Open the store for one operation, migrating it first if this process has not done so yet."""
    try:
        ensure_migrated(path)
        db = open_database(path)
    except sqlite3.OperationalError as exc:
        if is_disk_full(exc):
            raise store_full(path) from exc
        raise
    try:
        yield db
    except sqlite3.OperationalError as exc:
        if is_disk_full(exc):
            raise store_full(path) from exc
        raise
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
    try:
        make_private(path)
        db = open_database(path)
        return _migrate(db)
    except OSError as exc:
        raise ConfigError(
            f"PULSE_DB ({path}) cannot be opened ({exc.strerror or exc}): point PULSE_DB at a file this account "
            "can create and write.") from None
    except sqlite3.DatabaseError as exc:
        if is_disk_full(exc):
            raise store_full(path) from exc
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise
        raise ConfigError(
            f"PULSE_DB ({path}) cannot be used as the Journey Pulse database ({exc}): restore the file from a "
            "backup, or point PULSE_DB at a new file to start an empty database.") from None


def _migrate(db: sqlite_utils.Database) -> list[str]:
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


def make_private(path: Path) -> None:
    """Data folder 0700 and database files 0600 (created so before SQLite opens them; tightened if older).

    An existing folder is tightened only when it is this account's own and not a shared one (sticky like
    /tmp, the home folder, the working directory): PULSE_DB=/tmp/pulse.db must not lock others out of /tmp.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    else:
        info = folder.stat()
        # Shared (sticky, like /tmp), the home folder or the working directory: they hold more than the store.
        shared = info.st_mode & stat.S_ISVTX or folder.resolve() in (Path.home().resolve(), Path("/"), Path.cwd())
        if info.st_uid == os.geteuid() and not shared and stat.S_IMODE(info.st_mode) & 0o077:
            folder.chmod(stat.S_IMODE(info.st_mode) & 0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            if stat.S_IMODE(name.stat().st_mode) & 0o077:
                name.chmod(0o600)
        except FileNotFoundError:
            pass


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


def store_health(path: str | os.PathLike[str]) -> dict[str, object]:
    """What /api/health reports about the store: reachable (a read), writable (a real committed write to
    ``app_meta``), free bytes on its disk, and ``ok`` when all hold with at least :data:`LOW_DISK_BYTES` free."""
    report: dict[str, object] = {"reachable": False, "writable": False, "disk_free_bytes": None}
    try:
        report["disk_free_bytes"] = shutil.disk_usage(Path(path).resolve().parent).free
    except OSError:
        pass
    problem = None
    try:
        with connect(path) as db:
            db.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            report["reachable"] = True
            with transaction(db):
                db.conn.execute("INSERT INTO app_meta (key, value) VALUES ('health_probe', ?) "
                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (utcnow(),))
            report["writable"] = True
    except (StoreFull, ConfigError) as exc:
        problem = str(exc)
    except (sqlite3.Error, OSError) as exc:
        problem = (f"The database at PULSE_DB ({Path(path)}) cannot be {'written' if report['reachable'] else 'read'}"
                   f" ({exc}): check that disk and the file's permissions.")
    free = report["disk_free_bytes"]
    low = isinstance(free, int) and free < LOW_DISK_BYTES
    if low:  # the likeliest cause of any failure above, and the thing to fix
        problem = (f"The disk of PULSE_DB ({Path(path)}) has {free:,} bytes free: free space on that disk (or "
                   "point PULSE_DB at a larger one) before syncs fail.")
    report["ok"] = bool(report["reachable"] and report["writable"] and not low)
    if problem:
        report["problem"] = problem
    return report

"""The SQLite engine: opening a connection with the pragmas every operation relies on, and the file's privacy.

Why a connection per operation: Streamlit runs every session in its own thread and a cached
``sqlite3.Connection`` fails or interleaves transactions across them (streamlit-notes §5.3). Opening
costs about 0.1 ms, so every operation opens, works and closes.

Why ``isolation_level=None``: the driver then never opens transactions behind our back. Reads run in
autocommit; every write that reads before it writes starts with ``BEGIN IMMEDIATE`` (see
:func:`workspace.store.transaction`), because a deferred ``BEGIN`` that upgrades from read to write fails
with "database is locked" under concurrency no matter how long the busy timeout is (streamlit-notes §5.3).

The files hold respondents' answers and comments, so they are private to the account running the app: the
data folder 0700, ``pulse.db`` created 0600 before SQLite opens it (SQLite gives ``-wal`` and ``-shm`` the
mode of the database file), and existing files tightened on the first open of each process.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

BUSY_TIMEOUT_SECONDS = 5.0


def open_connection(path: Path, timeout: float = BUSY_TIMEOUT_SECONDS) -> sqlite3.Connection:
    """A fresh connection on ``path`` with the per-connection pragmas set; the caller closes it."""
    conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL + NORMAL: a commit does not fsync the database, only WAL checkpoints do; a power cut can lose
    # the last commits but never corrupts the file, and a process crash loses nothing committed.
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def set_cache_size(conn: sqlite3.Connection, kib: int) -> None:
    """Give this connection a page cache of ``kib`` KiB (a sync landing a big export keeps the B-tree in it)."""
    conn.execute(f"PRAGMA cache_size = -{int(kib)}")


def use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL (persistent; readers then never block the writer). Done once, before migrating."""
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")


def is_disk_full(exc: BaseException) -> bool:
    """SQLITE_FULL: the disk (or the database's size limit) is full."""
    return isinstance(exc, sqlite3.OperationalError) and (
        getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "database or disk is full" in str(exc))


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

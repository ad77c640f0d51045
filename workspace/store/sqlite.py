"""The SQLite engine: opening a connection with the pragmas every operation relies on, and the file's privacy.

Why a connection per operation: Streamlit runs every session in its own thread and a cached
``sqlite3.Connection`` fails or interleaves transactions across them (streamlit-notes §5.3). So each
operation takes a connection of its own, and hands it back when done: opening one and parsing this schema
on its first statement costs about 1.3 ms, a reused one nothing, and a wall screen's refresh or a page
rerun runs a dozen operations (:class:`Pool`).

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
import threading
import time
from pathlib import Path

BUSY_TIMEOUT_SECONDS = 5.0
#: A pooled connection unused this long is closed.
IDLE_SECONDS = 10.0


def open_connection(path: Path, timeout: float = BUSY_TIMEOUT_SECONDS) -> sqlite3.Connection:
    """A fresh connection on ``path`` with the per-connection pragmas set; the caller closes it."""
    conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL + NORMAL: a commit does not fsync the database, only WAL checkpoints do; a power cut can lose
    # the last commits but never corrupts the file, and a process crash loses nothing committed.
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


#: ids of connections whose pragmas an operation changed: they are closed, never handed to the next operation.
_tuned: set[int] = set()


def set_cache_size(conn: sqlite3.Connection, kib: int) -> None:
    """Give this connection a page cache of ``kib`` KiB (a sync landing a big export keeps the B-tree in it).
    The connection is then closed after its operation, so that the memory goes with it."""
    conn.execute(f"PRAGMA cache_size = -{int(kib)}")
    _tuned.add(id(conn))


class Pool:
    """Idle connections to one file, handed to the next operation instead of opening a new one.

    Only a connection whose operation ended cleanly comes back, and only with no transaction open and its
    pragmas as :func:`open_connection` set them; one that raised is closed (it may be mid-transaction or
    broken). Connections idle for :data:`IDLE_SECONDS` are closed, so that a process at rest holds the file
    as before (the last close checkpoints the WAL into the file and removes it). One opened on a file that
    is no longer at the path, or in the parent of a forked process, is closed instead of reused.
    """

    def __init__(self, path: Path, size: int = 8) -> None:
        self.path = path
        self.size = size
        self._idle: list[tuple[sqlite3.Connection, tuple[int, int], float]] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._reaper: threading.Timer | None = None

    def _identity(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return info.st_dev, info.st_ino

    def take(self) -> tuple[sqlite3.Connection, tuple[int, int] | None]:
        """A connection for one operation, and the identity of the file it is valid for (hand both back)."""
        identity = self._identity()
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's connections are not ours to use
                self._idle, self._pid, self._reaper = [], os.getpid(), None
            stale = [entry[0] for entry in self._idle if entry[1] != identity]
            self._idle = [entry for entry in self._idle if entry[1] == identity]
            conn = self._idle.pop()[0] if self._idle else None
        for old in stale:
            old.close()
        return (conn if conn is not None else open_connection(self.path)), identity

    def give_back(self, conn: sqlite3.Connection, identity: tuple[int, int] | None, clean: bool) -> None:
        """Keep ``conn`` for the next operation if its operation ended ``clean``ly, else close it. It stays
        tagged with the file it was taken for: if that file was replaced meanwhile, the next take drops it."""
        tuned = id(conn) in _tuned
        _tuned.discard(id(conn))
        if clean and not conn.in_transaction and not tuned and identity is not None:
            with self._lock:
                if len(self._idle) < self.size and self._pid == os.getpid():
                    self._idle.append((conn, identity, time.monotonic()))
                    if self._reaper is None:
                        self._arm()
                    return
        conn.close()

    def _arm(self) -> None:
        self._reaper = threading.Timer(IDLE_SECONDS, self._reap)
        self._reaper.daemon = True
        self._reaper.start()

    def _reap(self) -> None:
        cutoff = time.monotonic() - IDLE_SECONDS
        with self._lock:
            old = [entry[0] for entry in self._idle if entry[2] <= cutoff]
            self._idle = [entry for entry in self._idle if entry[2] > cutoff]
            if self._idle:
                self._arm()
            else:
                self._reaper = None
        for conn in old:
            conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            if self._reaper is not None:
                self._reaper.cancel()
                self._reaper = None
        for conn, *_ in idle:
            conn.close()


_pools: dict[str, Pool] = {}
_pools_lock = threading.Lock()


def pool(path: Path, key: str) -> Pool:
    """The process's pool for the file ``key`` names (its resolved path)."""
    found = _pools.get(key)
    if found is None:
        with _pools_lock:
            found = _pools.setdefault(key, Pool(path))
    return found


def close_pool(key: str) -> None:
    """Close the idle connections to the file ``key`` names (after it was replaced, or to release it)."""
    with _pools_lock:
        found = _pools.pop(key, None)
    if found is not None:
        found.close()


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

"""The PostgreSQL engine: one connection pool per database URL, configured so rows read as they do on SQLite.

Imported only when ``PULSE_DATABASE_URL`` names PostgreSQL: psycopg costs about 0.3 s to import, which an
SQLite user's every command would otherwise pay.

What the configuration evens out, so one SQL text serves both engines:

- ``numeric`` (what ``AVG`` and ``SUM`` of a bigint return) reads as ``float``, as SQLite's REAL does, not
  ``Decimal``;
- a Python ``bool`` is sent as an integer: flags are INTEGER 0/1 columns on both engines;
- connections are in autocommit and :func:`workspace.store.transaction` opens transactions itself, as it
  does on SQLite, so a read never holds a snapshot (or a lock) longer than its statement.

Writers are serialised with one transaction-scoped advisory lock (:data:`WRITE_LOCK`): SQLite's
``BEGIN IMMEDIATE`` gives every read-then-write transaction that guarantee, and the store's code relies on
it (a next position, an exactly-once insert). A sync job's claim (workspace/jobs.py) runs inside it too,
with ``FOR UPDATE SKIP LOCKED`` besides, so it stays correct if claims ever move out from under the lock.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from psycopg.adapt import Dumper
from psycopg.types.numeric import FloatLoader
from psycopg_pool import ConnectionPool

from workspace.store.postgres_lock import WRITE_LOCK

#: Per app process: a Streamlit server runs sessions in threads, a sync and the scheduler beside them.
POOL_MAX = 10
CONNECT_TIMEOUT_SECONDS = 5

_pools: dict[str, ConnectionPool] = {}
_pools_lock = threading.Lock()


class _BoolAsInteger(Dumper):
    oid = psycopg.adapters.types["int4"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_loader("numeric", FloatLoader)
    conn.adapters.register_dumper(bool, _BoolAsInteger)


def open_connection(url: str) -> psycopg.Connection[Any]:
    """A single configured connection outside the pool (for migrations, move-store and tests)."""
    conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    _configure(conn)
    return conn


def pool(url: str) -> ConnectionPool:
    """This process's pool for ``url``, opened on first use and checked on every borrow."""
    existing = _pools.get(url)
    if existing is not None:
        return existing
    with _pools_lock:
        if url not in _pools:
            _pools[url] = ConnectionPool(
                url, min_size=1, max_size=POOL_MAX, open=True, configure=_configure,
                kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
                check=ConnectionPool.check_connection, timeout=CONNECT_TIMEOUT_SECONDS + 5,
                name="journey-pulse")
        return _pools[url]


def close_pools() -> None:
    """Close every pool of this process (tests that drop their databases; a clean shutdown)."""
    with _pools_lock:
        for p in _pools.values():
            p.close()
        _pools.clear()


def begin(conn: psycopg.Connection[Any]) -> None:
    conn.execute("BEGIN")
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))


def in_transaction(conn: psycopg.Connection[Any]) -> bool:
    return conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, psycopg.errors.DiskFull)


def is_unreachable(exc: BaseException) -> bool:
    """The server cannot be reached or refused us (as opposed to an error in a statement)."""
    from psycopg_pool import PoolTimeout
    return isinstance(exc, (psycopg.OperationalError, PoolTimeout)) and not isinstance(exc, psycopg.errors.DiskFull)

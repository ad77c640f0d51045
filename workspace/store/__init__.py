"""The store: every table the app keeps, in an SQLite file (``PULSE_DB``, the default, no server to run) or in
PostgreSQL (``PULSE_DATABASE_URL``), behind one interface.

    with connect(settings.store) as db, transaction(db):
        db.execute("UPDATE metrics SET title = ? WHERE id = ?", (title, metric_id))

:func:`connect` opens a :class:`Database` for one operation (on a pooled connection), migrating
the schema on the first use in a process; :func:`transaction` is the one way to write. Engine errors never
reach a page as they are: a full disk becomes :class:`~workspace.errors.StoreFull`, a file that is not a
database or a server that cannot be reached a :class:`~workspace.config.ConfigError`, each one sentence
naming the setting and what to do.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from workspace.config import ConfigError
from workspace.errors import StoreFull
from workspace.store import sqlite
from workspace.store.database import Database, transaction, utcnow
from workspace.store.errors import engine_errors_explained, first_line
from workspace.store.location import Location
from workspace.store.migrate import HEAD, current_revision, ensure_migrated, forget_migrated, migrate

__all__ = ["Database", "Location", "connect", "transaction", "utcnow", "ensure_migrated", "forget_migrated",
           "migrate", "current_revision", "HEAD", "store_health", "LOW_DISK_BYTES"]

Target = str | os.PathLike[str] | Location

#: Below this much free space on an SQLite store's disk, /api/health reports the store not ok: a sync would
#: soon fail with "database or disk is full".
LOW_DISK_BYTES = 1024 * 1024


@contextmanager
def connect(target: Target) -> Iterator[Database]:
    """Open the store for one operation, migrating it first if this process has not done so yet."""
    location = Location.of(target)
    with engine_errors_explained(location):
        ensure_migrated(location)
        if location.is_postgresql:
            from workspace.store import postgres
            with postgres.pool(str(location.url)).connection() as conn:
                yield Database(conn, location)
        else:
            connections = sqlite.pool(location.path, location.key)  # type: ignore[arg-type]
            (conn, identity), clean = connections.take(), False
            try:
                yield Database(conn, location)
                clean = True
            finally:
                connections.give_back(conn, identity, clean)


def store_health(target: Target) -> dict[str, Any]:
    """What /api/health reports about the store: reachable (a read), writable (a real committed write to
    ``app_meta``), for a file the free bytes on its disk, and ``ok`` when all hold (a file's disk with at least
    :data:`LOW_DISK_BYTES` free)."""
    location = Location.of(target)
    report: dict[str, Any] = {"engine": location.engine, "reachable": False, "writable": False,
                              "disk_free_bytes": None}
    if location.path is not None:
        try:
            report["disk_free_bytes"] = shutil.disk_usage(location.path.resolve().parent).free
        except OSError:
            pass
    problem = None
    try:
        with connect(location) as db:
            db.execute("SELECT count(*) FROM app_meta").fetchone()
            report["reachable"] = True
            with transaction(db):
                db.execute("INSERT INTO app_meta (key, value) VALUES ('health_probe', ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (utcnow(),))
            report["writable"] = True
    except (StoreFull, ConfigError) as exc:
        problem = str(exc)
    except Exception as exc:  # an engine error: say which store and what to check
        problem = (f"The database at {location.describe()} cannot be "
                   f"{'written' if report['reachable'] else 'read'} ({first_line(exc)}): check "
                   f"{'that disk and the file' if location.path is not None else 'the server and the account'}"
                   "'s permissions.")
    free = report["disk_free_bytes"]
    low = isinstance(free, int) and free < LOW_DISK_BYTES
    if low:  # the likeliest cause of any failure above, and the thing to fix
        problem = (f"The disk of {location.describe()} has {free:,} bytes free: free space on that disk (or "
                   "point PULSE_DB at a larger one) before syncs fail.")
    report["ok"] = bool(report["reachable"] and report["writable"] and not low)
    if problem:
        report["problem"] = problem
    return report

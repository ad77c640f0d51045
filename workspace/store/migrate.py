"""Creating and upgrading the store's schema with Alembic, on either engine, once per process.

The revisions live in ``workspace/store/migrations/versions``. Rules: never edit a released revision; add
one (``op.create_table`` and friends, so it runs on both engines; SQLite ALTERs go through Alembic's batch
mode). :data:`HEAD` names the newest, so that the check every process makes on its first connection is one
``SELECT`` and imports neither SQLAlchemy nor Alembic (together about 0.6 s) when nothing is pending.

Stores made by the SQLite-only releases carry their own migration table (``_sqlite_migrations``): they are
brought to that line's last version by :mod:`workspace.store.legacy_sqlite`, then stamped at the baseline
revision, which creates the same schema.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from workspace.store import sqlite
from workspace.store.errors import engine_errors_explained
from workspace.store.location import Location

#: The newest revision (tests/test_store_migrations.py checks it against the revisions folder).
HEAD = "0004"
BASELINE = "0001"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: How long a second process starting at the same moment waits for the first one's migration.
MIGRATION_WAIT_SECONDS = 60.0

_migrated: set[str] = set()
_lock = threading.RLock()  # Alembic keeps its context in module globals: one migration at a time


def ensure_migrated(target: "str | os.PathLike[str] | Location") -> None:
    """Migrate the store once per process (later calls cost a set lookup)."""
    location = Location.of(target)
    if location.key in _migrated:
        return
    with _lock:
        if location.key not in _migrated:
            if location.path is not None:
                sqlite.make_private(location.path)
            if current_revision(location) != HEAD:
                migrate(location)
            _migrated.add(location.key)


def forget_migrated(target: "str | os.PathLike[str] | Location") -> None:
    """Make the next connection re-check the schema (after the file was replaced or the database dropped)."""
    location = Location.of(target)
    _migrated.discard(location.key)
    if location.path is not None:
        sqlite.close_pool(location.key)


def current_revision(target: "str | os.PathLike[str] | Location") -> str | None:
    """The store's Alembic revision, None for an empty (or a pre-Alembic) store."""
    conn = _raw_connection(Location.of(target))
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    except Exception as exc:
        if _is_missing_table(exc):
            return None
        raise
    finally:
        conn.close()


def migrate(target: "str | os.PathLike[str] | Location") -> list[str]:
    """Create or upgrade the store; returns what was applied now (empty when it was current): the legacy
    steps of an SQLite-only release's store by name, then Alembic revisions.

    Safe to run from several processes at once: the upgrade runs in one transaction that takes the write lock
    first (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL), so the second finds nothing to do.
    """
    location = Location.of(target)
    with engine_errors_explained(location), _lock:
        return _migrate(location)


def _migrate(location: Location) -> list[str]:
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    legacy: list[str] | None = None
    if location.path is not None:
        sqlite.make_private(location.path)
        conn = sqlite.open_connection(location.path, timeout=MIGRATION_WAIT_SECONDS)
        try:
            sqlite.use_wal(conn)
            from workspace.store import legacy_sqlite
            legacy = legacy_sqlite.upgrade(conn)
        finally:
            conn.close()
    engine = _engine(location)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            before = MigrationContext.configure(connection).get_current_revision()
            connection.commit()
            if before is None and legacy is not None:
                command.stamp(config, BASELINE)
            command.upgrade(config, "head")
            connection.commit()
    finally:
        engine.dispose()
    return (legacy or []) + [rev for rev in config.attributes.get("applied", []) if legacy is None or rev != BASELINE]


def _engine(location: Location) -> Any:
    import sqlalchemy
    from sqlalchemy.pool import NullPool
    if location.path is None:
        return sqlalchemy.create_engine(location.sqlalchemy_url, poolclass=NullPool)
    engine = sqlalchemy.create_engine(location.sqlalchemy_url, poolclass=NullPool,
                                      connect_args={"timeout": MIGRATION_WAIT_SECONDS})

    # SQLAlchemy's recipe for real SQLite transactions: the driver stays out of it, we emit BEGIN IMMEDIATE.
    @sqlalchemy.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @sqlalchemy.event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _raw_connection(location: Location) -> Any:
    if location.path is not None:
        return sqlite.open_connection(location.path)
    from workspace.store import postgres
    return postgres.open_connection(str(location.url))


def _is_missing_table(exc: Exception) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        return "no such table" in str(exc)
    return type(exc).__name__ == "UndefinedTable"

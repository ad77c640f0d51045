"""Alembic's entry point for the store's migrations; run by :func:`workspace.store.migrate.migrate`, which passes
the connection in (no alembic.ini: the app's settings say where the store is)."""

from __future__ import annotations

from alembic import context

from workspace.store.postgres_lock import MIGRATION_LOCK

connection = context.config.attributes["connection"]
applied = context.config.attributes.setdefault("applied", [])
context.configure(
    connection=connection, render_as_batch=connection.dialect.name == "sqlite",
    # What really ran, read under the lock below (a revision read before it can be stale by then).
    on_version_apply=lambda *, step, **_: applied.extend(step.up_revision_ids) if step.is_upgrade else None)

with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Two servers starting at once: the second waits here, then finds nothing pending. (SQLite gets the
        # same from BEGIN IMMEDIATE, which the migration engine emits when this transaction begins.)
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    context.run_migrations()

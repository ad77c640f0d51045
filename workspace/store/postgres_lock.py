"""Advisory lock keys the store takes on PostgreSQL (kept apart from :mod:`postgres` so that Alembic's
environment can name them without importing psycopg's pool)."""

#: Every write transaction (see :mod:`workspace.store.postgres`): "JPLS".
WRITE_LOCK = 0x4A504C53
#: Migrating the schema: "JPLM".
MIGRATION_LOCK = 0x4A504C4D

"""Both routes to today's SQLite schema agree: a new store (Alembic's baseline) and a store made by the
SQLite-only releases (their sqlite-utils migrations, then stamped). Column by column, with SQLite's type
affinity, keys, foreign keys, indexes and WITHOUT ROWID."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from workspace import store
from workspace.store.migrate import MIGRATIONS_DIR
from workspace.store.legacy_sqlite import MIGRATIONS

pytestmark = pytest.mark.sqlite_only
ROOT = Path(__file__).resolve().parent.parent


def _affinity(declared: str) -> str:
    """SQLite's rules (datatype3.html §3.1): FLOAT and REAL are both REAL."""
    kind = declared.upper()
    if "INT" in kind:
        return "INTEGER"
    if any(word in kind for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in kind or not kind:
        return "BLOB"
    if any(word in kind for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


#: Every revision, oldest first (the baseline first).
_REVISIONS = sorted(p.name.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))


def _shape(path) -> dict[str, tuple]:
    conn = sqlite3.connect(path)
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT IN ('_sqlite_migrations', 'alembic_version')")]
    shape = {}
    for table in tables:
        columns = [(name, _affinity(kind), bool(notnull) or pk > 0, (default or "").strip("'"), pk)
                   for _, name, kind, notnull, default, pk in conn.execute(f"PRAGMA table_info({table})")]
        foreign = sorted((row[2], row[3], row[4], row[6]) for row in conn.execute(f"PRAGMA foreign_key_list({table})"))
        indexes = sorted(
            (row[1], row[2], tuple(r[2] for r in conn.execute(f"PRAGMA index_info({row[1]})")))
            for row in conn.execute(f"PRAGMA index_list({table})") if row[3] == "c")
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        shape[table] = (columns, foreign, indexes, sql.upper().rstrip().endswith("WITHOUT ROWID"))
    conn.close()
    return shape


def test_a_new_store_has_exactly_the_schema_the_sqlite_only_releases_left(tmp_path):
    legacy = tmp_path / "legacy.db"
    MIGRATIONS.apply(sqlite_utils.Database(legacy))
    store.migrate(legacy)  # stamped at the baseline, then the revisions since, as a new store gets them
    store.migrate(tmp_path / "new.db")
    assert _shape(tmp_path / "new.db") == _shape(legacy)


def test_a_store_of_the_sqlite_only_releases_is_stamped_and_keeps_its_rows(tmp_path):
    path = tmp_path / "pulse.db"
    old = sqlite_utils.Database(path)
    MIGRATIONS.apply(old)
    old.conn.execute("INSERT INTO journeys (name, created_at) VALUES ('Onboarding', '2026-01-01T00:00:00Z')")
    old.conn.commit()
    old.conn.close()

    assert store.migrate(path) == _REVISIONS[1:], "stamped at the baseline, then the revisions since"
    assert store.current_revision(path) == store.HEAD
    with store.connect(path) as db:
        assert db.execute("SELECT name FROM journeys").fetchall() == [("Onboarding",)]


def test_three_processes_starting_at_once_migrate_once(tmp_path):
    path = tmp_path / "pulse.db"
    code = "import json, sys; from workspace.store import migrate; print(json.dumps(migrate(sys.argv[1])))"
    processes = [subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                                  text=True) for _ in range(3)]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in processes]
    assert sorted(results) == [[], [], _REVISIONS]
    assert store.current_revision(path) == store.HEAD

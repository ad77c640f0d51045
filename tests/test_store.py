"""The store's one interface on both engines: SQL written once with ``?`` placeholders, ids from
``RETURNING``, transactions that roll back whole, and engine errors as sentences naming the setting.

Run on SQLite by default and on PostgreSQL with ``--engine postgresql`` (tests/engines.py).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from tests.sandbox_fixtures import wait_until
from tests.test_workspace_support import settings_for
from workspace import store
from workspace.config import ConfigError, Settings
from workspace.store.database import to_format_style
from workspace.store.location import Location


def test_placeholders_become_psycopg_style_and_quoted_text_is_left_alone():
    assert to_format_style("SELECT * FROM t WHERE a = ? AND b LIKE 'x%?' AND c = ?") == (
        "SELECT * FROM t WHERE a = %s AND b LIKE 'x%%?' AND c = %s")
    assert to_format_style("SELECT 'it''s ?', \"odd?col\" FROM t WHERE x % 2 = ?") == (
        "SELECT 'it''s ?', \"odd?col\" FROM t WHERE x %% 2 = %s")


def test_locations_parse_every_spelling_and_never_show_a_password(tmp_path):
    assert Location.of(tmp_path / "p.db").path == tmp_path / "p.db"
    assert Location.of("sqlite:////var/lib/pulse.db").path.as_posix() == "/var/lib/pulse.db"
    for url in ("postgresql://u:s3cret@db.example:5432/pulse", "postgres://u:s3cret@db.example:5432/pulse",
                "postgresql+psycopg://u:s3cret@db.example:5432/pulse"):
        location = Location.of(url)
        assert location.is_postgresql and location.url == "postgresql://u:s3cret@db.example:5432/pulse"
        assert "s3cret" not in location.describe() and "db.example:5432/pulse" in location.describe()
    with pytest.raises(ConfigError, match="PULSE_DATABASE_URL must start with postgresql://"):
        Settings.load({"PULSE_DATABASE_URL": "mysql://u@h/db"}, secrets_path=None)
    settings = Settings.load({"PULSE_DATABASE_URL": "postgresql://u:s3cret@h/db"}, secrets_path=None)
    assert settings.store.is_postgresql and "s3cret" not in repr(settings)


def test_new_ids_come_back_and_rows_read_the_same_on_either_engine(tmp_path):
    settings = settings_for(tmp_path)
    with store.connect(settings.store) as db, store.transaction(db):
        first = db.insert_returning_id("INSERT INTO journeys (name, created_at) VALUES (?, ?)", ("A", store.utcnow()))
        second = db.insert_returning_id("INSERT INTO journeys (name, created_at) VALUES (?, ?)", ("B", store.utcnow()))
    assert second == first + 1
    with store.connect(settings.store) as db:
        assert list(db.query("SELECT name FROM journeys WHERE name LIKE ? ORDER BY id", ("%",))) == [
            {"name": "A"}, {"name": "B"}]
        average, count = db.execute("SELECT AVG(id), COUNT(*) FROM journeys").fetchone()
    assert isinstance(average, float) and average == first + 0.5 and count == 2


def test_a_failed_transaction_leaves_nothing_behind(tmp_path):
    settings = settings_for(tmp_path)
    with pytest.raises(RuntimeError), store.connect(settings.store) as db, store.transaction(db):
        db.execute("INSERT INTO journeys (name, created_at) VALUES (?, ?)", ("Half", store.utcnow()))
        raise RuntimeError("interrupted")
    with store.connect(settings.store) as db:
        assert db.execute("SELECT count(*) FROM journeys").fetchone()[0] == 0


def test_write_transactions_from_many_threads_never_lose_an_update(tmp_path):
    """Read-then-write under the write lock: each thread adds one to the same counter."""
    settings = settings_for(tmp_path)
    with store.connect(settings.store) as db, store.transaction(db):
        db.execute("INSERT INTO app_meta (key, value) VALUES ('counter', '0')")

    def add_one() -> None:
        for _ in range(10):
            with store.connect(settings.store) as db, store.transaction(db):
                value = int(db.execute("SELECT value FROM app_meta WHERE key = 'counter'").fetchone()[0])
                db.execute("UPDATE app_meta SET value = ? WHERE key = 'counter'", (str(value + 1),))

    threads = [threading.Thread(target=add_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.connect(settings.store) as db:
        assert db.execute("SELECT value FROM app_meta WHERE key = 'counter'").fetchone()[0] == "40"


def test_the_store_is_at_the_newest_revision_and_migrating_again_does_nothing(tmp_path):
    settings = settings_for(tmp_path)
    with store.connect(settings.store) as db:
        assert "metrics" in db.table_names()
    assert store.current_revision(settings.store) == store.HEAD
    assert store.migrate(settings.store) == []


def test_head_names_the_newest_revision_in_the_folder():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from workspace.store.migrate import MIGRATIONS_DIR
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == store.HEAD


@pytest.mark.postgresql_only
def test_an_unreachable_server_is_one_sentence_naming_the_setting_without_its_password():
    with pytest.raises(ConfigError) as raised, store.connect("postgresql://u:s3cret@127.0.0.1:9/pulse"):
        pass
    message = str(raised.value)
    assert message.startswith("The database at PULSE_DATABASE_URL (127.0.0.1:9/pulse) cannot be reached")
    assert "s3cret" not in message


# -- SQLite's connection pool ------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_a_connection_whose_operation_ended_cleanly_serves_the_next_operation(tmp_path):
    settings = settings_for(tmp_path)
    with store.connect(settings.store) as db:
        first = db.conn
    with store.connect(settings.store) as db:
        assert db.conn is first
        assert db.execute("SELECT count(*) FROM app_meta").fetchone()[0] >= 0


@pytest.mark.sqlite_only
def test_a_connection_whose_operation_raised_or_left_a_transaction_open_is_closed_not_reused(tmp_path):
    settings = settings_for(tmp_path)
    with pytest.raises(RuntimeError):
        with store.connect(settings.store) as db:
            raised = db.conn
            raise RuntimeError("the operation failed half way")
    with store.connect(settings.store) as db:
        assert db.conn is not raised
        open_transaction = db.conn
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO app_meta (key, value) VALUES ('left', 'open')")
    with store.connect(settings.store) as db:
        assert db.conn is not open_transaction
        assert db.execute("SELECT count(*) FROM app_meta WHERE key = 'left'").fetchone()[0] == 0, "rolled back"
    for old in (raised, open_transaction):
        with pytest.raises(Exception, match="closed"):
            old.execute("SELECT 1")


@pytest.mark.sqlite_only
def test_a_pooled_connection_is_not_reused_once_its_file_was_deleted_and_made_anew(tmp_path):
    settings = settings_for(tmp_path)
    with store.connect(settings.store) as db, store.transaction(db):
        db.execute("INSERT INTO app_meta (key, value) VALUES ('where', 'the deleted file')")
        pooled = db.conn
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.db_path}{suffix}").unlink(missing_ok=True)
    store.migrate(settings.db_path)  # a new, empty store at the same path (made outside this process's pool)
    with store.connect(settings.store) as db, store.transaction(db):
        assert db.conn is not pooled
        assert db.execute("SELECT count(*) FROM app_meta WHERE key = 'where'").fetchone()[0] == 0
        db.execute("INSERT INTO app_meta (key, value) VALUES ('where', 'the new file')")
    with sqlite3.connect(settings.db_path) as raw:
        assert raw.execute("SELECT value FROM app_meta WHERE key = 'where'").fetchall() == [("the new file",)]


@pytest.mark.sqlite_only
def test_a_process_at_rest_closes_its_idle_connections_and_leaves_no_wal_file(tmp_path, monkeypatch):
    from workspace.store import sqlite

    monkeypatch.setattr(sqlite, "IDLE_SECONDS", 0.2)
    settings = settings_for(tmp_path)
    with store.connect(settings.store) as db, store.transaction(db):
        db.execute("INSERT INTO app_meta (key, value) VALUES ('written', 'now')")
        idle = db.conn
    wal = Path(f"{settings.db_path}-wal")
    assert wal.exists(), "the WAL stays while a connection is open"
    wait_until(lambda: not wal.exists(), timeout=10, what="the idle connection closed and the WAL folded in")
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        idle.execute("SELECT 1")
    with sqlite3.connect(settings.db_path) as raw:
        assert raw.execute("SELECT value FROM app_meta WHERE key = 'written'").fetchall() == [("now",)]


@pytest.mark.sqlite_only
def test_a_connection_given_a_bigger_page_cache_is_closed_after_its_operation(tmp_path):
    from workspace.store import sqlite

    settings = settings_for(tmp_path)
    with store.connect(settings.store) as db:
        sqlite.set_cache_size(db.conn, 256 * 1024)
        tuned = db.conn
    with store.connect(settings.store) as db:
        assert db.conn is not tuned
        assert db.execute("PRAGMA cache_size").fetchone()[0] == -2000, "the default cache (2 MiB)"

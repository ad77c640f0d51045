"""Finding 11: a full disk during a sync is one sentence naming PULSE_DB and what to do, with nothing lost;
at 0 bytes free /api/health says not ok; a corrupt or unreadable PULSE_DB at start is one sentence too.

Two ways to fill the store, both real SQLite errors (SQLITE_FULL):
- ``PRAGMA max_page_count`` caps one connection's database at its current size (runs anywhere);
- a 2 MiB tmpfs mounted under the test's folder holds the whole store (needs root; skipped otherwise). The
  sync then really runs out of disk, and the store is grown by remounting the tmpfs larger.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app import MIDDLEWARE, ROUTES
from qualtrics.sandbox import Sandbox
from tests.test_workspace_support import assert_stored_equals_truth, settings_for
from workspace import bootstrap, catalog, metrics, runs, store
from workspace.answers import stored_answers
from workspace.config import ConfigError
from workspace.connection import open_client
from workspace.errors import StoreFull
from workspace.sync import sync_survey

#: Disk-full and corrupt-file behaviour of the SQLite file; PostgreSQL runs on its own server.
pytestmark = pytest.mark.sqlite_only


def test_a_full_database_is_one_sentence_naming_pulse_db_and_keeps_what_was_stored(tmp_path):
    settings = settings_for(tmp_path)
    with store.connect(settings.store) as conn, store.transaction(conn):
        conn.conn.execute("INSERT INTO app_meta (key, value) VALUES ('kept', 'earlier data')")
    with pytest.raises(StoreFull) as raised:
        with store.connect(settings.store) as conn:
            pages = conn.conn.execute("PRAGMA page_count").fetchone()[0]
            conn.conn.execute(f"PRAGMA max_page_count = {pages}")  # this connection's database is now full
            with store.transaction(conn):
                conn.conn.execute("INSERT INTO app_meta (key, value) VALUES ('big', ?)", ("x" * 200_000,))
    message = str(raised.value)
    assert "PULSE_DB" in message and str(settings.db_path) in message and "free space" in message
    assert message.count(". ") == 0 and "\n" not in message, "one sentence"
    with store.connect(settings.store) as conn:
        rows = dict(conn.conn.execute("SELECT key, value FROM app_meta").fetchall())
        assert conn.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert rows.get("kept") == "earlier data" and "big" not in rows


@pytest.mark.parametrize("content", [b"this is not a database, it is a text file\n" * 100,
                                     b"SQLite format 3\x00" + os.urandom(8192)])
def test_a_corrupt_store_at_start_is_one_sentence_naming_pulse_db(tmp_path, content):
    path = tmp_path / "pulse.db"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as raised:
        store.migrate(path)
    assert "PULSE_DB" in str(raised.value) and str(path) in str(raised.value) and "backup" in str(raised.value)
    assert path.read_bytes() == content, "the file is left as it was, for recovery"


def test_an_unreadable_store_at_start_is_one_sentence_naming_pulse_db(tmp_path):
    path = tmp_path / "pulse.db"
    path.mkdir()  # a folder where the database file should be: SQLite cannot open it
    with pytest.raises(ConfigError, match="PULSE_DB"):
        store.migrate(path)


# ---------------------------------------------------------------- a real full disk (tmpfs, root only)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the max_page_count test above covers SQLITE_FULL")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def grow(mount: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)


@pytest.mark.slow
def test_a_sync_that_fills_the_disk_says_so_loses_nothing_and_resumes(small_disk, tmp_path):
    with Sandbox(seed=21, responses=800) as sb:
        settings = settings_for(tmp_path, sb, PULSE_DB=str(small_disk / "pulse.db"))
        survey_id = sb.survey_ids["nps"]
        with open_client(settings) as client:
            catalog.refresh_questions(settings, client, survey_id)
        metrics.create_metric(settings, survey_id, "QID1", "nps")
        first = sync_survey(settings, survey_id)
        assert first.ok, first.message
        stored_before = assert_stored_equals_truth(settings, sb, survey_id, "QID1")
        token_before = runs.survey_state(settings, survey_id).continuation_token
        assert stored_before > 700 and token_before

        sb.add_responses("nps", 60_000)  # far more than the 2 MiB disk can take
        seen: list[tuple[str, float]] = []
        full = sync_survey(settings, survey_id, progress=lambda stage, fraction: seen.append((stage, fraction)))

        assert full.status == "failed"
        assert "PULSE_DB" in (full.message or "") and "free space" in (full.message or "")
        assert "\n" not in full.message
        assert seen, "progress was reported until the failure, then the call returned (nothing hangs)"
        assert len(stored_answers(settings, survey_id, "QID1")) == stored_before, "nothing lost, nothing half"
        assert runs.survey_state(settings, survey_id).continuation_token == token_before
        with sqlite3.connect(settings.db_path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        grow(small_disk, "256m")
        resumed = sync_survey(settings, survey_id)
        assert resumed.ok, resumed.message
        assert_stored_equals_truth(settings, sb, survey_id, "QID1")


@pytest.mark.slow
def test_health_says_not_ok_at_zero_bytes_free(small_disk, monkeypatch, tmp_path):
    for name in ("QUALTRICS_BASE_URL", "QUALTRICS_DATACENTER", "QUALTRICS_CLIENT_ID", "QUALTRICS_CLIENT_SECRET",
                 "QUALTRICS_API_TOKEN", "PULSE_SECRET_KEY", "PULSE_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PULSE_DB", str(small_disk / "pulse.db"))
    monkeypatch.setenv("PULSE_SANDBOX_LIVE", "0")
    bootstrap.shutdown()
    try:
        with TestClient(Starlette(routes=ROUTES, middleware=MIDDLEWARE)) as client:
            assert client.get("/api/health").status_code == 200
            # Unbuffered: a buffered file that hit ENOSPC raises again when closing, on what it still holds.
            with (small_disk / "filler").open("wb", buffering=0) as filler:
                try:
                    while True:
                        filler.write(b"\0" * 4096)
                except OSError:
                    pass
            assert os.statvfs(small_disk).f_bavail == 0
            answer = client.get("/api/health")
            assert answer.status_code == 503
            body = answer.json()
            assert body["status"] == "error" and body["database"]["disk_free_bytes"] == 0
            assert "PULSE_DB" in body["database"]["problem"]
            (small_disk / "filler").unlink()
            assert client.get("/api/health").status_code == 200, "ok again once there is room"
    finally:
        bootstrap.shutdown()

"""move-store: a store built by real syncs against the sandbox, moved from its SQLite file into PostgreSQL and
then used there by the app's own functions; and every refusal, each with the sentence that says what to do."""

from __future__ import annotations

import io
import sqlite3

import pytest
import sqlite_utils

from tests.test_workspace_support import (BROWSER, assert_stored_equals_truth, authorize_in_browser,
                                          settings_for)
from workspace import catalog, cli, connection, integration, journeys, metrics, runs, scores
from workspace.answers import set_segment_fields
from workspace.connection import AuthorizationOutcome, open_client
from workspace.datahub import endpoint
from workspace.store import HEAD, connect
from workspace.store.legacy_sqlite import MIGRATIONS
from workspace.store.move import MoveRefused, move_store
from workspace.sync import sync_survey

PASSPHRASE = "correct horse battery staple"  # a passphrase: its scrypt salt lives in the store's app_meta


def sqlite_store(tmp_path, sandbox, name: str = "pulse.db"):
    """An SQLite store (whatever engine the run uses) connected by OAuth and synced for real: a journey with
    a placed metric, segments, comments, a Data Hub key, a sync run."""
    s = settings_for(tmp_path, sandbox, api_token=False, PULSE_DB=str(tmp_path / name), PULSE_SECRET_KEY=PASSPHRASE)
    callback = authorize_in_browser(s)
    assert connection.complete_authorization(s, callback["state"], callback["code"],
                                             browser=BROWSER) == AuthorizationOutcome.CONNECTED
    survey_id = sandbox.survey_ids["nps"]
    with open_client(s) as client:
        catalog.refresh_questions(s, client, survey_id)
    metric = metrics.create_metric(s, survey_id, "QID1", "nps")
    done = journeys.ensure_journey(s, "Onboarding", [("Sign up", "Form"), ("Sign up", "Welcome mail")])
    journeys.place_metric(s, metric.id, done.journey.steps[0].id)
    set_segment_fields(s, survey_id, ["region"])
    endpoint.create_key(s, created_by="ops@example.com")
    result = sync_survey(s, survey_id)
    assert result.status == "succeeded", result.message
    return s, metric


@pytest.fixture(scope="module")
def synced_file(tmp_path_factory, _session_sandbox):
    """One synced SQLite store for the module's tests; each copies the file (a sync costs seconds)."""
    folder = tmp_path_factory.mktemp("synced")
    sqlite_store(folder, _session_sandbox)
    return folder / "pulse.db"


@pytest.fixture
def source(tmp_path, synced_file, sandbox):
    """Settings on this test's own copy of the synced store."""
    copy = tmp_path / "copy.db"
    with sqlite3.connect(synced_file) as original, sqlite3.connect(copy) as target:
        original.backup(target)  # the whole database, WAL included
    return settings_for(tmp_path, sandbox, api_token=False, PULSE_DB=str(copy), PULSE_SECRET_KEY=PASSPHRASE)


def raw_token(settings) -> bytes:
    with connect(settings.store) as db:
        return bytes(db.execute("SELECT token FROM integration WHERE id = 'qualtrics'").fetchone()[0])


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def empty_database(postgres_server):
    """A PostgreSQL database with nothing in it, not even the schema (the per-test one is migrated)."""
    import psycopg
    from tests.engines import _with_database
    name = "pulse_move_target"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(postgres_server, name)
    from workspace.store import postgres
    postgres.close_pools()
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgresql_only
def test_a_synced_store_moves_whole_and_the_app_carries_on_there(tmp_path, sandbox, source, empty_database,
                                                                  monkeypatch):
    metric = metrics.list_metrics(source)[0]
    monkeypatch.setenv("PULSE_DB", str(source.db_path))
    monkeypatch.setenv("PULSE_SECRET_KEY", PASSPHRASE)
    monkeypatch.delenv("PULSE_DATABASE_URL")

    code, out, err = run_cli("move-store", "--to", empty_database)
    assert code == 0, err
    assert "answers" in out and "DIFFERENT" not in out
    assert "copied still encrypted" in out and "PULSE_SECRET_KEY" in out
    with sqlite3.connect(source.db_path) as conn:
        answers_in_file = conn.execute("SELECT count(*) FROM answers").fetchone()[0]
    assert f"answers {answers_in_file:,} {answers_in_file:,} ok" in " ".join(out.split())

    moved = settings_for(tmp_path, sandbox, api_token=False, PULSE_DATABASE_URL=empty_database,
                         PULSE_SECRET_KEY=PASSPHRASE)
    assert moved.store.is_postgresql
    # Every table, row for row; the sealed token byte for byte, and it still opens with the same key.
    with sqlite3.connect(source.db_path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN "
                                             "('alembic_version', '_sqlite_migrations')")]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    with connect(moved.store) as db:
        assert {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables} == counts
    assert counts["response_segments"] > 0 and counts["comments"] > 0 and counts["datahub_keys"] == 1
    assert raw_token(moved) == raw_token(source)
    assert integration.load_token(moved) == integration.load_token(source)
    assert connection.integration_status(moved).connected

    before = {c.metric_id: (c.score.value, c.n, c.display) for c in scores.metric_cards(source)}
    assert {c.metric_id: (c.score.value, c.n, c.display) for c in scores.metric_cards(moved)} == before
    assert journeys.list_journeys(moved) == journeys.list_journeys(source)

    # New rows get ids after the copied ones.
    second = metrics.create_metric(moved, metric.survey_id, "QID1", "nps", title="Second")
    assert second.id == metric.id + 1
    stage = journeys.add_stage(moved, journeys.list_journeys(moved)[0].id, "Use")
    assert stage.id not in {s.id for s in journeys.list_journeys(source)[0].stages}


@pytest.mark.postgresql_only
def test_the_first_sync_after_the_move_continues_from_the_copied_token(tmp_path, fresh_sandbox, empty_database):
    source, metric = sqlite_store(tmp_path, fresh_sandbox)
    move_store(source.db_path, empty_database)
    moved = settings_for(tmp_path, fresh_sandbox, api_token=False, PULSE_DATABASE_URL=empty_database,
                         PULSE_SECRET_KEY=PASSPHRASE)
    fresh_sandbox.add_responses("nps", 12)
    again = sync_survey(moved, metric.survey_id)  # through the moved OAuth token: it decrypts and works
    assert again.status == "succeeded", again.message
    assert again.responses == 12
    assert again.run_id == max(r.id for r in runs.latest_runs(source)) + 1
    assert_stored_equals_truth(moved, fresh_sandbox, metric.survey_id, "QID1")


@pytest.mark.postgresql_only
def test_an_interrupted_move_leaves_the_target_empty_and_runs_again(tmp_path, sandbox, source, empty_database):

    def interrupt_in_answers(table: str, copied: int, total: int) -> None:
        if table == "answers" and copied >= 100:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        move_store(source.db_path, empty_database, progress=interrupt_in_answers, batch_rows=50)
    target = settings_for(tmp_path, sandbox, PULSE_DATABASE_URL=empty_database)
    with connect(target.store) as db:
        assert all(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] == 0
                   for t in db.table_names() if t != "alembic_version")

    report = move_store(source.db_path, empty_database, batch_rows=50)
    assert all(c.matches for c in report.counts) and report.rows > 1000


@pytest.mark.postgresql_only
def test_a_target_that_holds_a_store_is_refused_and_left_alone(tmp_path, sandbox, source, monkeypatch):
    from tests import engines
    busy = settings_for(tmp_path, sandbox)
    assert busy.store.is_postgresql
    journeys.create_journey(busy, "Already here")
    monkeypatch.setenv("PULSE_DB", str(source.db_path))
    code, _, err = run_cli("move-store", "--to", engines.database_url())
    assert code == 1
    held = err.split("already holds a store (")[1].split(" have rows)")[0].split(", ")
    assert "journeys" in held and "empty database" in err  # (with the data version the journey's creation moved)
    assert [j.name for j in journeys.list_journeys(busy)] == ["Already here"]


@pytest.mark.postgresql_only
def test_a_database_with_other_tables_is_refused(source, empty_database):
    import psycopg
    with psycopg.connect(empty_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id integer)")
    with pytest.raises(MoveRefused, match="not Journey Pulse's \\(invoices\\): create an empty database"):
        move_store(source.db_path, empty_database)


@pytest.mark.postgresql_only
def test_a_store_with_an_older_schema_is_refused_with_the_command_that_upgrades_it(tmp_path, empty_database,
                                                                                   monkeypatch):
    old = tmp_path / "old.db"
    MIGRATIONS.apply(sqlite_utils.Database(old))  # what the SQLite-only releases left, never opened since
    with pytest.raises(MoveRefused) as refused:
        move_store(old, empty_database)
    assert f"PULSE_DB={old} python -m workspace migrate" in str(refused.value)

    monkeypatch.setenv("PULSE_DB", str(old))
    monkeypatch.delenv("PULSE_DATABASE_URL")
    code, out, err = run_cli("migrate")
    assert code == 0, err
    assert f"now at revision {HEAD}" in out
    assert all(c.matches for c in move_store(old, empty_database).counts)


def test_move_store_names_what_it_needs_when_the_source_or_the_target_is_wrong(tmp_path, monkeypatch):
    monkeypatch.delenv("PULSE_DATABASE_URL", raising=False)
    monkeypatch.setenv("PULSE_DB", str(tmp_path / "missing.db"))
    code, _, err = run_cli("move-store", "--to", "postgresql://pulse@127.0.0.1:1/pulse")
    assert code == 1 and f"There is no store at {tmp_path / 'missing.db'} to move" in err
    assert not (tmp_path / "missing.db").exists()

    with pytest.raises(MoveRefused, match="postgresql:// URL"):
        move_store(tmp_path / "missing.db", f"sqlite:///{tmp_path}/other.db")
    (tmp_path / "notes.db").write_text("not a database")
    with pytest.raises(MoveRefused, match="is not a Journey Pulse store"):
        move_store(tmp_path / "notes.db", "postgresql://pulse@127.0.0.1:1/pulse")


def test_migrate_says_when_there_is_nothing_to_do(tmp_path, monkeypatch):
    settings = settings_for(tmp_path)
    monkeypatch.setenv("PULSE_DB", str(settings.db_path))
    metrics.list_metrics(settings)  # the first use migrates
    code, out, err = run_cli("migrate")
    assert code == 0, err
    assert f"already at revision {HEAD}; nothing to do" in out

"""The SQLite-only releases' schema, as their ordered list of sqlite-utils migrations (001–011). Frozen.

Only stores those releases made run these (:func:`upgrade`): each step in a transaction with its record in
``_sqlite_migrations``. A new store starts from Alembic's baseline revision instead, which creates the schema
these leave (tests/test_store_migrations.py proves it), and every change since is an Alembic revision.
"""

from __future__ import annotations

import sqlite3

import sqlite_utils
from sqlite_utils import Migrations

MIGRATIONS = Migrations("journey_pulse")


def upgrade(conn: sqlite3.Connection) -> list[str] | None:
    """Bring a store of the SQLite-only releases to their last version and return the steps applied now;
    None (and nothing done) for any other store.

    Serialised with ``BEGIN IMMEDIATE``: a second process starting at once waits, then finds nothing pending.
    """
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'").fetchone()
    if not found:
        return None
    db = sqlite_utils.Database(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        pending = [m.name for m in MIGRATIONS.pending(db)]
        MIGRATIONS.apply(db)  # runs its steps as savepoints inside our transaction
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS.applied(db))}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return pending


@MIGRATIONS(name="001_core")
def _core(db: sqlite_utils.Database) -> None:
    """Integration, OAuth attempts, survey cache, metrics and journeys."""
    for statement in (
        """CREATE TABLE integration (
            id TEXT PRIMARY KEY,                 -- provider: 'qualtrics'
            enabled INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'Inactive' CHECK (status IN ('Inactive', 'Active', 'Error')),
            created_by TEXT,                     -- who authorized: their surveys are the ones offered
            base_url TEXT,
            account_user_id TEXT,
            account_name TEXT,
            datacenter TEXT,
            error_message TEXT,
            last_successful_sync TEXT,
            permissions_granted TEXT,            -- JSON list of UI permission names
            permissions_missing TEXT,            -- JSON list
            permissions_checked_at TEXT,
            token BLOB,                          -- Fernet ciphertext of the token JSON, never plaintext
            updated_at TEXT
        )""",
        """CREATE TABLE oauth_states (
            state TEXT PRIMARY KEY,
            code_verifier BLOB NOT NULL,         -- Fernet ciphertext
            started_by TEXT,
            created_at REAL NOT NULL             -- unix seconds; rows older than 10 minutes are dead
        )""",
        """CREATE TABLE surveys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            owner_id TEXT,
            is_active INTEGER,
            last_modified TEXT,
            fetched_at TEXT
        )""",
        """CREATE TABLE questions (
            survey_id TEXT NOT NULL,
            id TEXT NOT NULL,
            export_tag TEXT,
            text TEXT,
            type TEXT,
            selector TEXT,
            choices TEXT NOT NULL DEFAULT '[]',  -- JSON [{value, label, recode}]
            scale_kind TEXT,
            scale_min REAL,
            scale_max REAL,
            suggested_type TEXT,
            parent_id TEXT,
            row_label TEXT,
            fetched_at TEXT,
            PRIMARY KEY (survey_id, id)
        )""",
        """CREATE TABLE metrics (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('nps', 'csat', 'ces')),
            survey_id TEXT NOT NULL,
            question_id TEXT NOT NULL,
            mapping TEXT NOT NULL,               -- JSON AnswerMapping.to_records()
            owner TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX metrics_by_survey ON metrics (survey_id, question_id)",
        """CREATE TABLE journeys (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            owner TEXT,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE stages (
            id INTEGER PRIMARY KEY,
            journey_id INTEGER NOT NULL REFERENCES journeys (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            position INTEGER NOT NULL
        )""",
        "CREATE INDEX stages_by_journey ON stages (journey_id, position)",
        """CREATE TABLE steps (
            id INTEGER PRIMARY KEY,
            stage_id INTEGER NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            position INTEGER NOT NULL
        )""",
        "CREATE INDEX steps_by_stage ON steps (stage_id, position)",
        """CREATE TABLE placements (
            metric_id INTEGER NOT NULL REFERENCES metrics (id) ON DELETE CASCADE,
            step_id INTEGER NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
            position INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (metric_id, step_id)
        )""",
        "CREATE INDEX placements_by_step ON placements (step_id, position)",
    ):
        db.execute(statement)


@MIGRATIONS(name="002_answers_and_sync")
def _answers_and_sync(db: sqlite_utils.Database) -> None:
    """Stored answers, segment values per response, per-survey sync state and the sync run log."""
    for statement in (
        # Clustered on the key (WITHOUT ROWID): one B-tree to update per answer and every score is a
        # range scan of one (survey, question) prefix.
        """CREATE TABLE answers (
            survey_id TEXT NOT NULL,
            question_id TEXT NOT NULL,
            response_id TEXT NOT NULL,
            value TEXT NOT NULL,
            label TEXT,
            recorded_date TEXT,                  -- ISO-8601 UTC
            finished INTEGER,
            PRIMARY KEY (survey_id, question_id, response_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE response_segments (
            survey_id TEXT NOT NULL,
            response_id TEXT NOT NULL,
            field TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (survey_id, response_id, field)
        ) WITHOUT ROWID""",
        """CREATE TABLE survey_sync (
            survey_id TEXT PRIMARY KEY,
            continuation_token TEXT,
            last_sync TEXT,
            responses INTEGER NOT NULL DEFAULT 0
        )""",
        # Which questions the stored continuation token covers; a metric on any other question of the
        # survey needs a backfill first.
        """CREATE TABLE synced_questions (
            survey_id TEXT NOT NULL,
            question_id TEXT NOT NULL,
            synced_at TEXT NOT NULL,
            PRIMARY KEY (survey_id, question_id)
        )""",
        """CREATE TABLE sync_runs (
            id INTEGER PRIMARY KEY,
            survey_id TEXT NOT NULL,
            trigger TEXT NOT NULL DEFAULT 'manual',
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
            stage TEXT,
            fraction REAL,
            responses INTEGER NOT NULL DEFAULT 0,
            answers INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            pid INTEGER,
            host TEXT
        )""",
        "CREATE INDEX sync_runs_by_survey ON sync_runs (survey_id, id)",
    ):
        db.execute(statement)


@MIGRATIONS(name="003_targets_and_segments")
def _targets_and_segments(db: sqlite_utils.Database) -> None:
    """Targets with a direction per metric, and the embedded-data fields chosen as segments."""
    db.execute("ALTER TABLE metrics ADD COLUMN target REAL")
    db.execute(
        "ALTER TABLE metrics ADD COLUMN direction TEXT NOT NULL DEFAULT 'higher' "
        "CHECK (direction IN ('higher', 'lower'))")
    db.execute(
        """CREATE TABLE segment_fields (
            survey_id TEXT NOT NULL,
            field TEXT NOT NULL,
            PRIMARY KEY (survey_id, field)
        )""")
    db.execute(
        """CREATE TABLE synced_segments (
            survey_id TEXT NOT NULL,
            field TEXT NOT NULL,
            synced_at TEXT NOT NULL,
            PRIMARY KEY (survey_id, field)
        )""")


@MIGRATIONS(name="004_comments_and_survey_fields")
def _comments_and_survey_fields(db: sqlite_utils.Database) -> None:
    """Open-text comments and what a survey definition says beyond its rating questions.

    Only new tables: existing answers, tokens and synced questions stay as they are. A survey synced
    before this step has no row in ``survey_definitions``, so its next sync reads the definition once,
    learns the comment questions and backfills them like any question the stored token does not cover.
    """
    for statement in (
        # When the open-text questions and embedded-data fields below were last read from the definition;
        # no row means never (the sync then reads it before exporting).
        """CREATE TABLE survey_definitions (
            survey_id TEXT PRIMARY KEY,
            read_at TEXT NOT NULL
        )""",
        """CREATE TABLE survey_comment_questions (
            survey_id TEXT NOT NULL,
            question_id TEXT NOT NULL,           -- the export column, 'QID2_TEXT'
            parent_id TEXT NOT NULL,             -- 'QID2'
            export_tag TEXT,
            text TEXT,                           -- plain text of the question
            PRIMARY KEY (survey_id, question_id)
        )""",
        """CREATE TABLE survey_embedded_fields (
            survey_id TEXT NOT NULL,
            field TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (survey_id, field)
        )""",
        # Kept apart from answers: comments are long free text (answers is WITHOUT ROWID, made for short
        # values), and nothing that scores can ever read them.
        """CREATE TABLE comments (
            survey_id TEXT NOT NULL,
            question_id TEXT NOT NULL,
            response_id TEXT NOT NULL,
            text TEXT NOT NULL,
            recorded_date TEXT,                  -- ISO-8601 UTC
            PRIMARY KEY (survey_id, question_id, response_id)
        )""",
        "CREATE INDEX comments_newest ON comments (survey_id, recorded_date)",
    ):
        db.execute(statement)


@MIGRATIONS(name="005_data_hub")
def _data_hub(db: sqlite_utils.Database) -> None:
    """The Data Hub: its push key, the responses Qualtrics Workflows push, their open texts, its settings.

    Only new tables. Steps are linked when read, not stored: a source's explicit ``step`` is matched by
    name and otherwise its survey's metric placements count, so a step created or a metric placed after
    the push still gets its comments.
    """
    for statement in (
        # One active key per installation; only its SHA-256 is kept (the key is 256 random bits, so a
        # fast hash is enough). Rotating revokes the old row and adds a new one.
        """CREATE TABLE datahub_keys (
            id INTEGER PRIMARY KEY,
            key_hash TEXT NOT NULL UNIQUE,       -- hex SHA-256 of the key
            hint TEXT NOT NULL,                  -- first characters, to tell keys apart
            created_by TEXT,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        )""",
        """CREATE TABLE datahub_sources (
            id INTEGER PRIMARY KEY,
            survey_id TEXT NOT NULL,
            response_id TEXT NOT NULL,
            recorded_date TEXT,                  -- as pushed (RecordedDate), ISO-8601 when parseable
            step TEXT,                           -- the Step field as pushed, or NULL
            fields TEXT NOT NULL DEFAULT '{}',   -- JSON: embedded data and other pushed fields
            received_at TEXT NOT NULL,           -- first delivery
            updated_at TEXT NOT NULL,            -- last delivery
            deliveries INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL CHECK (status IN ('Processed', 'No text')),
            UNIQUE (survey_id, response_id)
        )""",
        "CREATE INDEX datahub_sources_newest ON datahub_sources (received_at)",
        """CREATE TABLE datahub_texts (
            source_id INTEGER NOT NULL REFERENCES datahub_sources (id) ON DELETE CASCADE,
            field TEXT NOT NULL,
            text TEXT NOT NULL,
            sentiment REAL NOT NULL,             -- VADER compound, -1..1, computed on receipt
            PRIMARY KEY (source_id, field)
        )""",
        # Names of pushed fields that hold open text (besides 'Comment' and '…_TEXT' fields).
        """CREATE TABLE datahub_text_fields (
            field TEXT PRIMARY KEY COLLATE NOCASE
        )""",
    ):
        db.execute(statement)


@MIGRATIONS(name="006_embedded_sandbox")
def _embedded_sandbox(db: sqlite_utils.Database) -> None:
    """Where the app's embedded sandbox serves now, so that the command line in another shell reaches it.

    One row, written by the app when it starts the sandbox on its (new, random) port and deleted when it
    stops it; the demo client's secret is Fernet ciphertext like every other credential."""
    db.execute(
        """CREATE TABLE embedded_sandbox (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            base_url TEXT NOT NULL,
            client_id TEXT NOT NULL,
            client_secret BLOB NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            started_at TEXT NOT NULL
        )""")


@MIGRATIONS(name="007_skipped_questions")
def _skipped_questions(db: sqlite_utils.Database) -> None:
    """The questions a survey definition holds that cannot become a metric, with the reason (Trash block, not
    in the flow, multiple answer, text-entry row…), so the wizard can say why a question is not offered
    without reading the definition again. Only a new table; a survey read before this step simply has none
    until its definition is read again (at most a day later, see ``catalog.DEFINITION_MAX_AGE``)."""
    db.execute("""CREATE TABLE skipped_questions (
        survey_id TEXT NOT NULL,
        id TEXT NOT NULL,                    -- 'QID7', a matrix row 'QID7_3'
        export_tag TEXT,
        text TEXT,                           -- plain text of the question
        type TEXT,
        selector TEXT,
        reason TEXT NOT NULL,
        PRIMARY KEY (survey_id, id)
    )""")


@MIGRATIONS(name="008_security")
def _security(db: sqlite_utils.Database) -> None:
    """A key-value table for the store's own facts (the passphrase KDF's salt, the health write probe), and
    the browser an OAuth attempt was started from (a SHA-256 of its cookie, bound when the browser opens the
    app's start route; the callback must match it) with the consent URL that route redirects to."""
    for statement in (
        """CREATE TABLE app_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID""",
        "ALTER TABLE oauth_states ADD COLUMN browser_hash TEXT",
        "ALTER TABLE oauth_states ADD COLUMN consent_url TEXT",
    ):
        db.execute(statement)


@MIGRATIONS(name="009_data_hub_reading_and_steps")
def _data_hub_reading_and_steps(db: sqlite_utils.Database) -> None:
    """Open texts are read off the request path, capped, and placed on the step they concern.

    ``datahub_texts`` gains the pushed length (the text itself keeps its first 10,000 characters) and a
    sentiment that is NULL until the mining worker has read it; existing scores are cleared so that every
    text is read by the same model. ``datahub_step_choices`` keeps a person's placement of a text on a
    journey's step (or on none), which outranks the Step field and the words.
    """
    for statement in (
        """CREATE TABLE datahub_texts_new (
            source_id INTEGER NOT NULL REFERENCES datahub_sources (id) ON DELETE CASCADE,
            field TEXT NOT NULL,
            text TEXT NOT NULL,                  -- at most 10,000 characters (the start of what was pushed)
            length INTEGER NOT NULL,             -- characters pushed
            sentiment REAL,                      -- -1..1, NULL until the mining worker has read the text
            PRIMARY KEY (source_id, field)
        )""",
        "INSERT INTO datahub_texts_new (source_id, field, text, length) "
        "SELECT source_id, field, substr(text, 1, 10000), length(text) FROM datahub_texts",
        "DROP TABLE datahub_texts",
        "ALTER TABLE datahub_texts_new RENAME TO datahub_texts",
        "CREATE INDEX datahub_texts_unread ON datahub_texts (source_id) WHERE sentiment IS NULL",
        """CREATE TABLE datahub_step_choices (
            source_id INTEGER NOT NULL REFERENCES datahub_sources (id) ON DELETE CASCADE,
            field TEXT NOT NULL,
            journey_id INTEGER NOT NULL REFERENCES journeys (id) ON DELETE CASCADE,
            step_id INTEGER REFERENCES steps (id) ON DELETE CASCADE,  -- NULL: on no step of this journey
            chosen_by TEXT,
            chosen_at TEXT NOT NULL,
            PRIMARY KEY (source_id, field, journey_id)
        )""",
    ):
        db.execute(statement)


@MIGRATIONS(name="010_sync_cancel")
def _sync_cancel(db: sqlite_utils.Database) -> None:
    """A sync can be cancelled: the run's status may be 'cancelled', and a request to cancel it is a
    timestamp (and who) the running sync reads between export polls. SQLite cannot widen a CHECK in place,
    so the table is rebuilt with its rows (same ids)."""
    columns = ("id, survey_id, trigger, started_at, finished_at, status, stage, fraction, responses, answers, "
               "error, pid, host")
    for statement in (
        """CREATE TABLE sync_runs_new (
            id INTEGER PRIMARY KEY,
            survey_id TEXT NOT NULL,
            trigger TEXT NOT NULL DEFAULT 'manual',
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'cancelled')),
            stage TEXT,
            fraction REAL,
            responses INTEGER NOT NULL DEFAULT 0,
            answers INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            pid INTEGER,
            host TEXT,
            cancel_requested_at TEXT,
            cancel_requested_by TEXT
        )""",
        f"INSERT INTO sync_runs_new ({columns}) SELECT {columns} FROM sync_runs",
        "DROP TABLE sync_runs",
        "ALTER TABLE sync_runs_new RENAME TO sync_runs",
        "CREATE INDEX sync_runs_by_survey ON sync_runs (survey_id, id)",
    ):
        db.execute(statement)

"""Baseline: the store as the SQLite-only releases left it (their eleven sqlite-utils migrations, 001–011).

A store created by those releases is upgraded by :mod:`workspace.store.legacy_sqlite` and then stamped at
this revision, so both routes end at the same schema (tests/test_store_migrations.py compares them).

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Text, Integer, Float, Blob = sa.Text, sa.Integer, sa.Float, sa.LargeBinary


def _id() -> sa.Column:
    return sa.Column("id", Integer, primary_key=True)


def upgrade() -> None:
    op.create_table(
        "integration",
        sa.Column("id", Text, primary_key=True),  # provider: 'qualtrics'
        sa.Column("enabled", Integer, nullable=False, server_default="0"),
        sa.Column("status", Text, nullable=False, server_default="Inactive"),
        sa.Column("created_by", Text),  # who authorized: their surveys are the ones offered
        sa.Column("base_url", Text),
        sa.Column("account_user_id", Text),
        sa.Column("account_name", Text),
        sa.Column("datacenter", Text),
        sa.Column("error_message", Text),
        sa.Column("last_successful_sync", Text),
        sa.Column("permissions_granted", Text),  # JSON list of UI permission names
        sa.Column("permissions_missing", Text),  # JSON list
        sa.Column("permissions_checked_at", Text),
        sa.Column("token", Blob),  # Fernet ciphertext of the token JSON, never plaintext
        sa.Column("updated_at", Text),
        sa.CheckConstraint("status IN ('Inactive', 'Active', 'Error')", name="integration_status"),
    )
    op.create_table(
        "oauth_states",
        sa.Column("state", Text, primary_key=True),
        sa.Column("code_verifier", Blob, nullable=False),  # Fernet ciphertext
        sa.Column("started_by", Text),
        sa.Column("created_at", Float, nullable=False),  # unix seconds; rows older than 10 minutes are dead
        sa.Column("browser_hash", Text),
        sa.Column("consent_url", Text),
    )
    op.create_table(
        "surveys",
        sa.Column("id", Text, primary_key=True),
        sa.Column("name", Text, nullable=False),
        sa.Column("owner_id", Text),
        sa.Column("is_active", Integer),
        sa.Column("last_modified", Text),
        sa.Column("fetched_at", Text),
    )
    op.create_table(
        "questions",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("id", Text, primary_key=True),
        sa.Column("export_tag", Text),
        sa.Column("text", Text),
        sa.Column("type", Text),
        sa.Column("selector", Text),
        sa.Column("choices", Text, nullable=False, server_default="[]"),  # JSON [{value, label, recode}]
        sa.Column("scale_kind", Text),
        sa.Column("scale_min", Float),
        sa.Column("scale_max", Float),
        sa.Column("suggested_type", Text),
        sa.Column("parent_id", Text),
        sa.Column("row_label", Text),
        sa.Column("fetched_at", Text),
    )
    op.create_table(
        "metrics",
        _id(),
        sa.Column("title", Text, nullable=False),
        sa.Column("type", Text, nullable=False),
        sa.Column("survey_id", Text, nullable=False),
        sa.Column("question_id", Text, nullable=False),
        sa.Column("mapping", Text, nullable=False),  # JSON AnswerMapping.to_records()
        sa.Column("owner", Text),
        sa.Column("created_at", Text, nullable=False),
        sa.Column("updated_at", Text, nullable=False),
        sa.Column("target", Float),
        sa.Column("direction", Text, nullable=False, server_default="higher"),
        sa.CheckConstraint("type IN ('nps', 'csat', 'ces')", name="metrics_type"),
        sa.CheckConstraint("direction IN ('higher', 'lower')", name="metrics_direction"),
    )
    op.create_index("metrics_by_survey", "metrics", ["survey_id", "question_id"])
    op.create_table(
        "journeys",
        _id(),
        sa.Column("name", Text, nullable=False, unique=True),
        sa.Column("description", Text, nullable=False, server_default=""),
        sa.Column("owner", Text),
        sa.Column("created_at", Text, nullable=False),
    )
    op.create_table(
        "stages",
        _id(),
        sa.Column("journey_id", Integer, sa.ForeignKey("journeys.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", Text, nullable=False),
        sa.Column("position", Integer, nullable=False),
    )
    op.create_index("stages_by_journey", "stages", ["journey_id", "position"])
    op.create_table(
        "steps",
        _id(),
        sa.Column("stage_id", Integer, sa.ForeignKey("stages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", Text, nullable=False),
        sa.Column("position", Integer, nullable=False),
    )
    op.create_index("steps_by_stage", "steps", ["stage_id", "position"])
    op.create_table(
        "placements",
        sa.Column("metric_id", Integer, sa.ForeignKey("metrics.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("step_id", Integer, sa.ForeignKey("steps.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", Integer, nullable=False, server_default="0"),
    )
    op.create_index("placements_by_step", "placements", ["step_id", "position"])
    op.create_table(
        "answers",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("question_id", Text, primary_key=True),
        sa.Column("response_id", Text, primary_key=True),
        sa.Column("value", Text, nullable=False),
        sa.Column("label", Text),
        sa.Column("recorded_date", Text),  # ISO-8601 UTC
        sa.Column("finished", Integer),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "response_segments",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("response_id", Text, primary_key=True),
        sa.Column("field", Text, primary_key=True),
        sa.Column("value", Text, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "survey_sync",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("continuation_token", Text),
        sa.Column("last_sync", Text),
        sa.Column("responses", Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "synced_questions",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("question_id", Text, primary_key=True),
        sa.Column("synced_at", Text, nullable=False),
    )
    op.create_table(
        "segment_fields",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("field", Text, primary_key=True),
    )
    op.create_table(
        "synced_segments",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("field", Text, primary_key=True),
        sa.Column("synced_at", Text, nullable=False),
    )
    op.create_table(
        "survey_definitions",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("read_at", Text, nullable=False),
    )
    op.create_table(
        "survey_comment_questions",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("question_id", Text, primary_key=True),  # the export column, 'QID2_TEXT'
        sa.Column("parent_id", Text, nullable=False),  # 'QID2'
        sa.Column("export_tag", Text),
        sa.Column("text", Text),  # plain text of the question
    )
    op.create_table(
        "survey_embedded_fields",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("field", Text, primary_key=True),
        sa.Column("position", Integer, nullable=False),
    )
    op.create_table(
        "comments",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("question_id", Text, primary_key=True),
        sa.Column("response_id", Text, primary_key=True),
        sa.Column("text", Text, nullable=False),
        sa.Column("recorded_date", Text),  # ISO-8601 UTC
    )
    op.create_index("comments_newest", "comments", ["survey_id", "recorded_date"])
    op.create_table(
        "datahub_keys",
        _id(),
        sa.Column("key_hash", Text, nullable=False, unique=True),  # hex SHA-256 of the key
        sa.Column("hint", Text, nullable=False),  # first characters, to tell keys apart
        sa.Column("created_by", Text),
        sa.Column("created_at", Text, nullable=False),
        sa.Column("revoked_at", Text),
    )
    op.create_table(
        "datahub_sources",
        _id(),
        sa.Column("survey_id", Text, nullable=False),
        sa.Column("response_id", Text, nullable=False),
        sa.Column("recorded_date", Text),  # as pushed (RecordedDate), ISO-8601 when parseable
        sa.Column("step", Text),  # the Step field as pushed, or NULL
        sa.Column("fields", Text, nullable=False, server_default="{}"),  # JSON: embedded data, other fields
        sa.Column("received_at", Text, nullable=False),  # first delivery
        sa.Column("updated_at", Text, nullable=False),  # last delivery
        sa.Column("deliveries", Integer, nullable=False, server_default="1"),
        sa.Column("status", Text, nullable=False),
        sa.UniqueConstraint("survey_id", "response_id"),
        sa.CheckConstraint("status IN ('Processed', 'No text')", name="datahub_sources_status"),
    )
    op.create_index("datahub_sources_newest", "datahub_sources", ["received_at"])
    op.create_table(
        "datahub_text_fields",
        # Case-insensitive on SQLite; the Data Hub stores the names it keeps already de-duplicated by case.
        sa.Column("field", Text().with_variant(sa.Text(collation="NOCASE"), "sqlite"), primary_key=True),
    )
    op.create_table(
        "embedded_sandbox",
        sa.Column("id", Integer, primary_key=True, autoincrement=False),
        sa.Column("base_url", Text, nullable=False),
        sa.Column("client_id", Text, nullable=False),
        sa.Column("client_secret", Blob, nullable=False),
        sa.Column("pid", Integer, nullable=False),
        sa.Column("host", Text, nullable=False),
        sa.Column("started_at", Text, nullable=False),
        sa.CheckConstraint("id = 1", name="embedded_sandbox_single_row"),
    )
    op.create_table(
        "skipped_questions",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("id", Text, primary_key=True),  # 'QID7', a matrix row 'QID7_3'
        sa.Column("export_tag", Text),
        sa.Column("text", Text),  # plain text of the question
        sa.Column("type", Text),
        sa.Column("selector", Text),
        sa.Column("reason", Text, nullable=False),
    )
    op.create_table(
        "app_meta",
        sa.Column("key", Text, primary_key=True),
        sa.Column("value", Text, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "datahub_texts",
        sa.Column("source_id", Integer, sa.ForeignKey("datahub_sources.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("field", Text, primary_key=True),
        sa.Column("text", Text, nullable=False),  # at most 10,000 characters (the start of what was pushed)
        sa.Column("length", Integer, nullable=False),  # characters pushed
        sa.Column("sentiment", Float),  # -1..1, NULL until the mining worker has read the text
    )
    op.create_index("datahub_texts_unread", "datahub_texts", ["source_id"],
                    sqlite_where=sa.text("sentiment IS NULL"), postgresql_where=sa.text("sentiment IS NULL"))
    op.create_table(
        "datahub_step_choices",
        sa.Column("source_id", Integer, sa.ForeignKey("datahub_sources.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("field", Text, primary_key=True),
        sa.Column("journey_id", Integer, sa.ForeignKey("journeys.id", ondelete="CASCADE"), primary_key=True),
        # NULL: on no step of this journey
        sa.Column("step_id", Integer, sa.ForeignKey("steps.id", ondelete="CASCADE")),
        sa.Column("chosen_by", Text),
        sa.Column("chosen_at", Text, nullable=False),
    )
    op.create_table(
        "sync_runs",
        _id(),
        sa.Column("survey_id", Text, nullable=False),
        sa.Column("trigger", Text, nullable=False, server_default="manual"),
        sa.Column("started_at", Text, nullable=False),
        sa.Column("finished_at", Text),
        sa.Column("status", Text, nullable=False),
        sa.Column("stage", Text),
        sa.Column("fraction", Float),
        sa.Column("responses", Integer, nullable=False, server_default="0"),
        sa.Column("answers", Integer, nullable=False, server_default="0"),
        sa.Column("error", Text),
        sa.Column("pid", Integer),
        sa.Column("host", Text),
        sa.Column("cancel_requested_at", Text),
        sa.Column("cancel_requested_by", Text),
        sa.CheckConstraint("status IN ('running', 'succeeded', 'failed', 'skipped', 'cancelled')",
                           name="sync_runs_status"),
    )
    op.create_index("sync_runs_by_survey", "sync_runs", ["survey_id", "id"])


TABLES = ("integration", "oauth_states", "surveys", "questions", "metrics", "journeys", "stages", "steps",
          "placements", "answers", "response_segments", "survey_sync", "synced_questions", "segment_fields",
          "synced_segments", "survey_definitions", "survey_comment_questions", "survey_embedded_fields",
          "comments", "datahub_keys", "datahub_sources", "datahub_text_fields", "embedded_sandbox",
          "skipped_questions", "app_meta", "datahub_texts", "datahub_step_choices", "sync_runs")


def downgrade() -> None:
    for table in reversed(TABLES):  # children before the tables their keys point at
        op.drop_table(table)

"""Responses get a number: answers, comments and segment values are keyed by it instead of Qualtrics' id.

Why: a Qualtrics response id (``R_…``) is random text. Keyed by it, every answer of a first export landed at
a random place in the answers' B-tree, and once that tree outgrew the page cache (about 1M responses) each
insert read and rewrote a page from outside it: 3.7M comments of a 1M-response survey took 79 s of CPU. A
response number is handed out in export order, so the answers of one question, and the comments of one
open-text question, are appended at the end of their part of the tree. Only ``responses`` itself is keyed
by the random id, one row per response instead of one per answer.

The comments lose their index on (survey, recorded date): every comment of a sync paid for a third B-tree
insert for it, and the newest comments are read along their key now (by response number).

``responses`` is numbered here in the order the stored answers were recorded, as a sync would have done.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Text, Integer = sa.Text, sa.Integer
#: 64-bit on PostgreSQL, whose sequence spends a number on every conflicting insert (each response a
#: backfill exports again); SQLite's INTEGER is 64-bit already, and only INTEGER PRIMARY KEY is the rowid.
Number = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _response() -> sa.Column:
    return sa.Column("response", Number, sa.ForeignKey("responses.id"), primary_key=True)


def _replace(table: str, columns: list[sa.Column], copy: str, **options: object) -> None:
    """Create ``table`` anew with ``columns``, fill it with ``copy`` (a SELECT over the old table, named
    ``old``), then swap the two. PostgreSQL keeps a renamed table's constraint names: they are renamed too."""
    op.create_table(f"{table}_v4", *columns, **options)
    op.execute(f"INSERT INTO {table}_v4 ({', '.join(c.name for c in columns)}) {copy}")
    op.drop_table(table)
    op.rename_table(f"{table}_v4", table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {table}_v4_pkey TO {table}_pkey")
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {table}_v4_response_fkey TO {table}_response_fkey")


def upgrade() -> None:
    op.create_table(
        "responses",
        sa.Column("id", Number, primary_key=True),
        sa.Column("survey_id", Text, nullable=False),
        sa.Column("response_id", Text, nullable=False),  # Qualtrics' 'R_…'
        sa.UniqueConstraint("survey_id", "response_id", name="responses_by_id"),
    )
    op.execute(
        "INSERT INTO responses (survey_id, response_id) "
        "SELECT survey_id, response_id FROM ("
        " SELECT survey_id, response_id, recorded_date FROM answers"
        " UNION ALL SELECT survey_id, response_id, recorded_date FROM comments"
        " UNION ALL SELECT survey_id, response_id, NULL FROM response_segments"
        ") AS stored GROUP BY survey_id, response_id ORDER BY min(recorded_date) NULLS LAST, survey_id, response_id")
    numbered = "JOIN responses r ON r.survey_id = old.survey_id AND r.response_id = old.response_id"
    _replace("answers", [
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("question_id", Text, primary_key=True),
        _response(),
        sa.Column("value", Text, nullable=False),
        sa.Column("label", Text),
        sa.Column("recorded_date", Text),  # ISO-8601 UTC
        sa.Column("finished", Integer),
    ], "SELECT old.survey_id, old.question_id, r.id, old.value, old.label, old.recorded_date, old.finished "
       f"FROM answers old {numbered} ORDER BY old.survey_id, old.question_id, r.id", sqlite_with_rowid=False)
    _replace("response_segments", [
        sa.Column("survey_id", Text, primary_key=True),
        _response(),
        sa.Column("field", Text, primary_key=True),
        sa.Column("value", Text, nullable=False),
    ], "SELECT old.survey_id, r.id, old.field, old.value "
       f"FROM response_segments old {numbered} ORDER BY old.survey_id, r.id, old.field", sqlite_with_rowid=False)
    _replace("comments", [
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("question_id", Text, primary_key=True),
        _response(),
        sa.Column("text", Text, nullable=False),
        sa.Column("recorded_date", Text),  # ISO-8601 UTC
    ], "SELECT old.survey_id, old.question_id, r.id, old.text, old.recorded_date "
       f"FROM comments old {numbered} ORDER BY old.survey_id, old.question_id, r.id")


def downgrade() -> None:
    named = "JOIN responses r ON r.id = old.response"
    for table, columns in (
        ("answers", "old.survey_id, old.question_id, r.response_id, old.value, old.label, old.recorded_date, "
                    "old.finished"),
        ("response_segments", "old.survey_id, r.response_id, old.field, old.value"),
        ("comments", "old.survey_id, old.question_id, r.response_id, old.text, old.recorded_date"),
    ):
        shape = _BEFORE[table]
        op.create_table(f"{table}_v3", *shape(), sqlite_with_rowid=table == "comments")
        op.execute(f"INSERT INTO {table}_v3 SELECT {columns} FROM {table} old {named}")
        op.drop_table(table)
        op.rename_table(f"{table}_v3", table)
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {table}_v3_pkey TO {table}_pkey")
    op.create_index("comments_newest", "comments", ["survey_id", "recorded_date"])
    op.drop_table("responses")


#: The three tables as 0001 made them (for the downgrade).
_BEFORE = {
    "answers": lambda: [
        sa.Column("survey_id", Text, primary_key=True), sa.Column("question_id", Text, primary_key=True),
        sa.Column("response_id", Text, primary_key=True), sa.Column("value", Text, nullable=False),
        sa.Column("label", Text), sa.Column("recorded_date", Text), sa.Column("finished", Integer)],
    "response_segments": lambda: [
        sa.Column("survey_id", Text, primary_key=True), sa.Column("response_id", Text, primary_key=True),
        sa.Column("field", Text, primary_key=True), sa.Column("value", Text, nullable=False)],
    "comments": lambda: [
        sa.Column("survey_id", Text, primary_key=True), sa.Column("question_id", Text, primary_key=True),
        sa.Column("response_id", Text, primary_key=True), sa.Column("text", Text, nullable=False),
        sa.Column("recorded_date", Text)],
}

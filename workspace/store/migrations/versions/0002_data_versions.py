"""Data versions and per-day answer counts: what lets every app server cache scores and still show a change
made on another server at its next rerun.

- ``data_versions``: one row per survey (``survey:<id>``, moved by every write of its answers, comments or
  segments) and one for the workspace's structure (``workspace``: journeys, steps, metrics, placements,
  targets). A version is an opaque token, new on every write, so an entry cached against one store can never
  match another store that happens to count to the same number.
- ``answer_days``: answers counted per (survey, question, UTC day, value, finished), kept in the same
  transaction as the answers they count. A score or a trend without segment filters sums a few hundred of
  these rows instead of scanning a question's answers.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_versions",
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, nullable=False),
    )
    op.create_table(
        "answer_days",
        sa.Column("survey_id", sa.Text, primary_key=True),
        sa.Column("question_id", sa.Text, primary_key=True),
        sa.Column("day", sa.Text, primary_key=True),  # 'YYYY-MM-DD' (UTC) of recorded_date; '' when unknown
        sa.Column("value", sa.Text, primary_key=True),
        sa.Column("finished", sa.Integer, primary_key=True),  # 0/1 (unknown counts as 0)
        sa.Column("n", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO answer_days (survey_id, question_id, day, value, finished, n) "
        "SELECT survey_id, question_id, coalesce(substr(recorded_date, 1, 10), ''), value, "
        "coalesce(finished, 0), count(*) FROM answers "
        "GROUP BY survey_id, question_id, coalesce(substr(recorded_date, 1, 10), ''), value, coalesce(finished, 0)")


def downgrade() -> None:
    op.drop_table("answer_days")
    op.drop_table("data_versions")

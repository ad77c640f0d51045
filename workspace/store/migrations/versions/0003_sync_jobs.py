"""Sync jobs and Live feeds claimed in the store, so that any number of worker processes on any number of
machines share the work: each survey's sync runs once per interval, each wanted Live feed is refreshed by
one worker. A claim is a holder (worker id), a random claim token the holder's writes are fenced by, and a
lease the holder's heartbeat renews; a lease that runs out lets another worker take the job over.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Text, Integer = sa.Text, sa.Integer


def upgrade() -> None:
    op.create_table(
        "sync_jobs",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("due_at", Text, nullable=False),  # the next scheduled sync (ISO-8601 UTC)
        sa.Column("holder", Text),  # worker id "host:pid:random" while claimed, else NULL
        sa.Column("claim", Text),  # random per claim: the fencing token the holder's writes check
        sa.Column("trigger", Text),  # scheduler, manual, wizard, cli, live
        sa.Column("claimed_at", Text),
        sa.Column("lease_until", Text),
        sa.Column("heartbeat_at", Text),
        sa.Column("attempts", Integer, nullable=False, server_default="0"),  # claims since the last success
        sa.Column("run_id", Integer),  # the holder's sync_runs row
        sa.Column("export_key", Text),  # what the export in flight asks for (columns, segments, token)
        sa.Column("progress_id", Text),  # that export's progress id: a takeover polls it instead of a new one
        sa.Column("file_id", Text),  # its file, once complete
    )
    op.create_index("sync_jobs_by_due", "sync_jobs", ["due_at"])
    op.create_table(
        "live_feeds",
        sa.Column("survey_id", Text, primary_key=True),
        sa.Column("wanted_until", Text, nullable=False),  # a Live screen asked for it; off after this
        sa.Column("holder", Text),
        sa.Column("lease_until", Text),
        sa.Column("mode", Text, nullable=False, server_default="starting"),  # push, polling, frozen, starting
        sa.Column("note", Text, nullable=False, server_default=""),
        sa.Column("frozen_since", Text),
    )


def downgrade() -> None:
    op.drop_table("live_feeds")
    op.drop_index("sync_jobs_by_due", table_name="sync_jobs")
    op.drop_table("sync_jobs")

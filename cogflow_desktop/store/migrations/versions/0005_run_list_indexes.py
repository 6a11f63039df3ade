"""run list indexes: runs by study and start, by study and status, by status, by start

Revision ID: 0005
Revises: 0004

With 100,000 runs in a folder (bench/bench_scale.py) the run list of a large study sorted
every run of the study to show its first page, the studies list and the Studies page read every
run's row to count them, the Sync page sorted every run, and the start-up's search for runs
left open read the whole run table. Each is now answered from an index: (study_id,
started_at) gives a study's runs newest first and the runs of the last days; (study_id, status,
interrupted_at, completed_at) counts a study's runs by status and finds its last result without
reading the rows; (status) finds the few runs still open; (started_at) gives the newest runs of
all studies (the Sync page's list). Both composite indexes start with study_id, so the index on
study_id alone is dropped. None of these columns changes on a checkpoint. Only indexes change:
no data is touched.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE/DROP INDEX: no batch mode, so the table is never copied.
    op.create_index("ix_run_sessions_study_started", "run_sessions", ["study_id", "started_at"])
    op.create_index(
        "ix_run_sessions_study_status",
        "run_sessions",
        ["study_id", "status", "interrupted_at", "completed_at"],
    )
    op.create_index("ix_run_sessions_status", "run_sessions", ["status"])
    op.create_index("ix_run_sessions_started_at", "run_sessions", ["started_at"])
    op.drop_index("ix_run_sessions_study_id", table_name="run_sessions")


def downgrade() -> None:
    op.create_index("ix_run_sessions_study_id", "run_sessions", ["study_id"])
    op.drop_index("ix_run_sessions_started_at", table_name="run_sessions")
    op.drop_index("ix_run_sessions_status", table_name="run_sessions")
    op.drop_index("ix_run_sessions_study_status", table_name="run_sessions")
    op.drop_index("ix_run_sessions_study_started", table_name="run_sessions")

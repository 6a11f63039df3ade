"""sync: the central config version a run was started on, and what the server said at publish

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remote_config_version_id", sa.String(length=64)))

    op.create_table(
        "sync_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_url", sa.String(length=512), nullable=False),
        sa.Column("config_version_id", sa.Integer(), nullable=False),
        sa.Column("remote_study_slug", sa.String(length=255), nullable=False),
        sa.Column("remote_config_label", sa.String(length=255), nullable=False),
        sa.Column("remote_config_version_id", sa.String(length=64), nullable=True),
        sa.Column("owner_usernames", sa.JSON(), nullable=True),
        sa.Column("account", sa.String(length=150), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["config_version_id"], ["config_versions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("server_url", "config_version_id"),
    )


def downgrade() -> None:
    op.drop_table("sync_publications")
    with op.batch_alter_table("sync_states", schema=None) as batch_op:
        batch_op.drop_column("remote_config_version_id")

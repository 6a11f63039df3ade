"""run binding: a sealed manifest per run, key fingerprints

Revision ID: 0004
Revises: 0003

Runs recorded before this revision keep `bound = 0`: they decrypt as before and are reported as
"unverified" (recorded before run binding). Columns are only added.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bound", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("manifest", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("manifest_key_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("run_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run_keys", schema=None) as batch_op:
        batch_op.drop_column("fingerprint")
    with op.batch_alter_table("run_sessions", schema=None) as batch_op:
        batch_op.drop_column("manifest_key_id")
        batch_op.drop_column("manifest")
        batch_op.drop_column("bound")

"""researcher accounts: own key pair, scrypt parameters, lock state, session epoch

Revision ID: 0003
Revises: 0002

Existing accounts keep their old-format key (wrapped_private_key) and scrypt parameters
(2**15, 8, 1) until their next login converts them; nothing is lost or re-derived here.
Columns are only added (no table rebuild).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        # Existing accounts were made with scrypt 2**15 x 8 x 1.
        for name, value in (("kdf_n", "32768"), ("kdf_r", "8"), ("kdf_p", "1")):
            batch_op.add_column(
                sa.Column(name, sa.Integer(), nullable=False, server_default=value)
            )
        batch_op.add_column(sa.Column("public_key", sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column("wrapped_user_key", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("sealed_install_key", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("locked_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("locked_by", sa.String(length=150), nullable=True))
        batch_op.add_column(sa.Column("last_login_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    raise NotImplementedError(
        "Converted accounts cannot go back to the old key format: restore the backup copy "
        "that was made before the upgrade (backups/cogflow-<time>-before-<revision>.sqlite3)."
    )

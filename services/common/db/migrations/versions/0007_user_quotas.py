"""Per-user quota overrides, one row per user that also serialises the user's quota-consuming
writes (its row lock).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_quotas",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("pods", sa.Integer(), nullable=True),
        sa.Column("volumes", sa.Integer(), nullable=True),
        sa.Column("cpu_millis", sa.Integer(), nullable=True),
        sa.Column("mem_mib", sa.Integer(), nullable=True),
        sa.Column("storage_mib", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("tenant_id", "username", name="uq_user_quotas"),
    )


def downgrade() -> None:
    op.drop_table("user_quotas")

"""Pod permissions: one row per (pod, user) with level READ, USER or ADMIN.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pod_permissions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("pod_id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.UniqueConstraint("tenant_id", "pod_id", "username", name="uq_pod_permissions"),
    )
    op.create_index("ix_pod_permissions_user", "pod_permissions", ["tenant_id", "username"])
    # Existing pods: their owner is their ADMIN.
    op.execute(
        "INSERT INTO pod_permissions (tenant_id, pod_id, username, level) "
        "SELECT tenant_id, pod_id, owner, 'ADMIN' FROM pods"
    )


def downgrade() -> None:
    op.drop_index("ix_pod_permissions_user", table_name="pod_permissions")
    op.drop_table("pod_permissions")

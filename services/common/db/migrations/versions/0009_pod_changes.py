"""Pod changes: every change a watcher sees (status, requested status, container, the latest
action-log line), in commit order, so a watch stream sends each one once even when several
happen between two reads (services/common/db/change_feed.py).

Revision ID: 0009_pod_changes
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_pod_changes"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pod_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("pod_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_requested", sa.String(16), nullable=False),
        sa.Column("status_container", sa.JSON(), nullable=False),
        sa.Column("action_log", sa.Text(), nullable=False),
        sa.Column("change_ts", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_pod_changes_pod", "pod_changes", ["tenant_id", "pod_id", "id"])
    op.create_index("ix_pod_changes_tenant", "pod_changes", ["tenant_id", "id"])
    # Every pod has its current state as its first change, so a watcher always finds one.
    op.execute(
        "INSERT INTO pod_changes (tenant_id, pod_id, status, status_requested,"
        " status_container, action_log, change_ts)"
        " SELECT tenant_id, pod_id, status, status_requested, status_container, '', update_ts"
        " FROM pods ORDER BY id"
    )


def downgrade() -> None:
    op.drop_index("ix_pod_changes_tenant", "pod_changes")
    op.drop_index("ix_pod_changes_pod", "pod_changes")
    op.drop_table("pod_changes")

"""The trace context of the call that last changed a pod's desired state (pods.trace_parent),
so health's observation of the outcome joins that call's trace (services/common/db/trace_stamp.py).

Revision ID: 0010_pod_trace
Revises: 0009_pod_changes
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_pod_trace"
down_revision = "0009_pod_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pods") as batch:
        batch.add_column(
            sa.Column("trace_parent", sa.String(128), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("pods") as batch:
        batch.drop_column("trace_parent")

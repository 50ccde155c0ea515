"""Initial schema: pods and pod_log_chunks.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pods",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("pod_id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("status_requested", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_container", sa.JSON(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("observed_generation", sa.Integer(), nullable=False),
        sa.Column("deletion_requested", sa.Boolean(), nullable=False),
        sa.Column("credentials_encrypted", sa.Text(), nullable=True),
        sa.Column("action_logs", sa.JSON(), nullable=False),
        sa.Column("log_cursor", sa.String(64), nullable=False),
        sa.Column("creation_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start_instance_ts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("time_to_stop_ts", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant_id", "pod_id", name="uq_pods_tenant_pod"),
    )
    op.create_index("ix_pods_tenant_id", "pods", ["tenant_id"])
    op.create_table(
        "pod_log_chunks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("pod_id", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_pod_log_chunks_pod", "pod_log_chunks", ["tenant_id", "pod_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_pod_log_chunks_pod", table_name="pod_log_chunks")
    op.drop_table("pod_log_chunks")
    op.drop_index("ix_pods_tenant_id", table_name="pods")
    op.drop_table("pods")

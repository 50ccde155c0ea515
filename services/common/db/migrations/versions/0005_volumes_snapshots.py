"""Volumes, snapshots and their permissions (one grants table for both, keyed by kind).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "volumes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("volume_id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("size_limit_mib", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("creation_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_ts", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "volume_id", name="uq_volumes"),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("snapshot_id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("size_limit_mib", sa.Integer(), nullable=False),
        sa.Column("source_volume_id", sa.String(64), nullable=False),
        sa.Column("source_volume_path", sa.String(4096), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("creation_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_ts", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "snapshot_id", name="uq_snapshots"),
    )
    op.create_table(
        "storage_permissions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "kind", "object_id", "username", name="uq_storage_permissions"
        ),
    )
    op.create_index(
        "ix_storage_permissions_user", "storage_permissions", ["tenant_id", "kind", "username"]
    )


def downgrade() -> None:
    op.drop_index("ix_storage_permissions_user", table_name="storage_permissions")
    op.drop_table("storage_permissions")
    op.drop_table("snapshots")
    op.drop_table("volumes")

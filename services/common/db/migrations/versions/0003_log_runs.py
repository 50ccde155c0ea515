"""Logs per run: pods.log_run counts the pod's containers; each log chunk belongs to a run.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pods") as batch:
        batch.add_column(sa.Column("log_run", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("pod_log_chunks") as batch:
        batch.add_column(sa.Column("run", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("pod_log_chunks") as batch:
        batch.drop_column("run")
    with op.batch_alter_table("pods") as batch:
        batch.drop_column("log_run")

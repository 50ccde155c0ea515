"""Automatic restarts: how many, the streak of ends in a row, the last exit reason, which run
ended and when the next container is due (see services/common/restarts.py).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pods") as batch:
        batch.add_column(
            sa.Column("restart_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("crash_streak", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("last_exit_reason", sa.String(255), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("ended_run", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("restart_due_ts", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pods") as batch:
        for column in ("restart_due_ts", "ended_run", "last_exit_reason", "crash_streak"):
            batch.drop_column(column)
        batch.drop_column("restart_count")

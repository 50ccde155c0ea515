"""Templates as data and the per-tenant image allow-list.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("creation_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_ts", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "template_id", name="uq_templates"),
    )
    op.create_table(
        "image_rules",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("image", sa.String(300), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("added_by", sa.String(128), nullable=False),
        sa.Column("creation_ts", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "image", name="uq_image_rules"),
    )


def downgrade() -> None:
    op.drop_table("image_rules")
    op.drop_table("templates")

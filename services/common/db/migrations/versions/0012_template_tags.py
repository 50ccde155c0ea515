"""Template versions: the `template_tags` table, one immutable pod definition per
`tag@timestamp` of a template.

Revision ID: 0012_template_tags
Revises: 0010_pod_trace
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_template_tags"
down_revision = "0010_pod_trace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template_tags",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("tag", sa.String(80), nullable=False),
        sa.Column("tag_timestamp", sa.String(128), nullable=False),
        sa.Column("pod_definition", sa.JSON(), nullable=False),
        sa.Column("commit_message", sa.String(255), nullable=False),
        sa.Column("added_by", sa.String(128), nullable=False),
        sa.Column("creation_ts", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "template_id", "tag_timestamp", name="uq_template_tags"),
    )


def downgrade() -> None:
    op.drop_table("template_tags")

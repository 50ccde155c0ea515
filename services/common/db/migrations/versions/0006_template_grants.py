"""Template permissions: existing templates get their owner as ADMIN and stay usable by every
user (the grant to "*"), as they were before templates had permissions.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO storage_permissions (tenant_id, kind, object_id, username, level) "
        "SELECT tenant_id, 'template', template_id, owner, 'ADMIN' FROM templates"
    )
    op.execute(
        "INSERT INTO storage_permissions (tenant_id, kind, object_id, username, level) "
        "SELECT tenant_id, 'template', template_id, '*', 'USER' FROM templates"
    )


def downgrade() -> None:
    op.execute("DELETE FROM storage_permissions WHERE kind = 'template'")

"""Per-user quota overrides and the view of a user's limits and use.

Used by services/api/domain/quotas.py and volumes.py through the Protocols of
services/api/domain/ports.py; the checks made while writing are in services/common/db/quotas.py.
"""

from __future__ import annotations

from sqlalchemy import select

from services.common.db import quotas
from services.common.db.models import UserQuotaRow
from services.common.db.sessions import Sessions
from services.common.quotas_model import Quota, QuotaView


class QuotaRepository:
    """User quota rows."""

    def __init__(self, sessions: Sessions) -> None:
        self._session = sessions

    async def quota(self, tenant_id: str, username: str, defaults: Quota) -> QuotaView:
        """The user's effective limits (overrides over `defaults`) and current use."""
        async with self._session() as session:
            return await quotas.limits_of(session, tenant_id, username, defaults)

    async def set_quota(
        self, tenant_id: str, username: str, overrides: dict[str, int | None], defaults: Quota
    ) -> QuotaView:
        """Sets the user's overrides (None: back to the default); the others stay."""
        await quotas.ensure_row(self._session, tenant_id, username)
        async with self._session.begin() as session:
            await quotas.lock_user(session, tenant_id, username)
            row = await session.scalar(
                select(UserQuotaRow).where(
                    UserQuotaRow.tenant_id == tenant_id, UserQuotaRow.username == username
                )
            )
            assert row is not None
            for name, value in overrides.items():
                setattr(row, name, value)
            await session.flush()
            return await quotas.limits_of(session, tenant_id, username, defaults)

"""Per-user quotas: users read their own limits and use, tenant admins read and set anyone's
overrides. Called by transport/pods_servicer.py (GetQuota, SetQuota). The limits are enforced
by the repositories (services/common/db/quotas.py) atomically with each write that raises use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

from services.api.domain.access import check_username
from services.api.domain.ports import QuotaStore
from services.api.domain.principal import Principal
from services.api.errors import InvalidArgumentError, PermissionDeniedError
from services.common.quotas_model import Quota, QuotaView

QUOTA_FIELDS = tuple(item.name for item in fields(Quota))
MAX_QUOTA = 10**9


class Quotas:
    """Quota use cases: users read their own; tenant admins read and set everyone's."""

    def __init__(self, store: QuotaStore, defaults: Quota) -> None:
        self._store = store
        self._defaults = defaults

    async def get(self, who: Principal, username: str) -> QuotaView:
        user = self._whose(who, username)
        return await self._store.quota(who.tenant_id, user, self._defaults)

    async def set(
        self, who: Principal, username: str, overrides: Mapping[str, int | None]
    ) -> QuotaView:
        """Sets the given limits for the user (None: back to the tenant default)."""
        if not who.is_admin:
            raise PermissionDeniedError("only tenant admins may change quotas")
        user = self._whose(who, username)
        for name, value in overrides.items():
            if name not in QUOTA_FIELDS:
                raise InvalidArgumentError(name, f"is not a quota ({', '.join(QUOTA_FIELDS)})")
            if value is not None and not 0 <= value <= MAX_QUOTA:
                raise InvalidArgumentError(name, f"must be between 0 and {MAX_QUOTA}")
        return await self._store.set_quota(who.tenant_id, user, dict(overrides), self._defaults)

    @staticmethod
    def _whose(who: Principal, username: str) -> str:
        user = check_username(username) if username else who.username
        if user != who.username and not who.is_admin:
            raise PermissionDeniedError("users may read only their own quota")
        return user

"""The dev identity's use cases: sites, tenants, and password-grant tokens.

Called by transport/identity_servicer.py. Users and passwords come from settings
(PODS_DEV_USERS); comparisons are constant-time.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from services.api.errors import InvalidArgumentError, UnauthenticatedError
from services.api.tokens import IssuedToken, TokenIssuer


@dataclass(frozen=True)
class TenantInfo:
    """One tenant as tapipy needs it."""

    tenant_id: str
    site_id: str
    base_url: str
    token_service: str
    public_key: str


class Identity:
    """Issues tokens for configured users of one tenant."""

    def __init__(
        self,
        *,
        tenant: TenantInfo,
        users: Mapping[str, str],
        issuer: TokenIssuer,
        clock: Callable[[], datetime],
    ) -> None:
        self.tenant = tenant
        self._users = dict(users)
        self._issuer = issuer
        self._clock = clock

    def login(self, username: str, password: str, grant_type: str) -> IssuedToken:
        if grant_type != "password":
            raise InvalidArgumentError("grant_type", "must be 'password'")
        if not username:
            raise InvalidArgumentError("username", "is required")
        if not password:
            raise InvalidArgumentError("password", "is required")
        expected = self._users.get(username, "")
        ok = hmac.compare_digest(expected.encode(), password.encode()) and bool(expected)
        if not ok:
            raise UnauthenticatedError("invalid username or password")
        return self._issuer.issue(self.tenant.tenant_id, username, self._clock())

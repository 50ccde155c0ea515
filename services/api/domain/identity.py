"""The built-in identity's use cases: sites, tenants, and password-grant tokens.

Called by transport/identity_servicer.py. Users and passwords come from settings
(PODS_DEV_USERS); comparisons are constant-time; password guessing is throttled
(login_throttle.py). When the built-in identity is off (`issuer` is None), logins are
answered NOT_FOUND with the name of the issuer to ask instead.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from services.api.domain.login_throttle import LoginThrottle
from services.api.domain.ports import IssuedToken, TokenSigner
from services.api.errors import InvalidArgumentError, NotFoundError, UnauthenticatedError

MAX_USERNAME = 256
MAX_PASSWORD = 1024


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
        issuer: TokenSigner | None,
        throttle: LoginThrottle,
        clock: Callable[[], datetime],
    ) -> None:
        self.tenant = tenant
        self._users = dict(users)
        self._issuer = issuer
        self._throttle = throttle
        self._clock = clock

    def login(
        self, username: str, password: str, grant_type: str, client_address: str
    ) -> IssuedToken:
        """A token for a user whose password matches; `client_address` is throttled too."""
        if self._issuer is None:
            raise NotFoundError(
                "this deployment has no built-in identity: get an access token from "
                f"{self.tenant.token_service or 'your identity provider'}"
            )
        if grant_type != "password":
            raise InvalidArgumentError("grant_type", "must be 'password'")
        if not username:
            raise InvalidArgumentError("username", "is required")
        if not password:
            raise InvalidArgumentError("password", "is required")
        if len(username) > MAX_USERNAME:
            raise InvalidArgumentError("username", f"must be at most {MAX_USERNAME} characters")
        if len(password) > MAX_PASSWORD:
            raise InvalidArgumentError("password", f"must be at most {MAX_PASSWORD} characters")
        tenant_id = self.tenant.tenant_id
        self._throttle.check(tenant_id, username, client_address)
        expected = self._users.get(username, "")
        ok = hmac.compare_digest(expected.encode(), password.encode()) and bool(expected)
        if not ok:
            self._throttle.failed(tenant_id, username, client_address)
            raise UnauthenticatedError("invalid username or password")
        self._throttle.succeeded(tenant_id, username)
        return self._issuer.issue(tenant_id, username, self._clock())

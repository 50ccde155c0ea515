"""The seams of the pod login (pod_login.py): the pod record it reads, the identity that
turns an authorization code into a user, and the token check for API clients that send
X-Tapis-Token instead of logging in. Implemented by the pods repository, authorize.py's
AuthorizationCodes (the built-in identity) and transport/login_servicer.py's TokenUsers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.common.pods_model import PodRecord
from services.common.runtime.types import PodKey


@dataclass(frozen=True)
class LoggedIn:
    """A user the identity vouches for, until `expires_at`."""

    tenant_id: str
    username: str
    expires_at: datetime


class PodReader(Protocol):
    async def get_pod(self, key: PodKey) -> PodRecord | None: ...


class CodeExchange(Protocol):
    """Redeems an authorization code (once) for the user who logged in."""

    async def exchange(self, code: str, redirect_uri: str) -> LoggedIn: ...


class TokenUsers(Protocol):
    """The user of a valid access token, or None."""

    def user_of(self, token: str) -> LoggedIn | None: ...

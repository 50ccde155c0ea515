"""The login in front of an HTTP pod port (`tapis_auth` and its fields of a networking
stanza), as a frozen record with its JSON form.

Part of NetworkStanza (services/common/pods_model.py): validated by the api
(services/api/domain/pod_auth_rules.py), stored in the pod's spec JSON (services/common/db/
codec.py), read by the gateway's route source (gateway/route_source.py, which puts an
authorization check in front of the port) and by the api's login check
(services/api/domain/pod_login.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Tapis's defaults: every user of the tenant, back to the pod's root after login.
ALL_USERS = "*"
DEFAULT_ALLOWED_USERS: tuple[str, ...] = (ALL_USERS,)
DEFAULT_RETURN_PATH = "/"
# Where the identity sends a browser back after logging in, on the pod's own host; the
# gateway's check answers it, the pod never sees it.
LOGIN_CALLBACK_PATH = "/.pods-auth/callback"


@dataclass(frozen=True)
class TapisAuth:
    """Whether a port is behind a login, who may pass, what the pod is told about them and
    where a browser lands after logging in. Stored as given even when `enabled` is false."""

    enabled: bool = False
    response_headers: Mapping[str, str] = field(default_factory=dict)
    allowed_users: tuple[str, ...] = DEFAULT_ALLOWED_USERS
    return_path: str = DEFAULT_RETURN_PATH

    def allows(self, username: str) -> bool:
        """True when `username` may pass: "*" lets every user of the tenant in, otherwise
        the name must be listed (compared case-insensitively, as Tapis does)."""
        if ALL_USERS in self.allowed_users or not self.allowed_users:
            return True
        wanted = username.lower()
        return any(user.lower() == wanted for user in self.allowed_users)


def auth_to_json(auth: TapisAuth) -> dict[str, Any] | None:
    """The JSON stored for a stanza's auth, None for the defaults (nothing stored)."""
    if auth == TapisAuth():
        return None
    return {
        "enabled": auth.enabled,
        "response_headers": dict(auth.response_headers),
        "allowed_users": list(auth.allowed_users),
        "return_path": auth.return_path,
    }


def auth_from_json(data: Mapping[str, Any] | None) -> TapisAuth:
    """The inverse of auth_to_json (specs stored before tapis_auth existed have none)."""
    if not data:
        return TapisAuth()
    return TapisAuth(
        enabled=bool(data.get("enabled", False)),
        response_headers=dict(data.get("response_headers", {})),
        allowed_users=tuple(data.get("allowed_users", DEFAULT_ALLOWED_USERS)),
        return_path=str(data.get("return_path", DEFAULT_RETURN_PATH)),
    )

"""Signed values of the pod login: the session cookie a browser holds for one pod host and
the `state` of a login in progress. Pure (HMAC-SHA256 with the api's login secret); used by
pod_login.py.

A value is `<base64url JSON>.<base64url MAC>`; the JSON carries its purpose, so a state can
never pass for a session. Nothing in it is secret (user name, tenant, host, expiry), it only
cannot be forged or changed. A session is bound to one pod host; it is not a Tapis token and
gives no access to the API.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SESSION = "session"
STATE = "state"


@dataclass(frozen=True)
class Session:
    """A user logged in to one pod host until `expires` (seconds since the epoch)."""

    tenant_id: str
    username: str
    host: str
    expires: int


@dataclass(frozen=True)
class LoginState:
    """A login in progress for `host`: `nonce` is also in the browser's state cookie."""

    host: str
    nonce: str
    expires: int


class Signer:
    """Signs and checks login values with one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the login secret must have at least 32 bytes")
        self._key = key

    def session(self, session: Session) -> str:
        return self._sign(
            {
                "p": SESSION,
                "t": session.tenant_id,
                "u": session.username,
                "h": session.host,
                "e": session.expires,
            }
        )

    def state(self, state: LoginState) -> str:
        return self._sign({"p": STATE, "h": state.host, "n": state.nonce, "e": state.expires})

    def read_session(self, value: str, now: datetime) -> Session | None:
        """The session in `value` if it is genuine and unexpired, else None."""
        data = self._open(value, SESSION, now)
        if data is None:
            return None
        try:
            return Session(str(data["t"]), str(data["u"]), str(data["h"]), int(data["e"]))
        except (KeyError, TypeError, ValueError):
            return None

    def read_state(self, value: str, now: datetime) -> LoginState | None:
        """The login state in `value` if it is genuine and unexpired, else None."""
        data = self._open(value, STATE, now)
        if data is None:
            return None
        try:
            return LoginState(str(data["h"]), str(data["n"]), int(data["e"]))
        except (KeyError, TypeError, ValueError):
            return None

    def _sign(self, data: dict[str, Any]) -> str:
        body = _encode(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{_encode(self._mac(body))}"

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode(), hashlib.sha256).digest()

    def _open(self, value: str, purpose: str, now: datetime) -> dict[str, Any] | None:
        body, _, mac = value.partition(".")
        if not body or not mac or len(value) > 4096:
            return None
        try:
            given = _decode(mac)
            data = json.loads(_decode(body))
        except (ValueError, binascii.Error):
            return None
        if not hmac.compare_digest(given, self._mac(body)):
            return None
        if not isinstance(data, dict) or data.get("p") != purpose:
            return None
        expires = data.get("e")
        if not isinstance(expires, int) or expires <= now.timestamp():
            return None
        return data


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

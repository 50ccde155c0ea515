"""The built-in identity's OAuth2 authorization-code grant, for the login in front of pods
(pod_login.py): checks an authorize request, turns a good username and password into a
one-time code, and redeems the code for the user. Pure logic over domain/identity.py (whose
password check and throttling it reuses); called by transport/authorize_check.py (the login
page) and, as pod_login.py's CodeExchange, in process.

Only one client exists: the gateway itself (CLIENT_ID). A redirect_uri must be the login
callback on a pod host of this deployment (`https://<label>.<pod domain>[:port]` +
LOGIN_CALLBACK_PATH, nothing else): the identity never sends a browser, or a code, anywhere
else. A code lives CODE_TTL, is bound to its redirect_uri and is redeemed once. Codes are
held in memory: a restart of the api forgets them (the user logs in again).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from services.api.domain.identity import Identity
from services.api.domain.login_ports import LoggedIn
from services.api.errors import InvalidArgumentError, ResourceExhaustedError
from services.common.pod_auth_model import LOGIN_CALLBACK_PATH

CLIENT_ID = "pods-gateway"
CODE_TTL = timedelta(seconds=60)
MAX_OUTSTANDING_CODES = 10_000
MAX_STATE = 2048


@dataclass(frozen=True)
class AuthorizeRequest:
    """The parameters of an authorize request (query or form)."""

    response_type: str
    client_id: str
    redirect_uri: str
    state: str


@dataclass(frozen=True)
class _Grant:
    user: LoggedIn
    redirect_uri: str
    expires: datetime


class AuthorizationCodes:
    """Issues and redeems authorization codes for the users of `identity`."""

    def __init__(self, identity: Identity, pod_domain: str, clock: Callable[[], datetime]):
        self._identity = identity
        self._pod_domain = pod_domain.lower().rstrip(".")
        self._clock = clock
        self._grants: dict[str, _Grant] = {}

    def check(self, request: AuthorizeRequest) -> None:
        """InvalidArgumentError naming the parameter unless the request may be served."""
        if request.response_type != "code":
            raise InvalidArgumentError("response_type", "must be 'code'")
        if request.client_id != CLIENT_ID:
            raise InvalidArgumentError("client_id", f"unknown client {request.client_id[:64]!r}")
        if not self.is_callback(request.redirect_uri):
            raise InvalidArgumentError(
                "redirect_uri",
                f"must be https://<pod>.{self._pod_domain}{LOGIN_CALLBACK_PATH}",
            )
        if not request.state or len(request.state) > MAX_STATE:
            raise InvalidArgumentError("state", f"is required, at most {MAX_STATE} characters")

    def is_callback(self, uri: str) -> bool:
        """True for the login callback of a pod host of this deployment."""
        try:
            parts = urlsplit(uri)
            parts.port  # noqa: B018 - raises ValueError for a malformed port
        except ValueError:
            return False
        host = (parts.hostname or "").lower()
        label, _, domain = host.partition(".")
        return (
            parts.scheme == "https"
            and not parts.username
            and not parts.password
            and domain == self._pod_domain
            and bool(label)
            and parts.path == LOGIN_CALLBACK_PATH
            and not parts.query
            and not parts.fragment
        )

    def grant(
        self, request: AuthorizeRequest, username: str, password: str, client_address: str
    ) -> str:
        """A code for the user (whose password the identity checks and throttles)."""
        self.check(request)
        issued = self._identity.login(username, password, "password", client_address)
        now = self._clock()
        self._forget_expired(now)
        if len(self._grants) >= MAX_OUTSTANDING_CODES:
            raise ResourceExhaustedError("too many logins in progress; try again in a minute")
        code = secrets.token_urlsafe(32)
        user = LoggedIn(self._identity.tenant.tenant_id, username, issued.expires_at)
        self._grants[code] = _Grant(user, request.redirect_uri, now + CODE_TTL)
        return code

    async def exchange(self, code: str, redirect_uri: str) -> LoggedIn:
        """The user a code was granted to; the code is spent either way."""
        grant = self._grants.pop(code, None)
        if grant is None or grant.expires <= self._clock():
            raise InvalidArgumentError("code", "is unknown, used or expired")
        if grant.redirect_uri != redirect_uri:
            raise InvalidArgumentError("redirect_uri", "is not the one the code was issued for")
        return grant.user

    def _forget_expired(self, now: datetime) -> None:
        for code in [c for c, g in self._grants.items() if g.expires <= now]:
            del self._grants[code]

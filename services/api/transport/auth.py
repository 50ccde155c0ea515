"""Authenticates every call of the Pods, Templates, Volumes and Snapshots services: the JWT
from `x-tapis-token` (or `authorization: Bearer`) is verified (tokens.py: signature, expiry,
issuer, audience, access type) and its tenant must be served here. Admin status comes from the
admin list of the issuer that vouched for the user. Also finds a call's client address (for
login throttling)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import grpc

from services.api.domain.principal import Principal
from services.api.errors import UnauthenticatedError
from services.api.tokens import TokenError, TokenVerifier


class Authenticator:
    """Turns call metadata into a Principal or raises UnauthenticatedError."""

    def __init__(
        self,
        verifier: TokenVerifier,
        tenants: Iterable[str],
        admins: Mapping[str, Iterable[str]],
    ):
        """`admins`: for each issuer, the users it vouches for who are tenant admins."""
        self._verifier = verifier
        self._tenants = frozenset(tenants)
        self._admins = {issuer: frozenset(users) for issuer, users in admins.items()}

    def principal(self, context: grpc.aio.ServicerContext[Any, Any]) -> Principal:
        token = bearer_token(context.invocation_metadata() or ())
        if not token:
            raise UnauthenticatedError("no token: send it in the X-Tapis-Token header")
        return self.principal_of(token)

    def principal_of(self, token: str) -> Principal:
        """The Principal of an access token, or UnauthenticatedError saying what is wrong."""
        try:
            claims = self._verifier.verify(token)
        except TokenError as exc:
            raise UnauthenticatedError(str(exc)) from None
        if claims.tenant_id not in self._tenants:
            raise UnauthenticatedError(f"tenant '{claims.tenant_id}' is not served here")
        return Principal(
            tenant_id=claims.tenant_id,
            username=claims.username,
            is_admin=claims.username in self._admins.get(claims.issuer, frozenset()),
        )


def bearer_token(metadata: Iterable[tuple[str, str | bytes]]) -> str:
    """The token from `x-tapis-token` or `authorization: Bearer ...`, or ""."""
    for key, value in metadata:
        text = value.decode() if isinstance(value, bytes) else value
        if key == "x-tapis-token":
            return text.strip()
        if key == "authorization" and text.lower().startswith("bearer "):
            return text[7:].strip()
    return ""


def client_address(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    """The caller's address: the last X-Forwarded-For entry, which the gateway (Envoy with
    use_remote_address) appends from the connection it accepted, or else the gRPC peer. The
    API is reachable only through the gateway (loopback, or a NetworkPolicy in a cluster), so
    entries a client sends itself come earlier in the list and are ignored."""
    forwarded = ""
    for key, value in context.invocation_metadata() or ():
        if key == "x-forwarded-for":
            forwarded = value.decode() if isinstance(value, bytes) else value
    last = forwarded.rsplit(",", 1)[-1].strip()
    if last:
        return last[:64]
    return peer_host(context.peer() or "")


def peer_host(peer: str) -> str:
    """The host of a gRPC peer string (`ipv4:1.2.3.4:5678`, `ipv6:[::1]:5678`, `unix:...`)."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    if kind == "ipv6":
        return rest.rsplit(":", 1)[0].strip("[]")
    return peer[:64]

"""Authenticates every PodsService call: the JWT from `x-tapis-token` (or `authorization:
Bearer`) is verified (signature, expiry, issuer) and its tenant must be served here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import grpc

from services.api.domain.pods import Principal
from services.api.errors import UnauthenticatedError
from services.api.tokens import TokenError, TokenVerifier


class Authenticator:
    """Turns call metadata into a Principal or raises UnauthenticatedError."""

    def __init__(self, verifier: TokenVerifier, tenants: Iterable[str], admins: Iterable[str]):
        self._verifier = verifier
        self._tenants = frozenset(tenants)
        self._admins = frozenset(admins)

    def principal(self, context: grpc.aio.ServicerContext[Any, Any]) -> Principal:
        token = bearer_token(context.invocation_metadata() or ())
        if not token:
            raise UnauthenticatedError("no token: send it in the X-Tapis-Token header")
        try:
            claims = self._verifier.verify(token)
        except TokenError as exc:
            raise UnauthenticatedError(str(exc)) from None
        if claims.tenant_id not in self._tenants:
            raise UnauthenticatedError(f"tenant '{claims.tenant_id}' is not served here")
        return Principal(
            tenant_id=claims.tenant_id,
            username=claims.username,
            is_admin=claims.username in self._admins,
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

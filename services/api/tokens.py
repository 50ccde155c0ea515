"""RS256 JWTs: issuing (dev identity) and verifying (every call). The only module of ours that
imports the JWT library.

Claims follow Tapis: `tapis/tenant_id`, `tapis/username`, `tapis/token_type`, `sub`
(user@tenant), `iss`, `exp`, `jti`. The private key lives in <data_dir>/jwt-private.pem
(0600, generated once); a deployment that also trusts another issuer names it in
PODS_JWT_ISSUER and gives its public key file in PODS_JWT_PUBLIC_KEY_FILE.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class TokenError(Exception):
    """The token is missing, malformed, forged or expired; the message says which."""


@dataclass(frozen=True)
class Claims:
    """What a verified token says about its bearer."""

    tenant_id: str
    username: str


@dataclass(frozen=True)
class IssuedToken:
    """A freshly signed token."""

    token: str
    expires_at: datetime
    expires_in: int
    jti: str


def load_or_create_private_key(path: Path) -> bytes:
    """PEM of the signing key, generated (RSA 2048, file mode 0600) on first use."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    try:
        os.link(tmp, path)  # first writer wins; others read its key
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_bytes()


def public_key_pem(private_pem: bytes) -> bytes:
    """The public half of a PEM private key."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class TokenIssuer:
    """Signs access tokens for the dev identity."""

    def __init__(self, private_pem: bytes, issuer: str, ttl_seconds: int) -> None:
        self._key = private_pem
        self._issuer = issuer
        self._ttl = ttl_seconds

    def issue(self, tenant_id: str, username: str, now: datetime) -> IssuedToken:
        expires = now + timedelta(seconds=self._ttl)
        jti = str(uuid.uuid4())
        claims = {
            "iss": self._issuer,
            "sub": f"{username}@{tenant_id}",
            "jti": jti,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "tapis/tenant_id": tenant_id,
            "tapis/username": username,
            "tapis/token_type": "access",
        }
        token = jwt.encode(claims, self._key, algorithm="RS256")
        return IssuedToken(token=token, expires_at=expires, expires_in=self._ttl, jti=jti)


class TokenVerifier:
    """Checks signature (RS256 only), expiry, issuer and the required claims. Each trusted
    issuer has its own public key, parsed once.

    A token that passed is remembered (at most CACHE_SIZE, least recently used out) until
    its `exp`, so a client polling with one token pays for the signature check once; a
    remembered token is still refused the moment it expires."""

    CACHE_SIZE = 4096

    def __init__(
        self, trusted: Mapping[str, bytes], clock: Callable[[], float] = time.time
    ) -> None:
        self._trusted: dict[str, Any] = {
            issuer: serialization.load_pem_public_key(pem) for issuer, pem in trusted.items()
        }
        self._clock = clock
        self._verified: OrderedDict[str, tuple[Claims, float]] = OrderedDict()

    def verify(self, token: str) -> Claims:
        remembered = self._verified.get(token)
        if remembered is not None:
            claims, expires = remembered
            if self._clock() < expires:
                self._verified.move_to_end(token)
                return claims
            del self._verified[token]
            raise TokenError("token has expired")
        key, issuer = self._key_for(token)
        try:
            data = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=issuer,
                options={"require": ["exp", "iss", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("token has expired") from None
        except jwt.InvalidSignatureError:
            raise TokenError("token signature is not valid") from None
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"token is not valid: {exc}") from None
        claims = _claims(data)
        self._remember(token, claims, data.get("exp"))
        return claims

    def _remember(self, token: str, claims: Claims, expires: object) -> None:
        if isinstance(expires, bool) or not isinstance(expires, int | float):
            return
        self._verified[token] = (claims, float(expires))
        if len(self._verified) > self.CACHE_SIZE:
            self._verified.popitem(last=False)

    def _key_for(self, token: str) -> tuple[Any, str]:
        """The trusted key of the token's (still unverified) issuer."""
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"token is not valid: {exc}") from None
        key = self._trusted.get(issuer) if isinstance(issuer, str) else None
        if key is None or not isinstance(issuer, str):
            raise TokenError(f"token issuer {str(issuer)[:100]!r} is not trusted here")
        return key, issuer


def _claims(data: dict[str, object]) -> Claims:
    tenant = data.get("tapis/tenant_id")
    username = data.get("tapis/username")
    if not isinstance(tenant, str) or not isinstance(username, str) or not tenant or not username:
        raise TokenError("token lacks the tapis/tenant_id and tapis/username claims")
    return Claims(tenant_id=tenant, username=username)

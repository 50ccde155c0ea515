"""RS256 JWTs: issuing (the built-in identity) and verifying (every call). With jwks.py, the
only modules of ours that import the JWT library.

Claims follow Tapis: `tapis/tenant_id`, `tapis/username`, `tapis/token_type` (`access`; only
access tokens are accepted), `sub` (user@tenant), `iss`, `exp`, `jti`. The built-in identity's
private key lives in <data_dir>/jwt-private.pem (0600, generated once); an external issuer is
named in PODS_JWT_ISSUER, with its keys in PODS_JWT_PUBLIC_KEY_FILE or at PODS_JWT_JWKS_URL.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.api.domain.ports import IssuedToken
from services.common.key_files import load_or_create

ACCESS = "access"  # the tapis/token_type of access tokens, the only ones we accept


class TokenError(Exception):
    """The token is missing, malformed, forged or expired; the message says which."""


@dataclass(frozen=True)
class Claims:
    """What a verified token says about its bearer."""

    tenant_id: str
    username: str
    issuer: str


def load_or_create_private_key(path: Path) -> bytes:
    """PEM of the signing key, generated (RSA 2048, file mode 0600) on first use."""

    def make() -> bytes:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    return load_or_create(path, make)


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
            "tapis/token_type": ACCESS,
        }
        token = jwt.encode(claims, self._key, algorithm="RS256")
        return IssuedToken(token=token, expires_at=expires, expires_in=self._ttl, jti=jti)


class KeySource(Protocol):
    """Where an issuer's verification keys come from: a PEM file, or a JWKS (jwks.py)."""

    def key_for(self, kid: str | None) -> Any:
        """The public key for the token's `kid` header, or TokenError."""
        ...


class StaticKey:
    """One PEM public key, used whatever the token's `kid`."""

    def __init__(self, pem: bytes) -> None:
        self._key = serialization.load_pem_public_key(pem)

    def key_for(self, kid: str | None) -> Any:
        return self._key


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer whose tokens we accept: its keys and, when given, the audience its tokens
    must name in `aud`."""

    issuer: str
    keys: KeySource
    audience: str = ""


class TokenVerifier:
    """Checks signature (RS256 only), expiry, issuer (configured ones only), audience (when
    the issuer's is configured), the token type (access tokens only) and the Tapis claims.

    A token that passed is remembered (at most CACHE_SIZE, least recently used out) until
    its `exp`, so a client polling with one token pays for the signature check once; a
    remembered token is still refused the moment it expires."""

    CACHE_SIZE = 4096

    def __init__(
        self, trusted: Iterable[TrustedIssuer], clock: Callable[[], float] = time.time
    ) -> None:
        self._trusted = {t.issuer: t for t in trusted}
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
        trusted, kid = self._issuer_of(token)
        required = ["exp", "iss", "sub"] + (["aud"] if trusted.audience else [])
        try:
            data = jwt.decode(
                token,
                trusted.keys.key_for(kid),
                algorithms=["RS256"],
                issuer=trusted.issuer,
                audience=trusted.audience or None,
                options={"require": required, "verify_aud": bool(trusted.audience)},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("token has expired") from None
        except jwt.InvalidSignatureError:
            raise TokenError("token signature is not valid") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"token lacks the {exc.claim!r} claim") from None
        except jwt.InvalidAudienceError:
            raise TokenError(f"token audience is not {trusted.audience!r}") from None
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"token is not valid: {exc}") from None
        claims = _claims(data, trusted.issuer)
        self._remember(token, claims, data.get("exp"))
        return claims

    def _remember(self, token: str, claims: Claims, expires: object) -> None:
        if isinstance(expires, bool) or not isinstance(expires, int | float):
            return
        self._verified[token] = (claims, float(expires))
        if len(self._verified) > self.CACHE_SIZE:
            self._verified.popitem(last=False)

    def _issuer_of(self, token: str) -> tuple[TrustedIssuer, str | None]:
        """The trusted issuer the (still unverified) token names, and its key id."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"token is not valid: {exc}") from None
        trusted = self._trusted.get(issuer) if isinstance(issuer, str) else None
        if trusted is None:
            raise TokenError(f"token issuer {str(issuer)[:100]!r} is not trusted here")
        return trusted, kid if isinstance(kid, str) else None


def _claims(data: dict[str, object], issuer: str) -> Claims:
    token_type = data.get("tapis/token_type")
    if token_type is None:
        raise TokenError("token lacks the tapis/token_type claim; only access tokens are accepted")
    if token_type != ACCESS:
        raise TokenError(
            f"token is a {str(token_type)[:20]!r} token; only access tokens are accepted"
        )
    tenant = data.get("tapis/tenant_id")
    username = data.get("tapis/username")
    if not isinstance(tenant, str) or not isinstance(username, str) or not tenant or not username:
        raise TokenError("token lacks the tapis/tenant_id and tapis/username claims")
    return Claims(tenant_id=tenant, username=username, issuer=issuer)

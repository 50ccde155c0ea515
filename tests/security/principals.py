"""Who calls, in the security suite: users with each level of grant, a stranger, a tenant
admin, and callers whose token is missing, expired or forged. Tokens are real ones from the
stack's dev identity; the expired and forged ones are a real token's claims re-signed (with
the stack's own key and a past `exp`, or with a key nobody trusts)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.harness import Stack


class Standing(Enum):
    """What a principal is to the objects under test."""

    OWNER = "owner"  # created it (ADMIN)
    READ = "read"  # granted READ
    USER = "user"  # granted USER
    ADMIN = "admin"  # granted ADMIN by the owner
    STRANGER = "stranger"  # no grant at all
    TENANT_ADMIN = "tenant-admin"  # PODS_ADMIN_USERS
    ANONYMOUS = "anonymous"  # no token
    EXPIRED = "expired"  # a genuine token past its exp
    FORGED = "forged"  # signed with a key the stack does not trust
    REFRESH = "refresh"  # signed by the stack's own key, but a refresh token
    OTHER_ISSUER = "other-issuer"  # signed by the stack's own key, naming an issuer not trusted


@dataclass(frozen=True)
class Principal:
    """A caller: its standing and the token it sends (None: no header)."""

    standing: Standing
    username: str
    token: str | None


USERS = {
    Standing.OWNER: ("secowner", "ownerpass"),
    Standing.READ: ("secreader", "readerpass"),
    Standing.USER: ("secuser", "userpass"),
    Standing.ADMIN: ("secsharee", "shareepass"),
    Standing.STRANGER: ("secstranger", "strangerpass"),
    Standing.TENANT_ADMIN: ("secadmin", "adminpass"),
}
GRANTED = {Standing.READ: "READ", Standing.USER: "USER", Standing.ADMIN: "ADMIN"}
UNAUTHENTICATED = (
    Standing.ANONYMOUS,
    Standing.EXPIRED,
    Standing.FORGED,
    Standing.REFRESH,
    Standing.OTHER_ISSUER,
)


def dev_users_setting() -> str:
    """PODS_DEV_USERS for the suite's stack."""
    return ",".join(f"{user}:{password}" for user, password in USERS.values())


def _resigned(token: str, key: object, **changes: object) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    header = jwt.get_unverified_header(token)
    claims.update(changes)
    extra = {k: v for k, v in header.items() if k not in ("alg", "typ")}
    return jwt.encode(claims, key, algorithm="RS256", headers=extra or None)  # type: ignore[arg-type]


def principals(stack: Stack) -> dict[Standing, Principal]:
    """Every standing with a token from `stack`."""
    found = {
        standing: Principal(standing, user, stack.token(user, password))
        for standing, (user, password) in USERS.items()
    }
    genuine = found[Standing.OWNER].token
    assert genuine is not None
    own_key = serialization.load_pem_private_key(
        (stack.data_dir / "jwt-private.pem").read_bytes(), password=None
    )
    stranger_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    past = int(time.time()) - 3600
    found[Standing.EXPIRED] = Principal(
        Standing.EXPIRED, "secowner", _resigned(genuine, own_key, exp=past, iat=past - 60)
    )
    found[Standing.FORGED] = Principal(
        Standing.FORGED, "secowner", _resigned(genuine, stranger_key)
    )
    found[Standing.REFRESH] = Principal(
        Standing.REFRESH, "secowner", _resigned(genuine, own_key, **{"tapis/token_type": "refresh"})
    )
    found[Standing.OTHER_ISSUER] = Principal(
        Standing.OTHER_ISSUER,
        "secowner",
        _resigned(genuine, own_key, iss="https://issuer.example.org/v3/tokens"),
    )
    found[Standing.ANONYMOUS] = Principal(Standing.ANONYMOUS, "", None)
    return found

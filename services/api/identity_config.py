"""Who may vouch for users here, checked before the API starts (services/api/server.py).

The API refuses to start (SettingsError, every problem named) when no identity is configured,
when the external issuer lacks its keys, or when the built-in identity would serve a
well-known or weak password outside the local stack:

- `PODS_DEV_IDENTITY=local` (what `scripts/up` sets) accepts any password, but only while
  the API listens on loopback (`PODS_BIND_ADDRESS`) and `PODS_PUBLIC_URL` names a loopback
  host, i.e. a stack nobody else can reach.
- `PODS_DEV_IDENTITY=1` works anywhere, with passwords of at least MIN_PASSWORD_LENGTH
  characters that are not among the ones our docs and tests print.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from services.common.settings import Settings, SettingsError

MIN_PASSWORD_LENGTH = 12
# Passwords printed in README.md, the e2e harness and the deploy docs: public knowledge.
WELL_KNOWN_PASSWORDS = frozenset({"testpass", "otherpass", "adminpass", "password", "changeme"})


def is_loopback(host: str) -> bool:
    """True for localhost names and loopback addresses."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def identity_problems(settings: Settings) -> list[str]:
    """Every reason the identity configuration is unsafe or unusable; empty when it is fine."""
    return [*_external_problems(settings), *_dev_problems(settings), *_login_problems(settings)]


def check_identity(settings: Settings) -> None:
    """Raises SettingsError naming every problem of identity_problems."""
    problems = identity_problems(settings)
    if problems:
        raise SettingsError("refusing to start: " + "; ".join(problems))


def _external_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    if s.dev_identity == "off" and not s.jwt_issuer:
        problems.append(
            "no identity is configured: set PODS_JWT_ISSUER with PODS_JWT_JWKS_URL or "
            "PODS_JWT_PUBLIC_KEY_FILE (an external issuer), or PODS_DEV_IDENTITY=1 with "
            "PODS_DEV_USERS (the built-in identity)"
        )
    if s.jwt_issuer and not (s.jwt_public_key_file or s.jwt_jwks_url):
        problems.append(
            "PODS_JWT_ISSUER needs its keys: PODS_JWT_JWKS_URL or PODS_JWT_PUBLIC_KEY_FILE"
        )
    if not s.jwt_issuer:
        given = [
            name
            for name, value in (
                ("PODS_JWT_PUBLIC_KEY_FILE", s.jwt_public_key_file),
                ("PODS_JWT_JWKS_URL", s.jwt_jwks_url),
                ("PODS_JWT_AUDIENCE", s.jwt_audience),
                ("PODS_JWT_ADMIN_USERS", ",".join(s.jwt_admin_users)),
            )
            if value
        ]
        if given:
            problems.append(f"{', '.join(given)} given without PODS_JWT_ISSUER")
    if s.jwt_public_key_file and not s.jwt_jwks_url:
        try:
            Path(s.jwt_public_key_file).read_bytes()
        except OSError as exc:
            problems.append(f"PODS_JWT_PUBLIC_KEY_FILE cannot be read: {exc.strerror}")
    if s.jwt_jwks_url and urlsplit(s.jwt_jwks_url).scheme not in ("http", "https"):
        problems.append(f"PODS_JWT_JWKS_URL must be an http(s) URL, got {s.jwt_jwks_url!r}")
    return problems


def _dev_problems(s: Settings) -> list[str]:
    if s.dev_identity == "off":
        return []
    if s.jwt_issuer == f"{s.public_url}/v3/tokens":
        return ["PODS_JWT_ISSUER names the built-in identity's own issuer; give another one"]
    if not s.dev_users:
        return [f"PODS_DEV_IDENTITY={s.dev_identity} needs users: PODS_DEV_USERS=user:password"]
    if s.dev_identity == "local":
        public_host = urlsplit(s.public_url).hostname or ""
        if is_loopback(s.bind_address) and is_loopback(public_host):
            return []
        return [
            "PODS_DEV_IDENTITY=local is only for a stack reachable from this machine alone "
            f"(PODS_BIND_ADDRESS is {s.bind_address!r}, PODS_PUBLIC_URL is {s.public_url!r}); "
            "use PODS_DEV_IDENTITY=1 with strong passwords, or an external issuer"
        ]
    weak = sorted(
        user
        for user, password in s.dev_users.items()
        if password in WELL_KNOWN_PASSWORDS or len(password) < MIN_PASSWORD_LENGTH
    )
    if not weak:
        return []
    return [
        f"PODS_DEV_USERS gives {', '.join(weak)} a well-known or short password: with "
        f"PODS_DEV_IDENTITY=1 every password must have {MIN_PASSWORD_LENGTH} characters or "
        "more and not be one printed in our docs"
    ]


def _login_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    if s.login_user_failures < 1 or s.login_address_failures < 1:
        problems.append("PODS_LOGIN_USER_FAILURES and PODS_LOGIN_ADDRESS_FAILURES must be >= 1")
    if not 0 < s.login_block_seconds <= s.login_block_max_seconds:
        problems.append(
            "PODS_LOGIN_BLOCK_SECONDS must be > 0 and at most PODS_LOGIN_BLOCK_MAX_SECONDS"
        )
    return problems

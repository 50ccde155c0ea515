"""Validation of a networking stanza's login settings (`tapis_auth` and its fields).

Pure; called by validation.py's validate_networking for every stanza of a pod or template.
Errors name the field (`networking.<stanza>.tapis_auth_...`) and the rule, as every other
validation error does. The rules follow the real service's where it has them (header names
are HTTP tokens, values without CR/LF/NUL, at most 32 headers, a return path of safe path
characters up to 180 long) and add ours: a login needs an http port, a header the gateway
itself sets cannot be chosen, and a return path cannot start with "//".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from services.api.errors import InvalidArgumentError
from services.common.pod_auth_model import DEFAULT_ALLOWED_USERS, DEFAULT_RETURN_PATH, TapisAuth

MAX_HEADERS = 32
MAX_HEADER_NAME = 128
MAX_HEADER_VALUE = 1024
MAX_ALLOWED_USERS = 256
MAX_USERNAME = 256
MAX_RETURN_PATH = 180
HEADER_NAME_RE = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
RETURN_PATH_RE = re.compile(r"/[A-Za-z0-9._/-]*")
# Headers that frame or route the request, or that the gateway sets itself: a pod's login
# must not be able to change where or how the request goes.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
        "keep-alive",
        "proxy-connection",
        "cookie",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-request-id",
    }
)


def validate_tapis_auth(prefix: str, protocol: str, auth: TapisAuth) -> TapisAuth:
    """The stanza's login settings with Tapis's defaults filled in, or InvalidArgumentError
    naming `<prefix>.<field>`."""
    if auth.enabled and protocol != "http":
        raise InvalidArgumentError(
            f"{prefix}.tapis_auth", f"needs protocol 'http' (got {protocol[:32]!r})"
        )
    return TapisAuth(
        enabled=auth.enabled,
        response_headers=_headers(f"{prefix}.tapis_auth_response_headers", auth.response_headers),
        allowed_users=_users(f"{prefix}.tapis_auth_allowed_users", auth.allowed_users),
        return_path=_return_path(f"{prefix}.tapis_auth_return_path", auth.return_path),
    )


def _headers(field: str, headers: Mapping[str, str]) -> dict[str, str]:
    given = dict(headers)
    if len(given) > MAX_HEADERS:
        raise InvalidArgumentError(field, f"must have at most {MAX_HEADERS} headers")
    for name, value in given.items():
        if not HEADER_NAME_RE.fullmatch(name) or len(name) > MAX_HEADER_NAME:
            raise InvalidArgumentError(
                field,
                f"name {name[:64]!r} must be an HTTP token (letters, digits and !#$%&'*+.^_`|~-) "
                f"of at most {MAX_HEADER_NAME} characters",
            )
        lowered = name.lower()
        if lowered in RESERVED_HEADERS or lowered.startswith("x-envoy-"):
            raise InvalidArgumentError(
                field, f"{name!r} is set by the gateway and cannot be chosen"
            )
        if any(c in value for c in "\r\n\x00") or len(value) > MAX_HEADER_VALUE:
            raise InvalidArgumentError(
                f"{field}.{name}",
                f"must be at most {MAX_HEADER_VALUE} characters without CR, LF or NUL",
            )
    return given


def _users(field: str, users: tuple[str, ...]) -> tuple[str, ...]:
    if not users:
        return DEFAULT_ALLOWED_USERS
    if len(users) > MAX_ALLOWED_USERS:
        raise InvalidArgumentError(field, f"must have at most {MAX_ALLOWED_USERS} entries")
    for user in users:
        if not user.strip() or len(user) > MAX_USERNAME or any(c in user for c in "\r\n\x00"):
            raise InvalidArgumentError(
                field, f"entries must be user names of 1 to {MAX_USERNAME} characters, or '*'"
            )
    return tuple(users)


def _return_path(field: str, path: str) -> str:
    if not path:
        return DEFAULT_RETURN_PATH
    if not RETURN_PATH_RE.fullmatch(path) or path.startswith("//") or len(path) > MAX_RETURN_PATH:
        raise InvalidArgumentError(
            field,
            f"must start with '/' (not '//') and hold only letters, digits, '.', '-', '_' and "
            f"'/', at most {MAX_RETURN_PATH} characters (got {path[:64]!r})",
        )
    return path

"""The plain records of the gateway's login check: the HTTP request Envoy asks about and the
two answers (let it through with these headers, or answer it with this reply), with the
cookie and query helpers both checks use. Pure; used by pod_login.py and authorize.py, and
translated from and to Envoy's messages by transport/login_servicer.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlsplit

TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class HttpRequest:
    """What the gateway tells of a request: header names lowercase, `path` with its query,
    `body` only where the gateway sends it (the login form)."""

    method: str
    host: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    client_address: str = ""

    @property
    def route(self) -> str:
        """The path without its query."""
        return urlsplit(self.path).path

    def query(self, name: str) -> str:
        """The first value of query parameter `name`, or ""."""
        return first(parse_qs(urlsplit(self.path).query), name)

    def cookie(self, name: str) -> str:
        """The value of cookie `name`, or ""."""
        return cookies(self.headers.get("cookie", "")).get(name, "")


@dataclass(frozen=True)
class Allow:
    """Let the request through to the pod with `set_headers` set (replacing any the client
    sent) and `remove_headers` removed."""

    set_headers: Mapping[str, str] = field(default_factory=dict)
    remove_headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    """Answer the request here: the pod never sees it."""

    status: int
    body: str = ""
    content_type: str = TEXT
    headers: tuple[tuple[str, str], ...] = ()  # Set-Cookie may repeat


def text_reply(status: int, text: str, *extra: tuple[str, str]) -> Reply:
    return Reply(status, text + "\n", TEXT, (("cache-control", "no-store"), *extra))


def redirect(location: str, *cookies_to_set: str) -> Reply:
    """A 302 to `location`, setting each cookie in `cookies_to_set` (Set-Cookie values)."""
    headers = [("location", location), ("cache-control", "no-store")]
    headers.extend(("set-cookie", value) for value in cookies_to_set)
    return Reply(302, "", TEXT, tuple(headers))


def set_cookie(name: str, value: str, max_age: int) -> str:
    """A host-only cookie that scripts cannot read and that travels over HTTPS only; sent on
    top-level navigations from other sites (SameSite=Lax), which is how a login returns."""
    return f"{name}={value}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite=Lax"


def clear_cookie(name: str) -> str:
    return set_cookie(name, "", 0)


def cookies(header: str) -> dict[str, str]:
    """The cookies of a Cookie header (malformed ones ignored)."""
    jar: SimpleCookie = SimpleCookie()
    result: dict[str, str] = {}
    for part in header.split(";"):
        try:
            jar.load(part.strip())
        except CookieError:
            continue
    for name, morsel in jar.items():
        result[name] = morsel.value
    return result


def without_cookies(header: str, names: frozenset[str]) -> str:
    """The Cookie header minus the cookies named in `names`, keeping the others verbatim."""
    kept = [
        part.strip()
        for part in header.split(";")
        if part.strip() and part.strip().split("=", 1)[0].strip() not in names
    ]
    return "; ".join(kept)


def first(values: Mapping[str, list[str]], name: str) -> str:
    found = values.get(name)
    return found[0] if found else ""

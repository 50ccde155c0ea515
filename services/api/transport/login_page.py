"""The built-in identity's login page: a plain HTML form, no script, no external resource.
Pure; called by authorize_check.py. Every value is HTML-escaped; the page may not be framed
and submits only to itself (its Content-Security-Policy). It is answered 200 also when it
says why the last attempt failed (the gateway keeps the body of 200s only; other statuses
become the API's JSON errors)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from services.api.domain.http_check import HTML, Reply

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
)

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Log in - Pods</title></head>
<body>
<h1>Log in</h1>
<p>to reach <strong>{target}</strong> ({tenant})</p>
{error}<form method="post" action="{action}">
{hidden}<p><label>Username
<input name="username" autocomplete="username" value="{username}" required autofocus>
</label></p>
<p><label>Password
<input name="password" type="password" autocomplete="current-password" required>
</label></p>
<p><button type="submit">Log in</button></p>
</form>
</body>
</html>
"""


def login_page(
    *,
    action: str,
    target: str,
    tenant: str,
    hidden: Mapping[str, str],
    username: str = "",
    error: str = "",
) -> Reply:
    """The form posting `hidden` fields, the username and the password to `action`."""
    fields = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">\n'
        for name, value in hidden.items()
    )
    body = _PAGE.format(
        target=escape(target),
        tenant=escape(tenant),
        action=escape(action),
        hidden=fields,
        username=escape(username),
        error=f'<p role="alert">{escape(error)}</p>\n' if error else "",
    )
    return Reply(200, body, HTML, SECURITY_HEADERS)

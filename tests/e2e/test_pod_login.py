"""A web pod behind a login (`tapis_auth`), end to end through the real stack: created with
tapipy unchanged, reached by a browser-like client (requests.Session following redirects and
keeping cookies, verifying the stack's CA) that lands on the identity's login page, logs in,
and reaches the pod, which received the user in its header and never the session cookie; a
user not in tapis_auth_allowed_users gets 403; a pod without tapis_auth answers without any
login."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
import requests
import urllib3.util.connection
from tapipy.errors import BaseTapyException
from tapipy.tapis import Tapis

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually

pytestmark = [pytest.mark.docker, pytest.mark.stack]
DOMAIN = "pods.localhost"

# The pod: busybox httpd (the pods-http image) with a CGI script printing the request's headers,
# so the test sees what the pod received.
ECHO_SCRIPT = (
    "mkdir -p /tmp/w/cgi-bin && echo ok > /tmp/w/index.html && "
    "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\nenv | grep ^HTTP_ | sort\\n' "
    "> /tmp/w/cgi-bin/headers && chmod +x /tmp/w/cgi-bin/headers && "
    "exec httpd -f -p 5000 -h /tmp/w"
)


@pytest.fixture(scope="module")
def t(stack: Stack) -> Tapis:
    client = Tapis(base_url=stack.url, username="testuser", password="testpass")
    client.get_tokens()
    return client


@pytest.fixture(autouse=True)
def pod_names_resolve_to_the_gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`*.pods.localhost` is the local gateway (no DNS here knows the name)."""
    real = urllib3.util.connection.create_connection

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address
        if host.endswith("." + DOMAIN):
            host = "127.0.0.1"
        return real((host, port), *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    yield


def browser(stack: Stack) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy, and no CA bundle from the environment overriding ours
    session.verify = str(stack.ca)
    return session


def pod_url(stack: Stack, pod_id: str, path: str = "/") -> str:
    return f"https://{pod_id}.{DOMAIN}:{stack.env['PODS_PODS_PORT']}{path}"


class LoginForm(HTMLParser):
    """The action and hidden fields of the login page's form."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action", "")
        if tag == "input" and values.get("type") == "hidden":
            self.fields[values["name"]] = values.get("value", "")


def log_in(
    stack: Stack, session: requests.Session, url: str, user: str, password: str
) -> requests.Response:
    """Opens `url`, is sent to the login page, submits it; the response after the redirects."""
    page = session.get(url, timeout=30)
    assert page.status_code == 200, (page.status_code, page.text[:300])
    assert page.url.startswith(f"{stack.url}/v3/oauth2/authorize?"), page.url
    assert "password" in page.text
    form = LoginForm()
    form.feed(page.text)
    assert form.action == "/v3/oauth2/authorize"
    return session.post(
        stack.url + form.action,
        data={**form.fields, "username": user, "password": password},
        timeout=30,
    )


def create_web_pod(stack: Stack, t: Tapis, pod_id: str, networking: dict[str, Any]) -> None:
    """Creates the header-echoing pod and waits until it is AVAILABLE and routed: behind its
    login (an anonymous request is sent to the login page) when it has tapis_auth, else
    answering."""
    t.pods.create_pod(
        pod_id=pod_id,
        image="pods-http:latest",
        command=["/bin/sh", "-c", ECHO_SCRIPT],
        networking=networking,
    )
    eventually(lambda: t.pods.get_pod(pod_id=pod_id).status == "AVAILABLE", what=f"{pod_id} up")
    login = networking["default"].get("tapis_auth", False)

    def routed() -> bool:
        try:
            reply = browser(stack).get(pod_url(stack, pod_id), allow_redirects=False, timeout=10)
        except requests.ConnectionError:
            return False  # not routed yet: the pods port resets a name it has no route for

        if login:
            location = reply.headers.get("location", "")
            return reply.status_code == 302 and "/v3/oauth2/authorize?" in location
        return reply.status_code == 200

    eventually(routed, 5.0, f"{pod_id} routed" + (" behind its login" if login else ""))


def behind_login(**fields: object) -> dict[str, Any]:
    """The networking of a pod whose default port (5000, http) is behind a login."""
    return {"default": {"protocol": "http", "port": 5000, "tapis_auth": True, **fields}}


def headers_seen(text: str) -> dict[str, str]:
    return dict(re.findall(r"^HTTP_([A-Z0-9_]+)=(.*)$", text, re.MULTILINE))


def test_a_browser_logs_in_and_the_pod_gets_the_user(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("authweb"))
    create_web_pod(
        stack,
        t,
        pod_id,
        behind_login(
            tapis_auth_allowed_users=["testuser"],
            tapis_auth_response_headers={"X-Tapis-Username": "<<tapisusername>>@<<tapistenantid>>"},
            tapis_auth_return_path="/cgi-bin/headers",
        ),
    )
    stanza = t.pods.get_pod(pod_id=pod_id).networking.default
    assert stanza.tapis_auth is True
    assert stanza.tapis_auth_allowed_users == ["testuser"]
    assert stanza.tapis_auth_return_path == "/cgi-bin/headers"

    session = browser(stack)
    landed = log_in(
        stack, session, pod_url(stack, pod_id, "/cgi-bin/headers"), "testuser", "testpass"
    )
    assert landed.status_code == 200, landed.text[:300]
    assert landed.url == pod_url(stack, pod_id, "/cgi-bin/headers")
    seen = headers_seen(landed.text)
    assert seen["X_TAPIS_USERNAME"] == "testuser@dev"
    assert "pods-session" not in seen.get("COOKIE", "")
    cookie = next(c for c in session.cookies if c.name == "__Host-pods-session")
    assert cookie.secure and cookie.has_nonstandard_attr("HttpOnly")

    # The session goes on working, and a spoofed user header is replaced.
    again = session.get(
        pod_url(stack, pod_id, "/cgi-bin/headers"),
        headers={"X-Tapis-Username": "admin"},
        timeout=10,
    )
    assert headers_seen(again.text)["X_TAPIS_USERNAME"] == "testuser@dev"

    # A script may send its token instead of logging in; the pod does not get the token.
    token = t.access_token.access_token
    scripted = browser(stack).get(
        pod_url(stack, pod_id, "/cgi-bin/headers"), headers={"X-Tapis-Token": token}, timeout=10
    )
    assert scripted.status_code == 200
    assert headers_seen(scripted.text)["X_TAPIS_USERNAME"] == "testuser@dev"
    assert "X_TAPIS_TOKEN" not in headers_seen(scripted.text)


def test_a_user_not_allowed_gets_403(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("authonly"))
    create_web_pod(stack, t, pod_id, behind_login(tapis_auth_allowed_users=["testuser"]))
    denied = log_in(stack, browser(stack), pod_url(stack, pod_id), "otheruser", "otherpass")
    assert denied.status_code == 403
    assert "otheruser" in denied.text


def test_a_wrong_password_shows_the_login_page_again(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("authpw"))
    create_web_pod(stack, t, pod_id, behind_login())
    refused = log_in(stack, browser(stack), pod_url(stack, pod_id), "testuser", "wrong")
    assert refused.status_code == 200  # the form again, saying why
    assert refused.url == f"{stack.url}/v3/oauth2/authorize"
    assert "Invalid username or password" in refused.text


def test_a_pod_without_tapis_auth_answers_without_login(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("openweb"))
    create_web_pod(stack, t, pod_id, {"default": {"protocol": "http", "port": 5000}})
    assert t.pods.get_pod(pod_id=pod_id).networking.default.tapis_auth is False
    reply = browser(stack).get(pod_url(stack, pod_id, "/cgi-bin/headers"), timeout=10)
    assert reply.status_code == 200
    assert reply.url == pod_url(stack, pod_id, "/cgi-bin/headers")


def test_the_identity_never_redirects_outside_the_pod_domain(stack: Stack) -> None:
    reply = browser(stack).get(
        f"{stack.url}/v3/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": "pods-gateway",
            "redirect_uri": "https://evil.example.net/.pods-auth/callback",
            "state": "x",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert reply.status_code == 400
    assert "location" not in reply.headers
    assert "redirect_uri" in reply.json()["message"]


def test_tapipy_asks_what_the_login_does_for_its_user(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    """Tapis's `pod_auth` and `pod_auth_callback` through tapipy unchanged."""
    pod_id = cleanup.pod(unique("authapi"))
    t.pods.create_pod(
        pod_id=pod_id,
        image="pods-http:latest",
        networking={
            "default": {"protocol": "http", "port": 5000, "tapis_auth": True},
            "admin": {
                "protocol": "http",
                "port": 5000,
                "tapis_auth": True,
                "tapis_auth_allowed_users": ["adminuser"],
                "tapis_auth_response_headers": {"X-User": "<<tapisusername>>"},
            },
        },
    )
    status = t.pods.pod_auth(pod_id_net=pod_id)
    assert status.tapis_auth is True and status.username == "testuser"
    other = Tapis(base_url=stack.url, username="adminuser", password="adminpass")
    other.get_tokens()
    headers = other.pods.pod_auth(pod_id_net=f"{pod_id}-admin").headers
    assert getattr(headers, "X-User") == "adminuser"
    with pytest.raises(BaseTapyException) as denied:
        t.pods.pod_auth(pod_id_net=f"{pod_id}-admin")
    assert "testuser" in str(denied.value)
    with pytest.raises(BaseTapyException) as callback:
        t.pods.pod_auth_callback(pod_id_net=pod_id)
    assert "/.pods-auth/callback" in str(callback.value)

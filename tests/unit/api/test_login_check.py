"""The login check as Envoy sees it: the authorize page (a form, escaped; a redirect with a
code; the form again after a wrong password; plain-text errors) and the translation of the
check's answers into Envoy's CheckResponse (headers overwritten for the pod, replies
denied with their status and cookies)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from envoy.config.core.v3 import base_pb2

from services.api.domain.authorize import CLIENT_ID, AuthorizationCodes
from services.api.domain.http_check import Allow, HttpRequest, Reply, redirect
from services.api.domain.identity import Identity, TenantInfo
from services.api.domain.login_throttle import LoginThrottle, ThrottlePolicy
from services.api.tokens import TokenIssuer, load_or_create_private_key
from services.api.transport.authorize_check import AUTHORIZE_PATH, FORM_TYPE, AuthorizePage
from services.api.transport.login_servicer import check_response

DOMAIN = "pods.example.org"
CALLBACK = f"https://web1.{DOMAIN}/.pods-auth/callback"
PARAMS = {
    "response_type": "code",
    "client_id": CLIENT_ID,
    "redirect_uri": CALLBACK,
    "state": 'st"<ate>',
}


@pytest.fixture
def page(tmp_path: Path) -> AuthorizePage:
    key = load_or_create_private_key(tmp_path / "k.pem")
    identity = Identity(
        tenant=TenantInfo("dev", "local", "https://api.example.org", "", ""),
        users={"alice": "alicepw"},
        issuer=TokenIssuer(key, "https://api.example.org/v3/tokens", 3600),
        throttle=LoginThrottle(
            ThrottlePolicy(
                user_failures=30, address_failures=100, block_seconds=60, block_max_seconds=600
            ),
            lambda: 0.0,
        ),
        clock=lambda: datetime.now(UTC),
    )
    return AuthorizePage(AuthorizationCodes(identity, DOMAIN, lambda: datetime.now(UTC)), "dev")


def post(page: AuthorizePage, **form: str) -> Reply:
    body = urlencode({**PARAMS, **form})
    return page.answer(
        HttpRequest("POST", "api.example.org", AUTHORIZE_PATH, {"content-type": FORM_TYPE}, body)
    )


def test_the_login_form_carries_the_request_escaped(page: AuthorizePage) -> None:
    reply = page.answer(HttpRequest("GET", "api", f"{AUTHORIZE_PATH}?{urlencode(PARAMS)}"))
    assert reply.status == 200 and reply.content_type.startswith("text/html")
    assert 'value="st&quot;&lt;ate&gt;"' in reply.body
    assert "<ate>" not in reply.body
    assert ("x-frame-options", "DENY") in reply.headers


def test_a_good_password_is_redirected_to_the_callback_with_a_code(page: AuthorizePage) -> None:
    reply = post(page, username="alice", password="alicepw")
    assert reply.status == 302
    location = dict(reply.headers)["location"]
    assert location.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [PARAMS["state"]] and query["code"][0]


def test_a_wrong_password_shows_the_form_again(page: AuthorizePage) -> None:
    reply = post(page, username="alice", password="nope")
    assert reply.status == 200
    assert "Invalid username or password" in reply.body and 'value="alice"' in reply.body


def test_requests_the_identity_cannot_serve_get_plain_text(page: AuthorizePage) -> None:
    assert post(page, redirect_uri="https://evil.example.net/x").status == 400
    not_a_form = page.answer(HttpRequest("POST", "api", AUTHORIZE_PATH, {}, "{}"))
    assert not_a_form.status == 415 and not_a_form.content_type.startswith("text/plain")
    assert page.answer(HttpRequest("PUT", "api", AUTHORIZE_PATH)).status == 405


def test_an_allow_overwrites_the_pods_headers_and_removes_credentials() -> None:
    response = check_response(Allow({"X-User": "alice"}, ("x-tapis-token",)))
    assert response.status.code == 0
    (header,) = response.ok_response.headers
    assert (header.header.key, header.header.value) == ("X-User", "alice")
    assert header.append_action == base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
    assert list(response.ok_response.headers_to_remove) == ["x-tapis-token"]


def test_a_reply_is_denied_with_its_status_and_every_cookie() -> None:
    response = check_response(redirect("https://web1/", "a=1; Secure", "b=; Max-Age=0"))
    assert response.status.code != 0
    denied = response.denied_response
    assert denied.status.code == 302
    cookies = [h.header.value for h in denied.headers if h.header.key == "set-cookie"]
    assert cookies == ["a=1; Secure", "b=; Max-Age=0"]

"""The login in front of a pod, through the built-in identity, without a gateway: a browser is
sent to the login page, comes back with a code, gets a session for that pod's host only, and
then reaches the pod with its user in the pod's headers and no credential; others get 403;
states, codes and redirect targets cannot be forged or replayed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from services.api.domain.authorize import CLIENT_ID, AuthorizationCodes, AuthorizeRequest
from services.api.domain.http_check import Allow, HttpRequest, Reply, cookies
from services.api.domain.identity import Identity, TenantInfo
from services.api.domain.login_ports import LoggedIn
from services.api.domain.login_session import Signer
from services.api.domain.login_throttle import LoginThrottle, ThrottlePolicy
from services.api.domain.pod_login import (
    SESSION_COOKIE,
    STATE_COOKIE,
    LoginEndpoints,
    PodLogin,
    PodPort,
)
from services.api.errors import InvalidArgumentError, UnauthenticatedError
from services.api.tokens import TokenIssuer, load_or_create_private_key
from services.common.pod_auth_model import LOGIN_CALLBACK_PATH, TapisAuth
from services.common.pods_model import NetworkStanza, PodRecord, Status
from services.common.runtime.types import PodKey
from tests.unit.gateway.test_route_source import record  # a PodRecord of tenant "dev"

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DOMAIN = "pods.example.org"
HOST = f"web1.{DOMAIN}"
PORT = PodPort("dev", "web1", "default", HOST)
AUTHORIZE = "https://api.example.org/v3/oauth2/authorize"
TENANT = TenantInfo("dev", "local", "https://api.example.org", "", "")
POLICY = ThrottlePolicy(
    user_failures=30, address_failures=100, block_seconds=60, block_max_seconds=600
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Pods:
    def __init__(self, auth: TapisAuth) -> None:
        self.auth = auth

    async def get_pod(self, key: PodKey) -> PodRecord | None:
        if key != PodKey("dev", "web1"):
            return None
        stanza = NetworkStanza("http", 5000, self.auth)
        return record(key.pod_id, Status.AVAILABLE, {}, networking={"default": stanza})


class Tokens:
    def user_of(self, token: str) -> LoggedIn | None:
        return {
            "good-token": LoggedIn("dev", "alice", NOW),
            "other-tenant": LoggedIn("x", "alice", NOW),
        }.get(token)


AUTH = TapisAuth(
    enabled=True,
    response_headers={"X-Tapis-Username": "<<tapisusername>>@<<tapistenantid>>.<<tapissiteid>>"},
    allowed_users=("alice",),
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def codes(tmp_path: Path, clock: Clock) -> AuthorizationCodes:
    key = load_or_create_private_key(tmp_path / "k.pem")
    identity = Identity(
        tenant=TENANT,
        users={"alice": "alicepw", "bob": "bobpw"},
        issuer=TokenIssuer(key, "https://api.example.org/v3/tokens", 3600),
        throttle=LoginThrottle(POLICY, lambda: 0.0),
        clock=clock,
    )
    return AuthorizationCodes(identity, DOMAIN, clock)


@pytest.fixture
def pods() -> Pods:
    return Pods(AUTH)


@pytest.fixture
def login(codes: AuthorizationCodes, pods: Pods, clock: Clock) -> PodLogin:
    return PodLogin(
        pods=pods,
        codes=codes,
        tokens=Tokens(),
        signer=Signer(b"s" * 32),
        endpoints=LoginEndpoints(AUTHORIZE, CLIENT_ID, "local"),
        clock=clock,
    )


def get(
    path: str, jar: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
) -> HttpRequest:
    all_headers = dict(headers or {})
    if jar:
        all_headers["cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
    return HttpRequest("GET", f"{HOST}:8443", path, all_headers)


def set_cookies(reply: Reply) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in reply.headers:
        if name == "set-cookie":
            assert "Secure" in value and "HttpOnly" in value and "Path=/" in value
            found.update(cookies(value.split(";", 1)[0]))
    return found


def location(reply: Reply) -> str:
    assert reply.status == 302, reply
    return dict(reply.headers)["location"]


async def log_in(
    login: PodLogin, codes: AuthorizationCodes, user: str = "alice", password: str = "alicepw"
) -> Reply:
    """A browser's whole login: the pod, the login page, back to the callback."""
    first = await login.check(PORT, get("/private"))
    assert isinstance(first, Reply)
    jar = set_cookies(first)
    query = {k: v[0] for k, v in parse_qs(urlsplit(location(first)).query).items()}
    assert location(first).startswith(AUTHORIZE + "?")
    asked = AuthorizeRequest(
        query["response_type"], query["client_id"], query["redirect_uri"], query["state"]
    )
    code = codes.grant(asked, user, password, "10.0.0.1")
    back = await login.check(
        PORT, get(f"{LOGIN_CALLBACK_PATH}?code={code}&state={query['state']}", jar)
    )
    assert isinstance(back, Reply)
    return back


async def test_a_browser_without_a_session_is_sent_to_the_login_page(login: PodLogin) -> None:
    reply = await login.check(PORT, get("/"))
    assert isinstance(reply, Reply)
    query = parse_qs(urlsplit(location(reply)).query)
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"https://{HOST}:8443{LOGIN_CALLBACK_PATH}"]
    assert STATE_COOKIE in set_cookies(reply)


async def test_after_login_the_pod_gets_the_user_in_its_headers_and_no_credential(
    login: PodLogin, codes: AuthorizationCodes
) -> None:
    back = await log_in(login, codes)
    assert location(back) == f"https://{HOST}:8443/"
    jar = set_cookies(back)
    assert jar[SESSION_COOKIE] and not jar[STATE_COOKIE]
    jar["app"] = "1"
    allowed = await login.check(PORT, get("/private", jar, headers={"x-tapis-username": "spoofed"}))
    assert isinstance(allowed, Allow)
    assert allowed.set_headers == {"X-Tapis-Username": "alice@dev.local", "cookie": "app=1"}


async def test_a_user_not_allowed_gets_403_at_the_callback(
    login: PodLogin, codes: AuthorizationCodes
) -> None:
    back = await log_in(login, codes, "bob", "bobpw")
    assert back.status == 403 and "bob" in back.body
    assert SESSION_COOKIE not in set_cookies(back)


async def test_a_session_stops_working_when_the_user_is_removed_from_the_list(
    login: PodLogin, codes: AuthorizationCodes, pods: Pods
) -> None:
    jar = set_cookies(await log_in(login, codes))
    pods.auth = TapisAuth(enabled=True, allowed_users=("carol",))
    denied = await login.check(PORT, get("/", jar))
    assert isinstance(denied, Reply) and denied.status == 403


async def test_a_session_is_for_its_host_only(login: PodLogin, codes: AuthorizationCodes) -> None:
    jar = set_cookies(await log_in(login, codes))
    other = PodPort("dev", "web1", "default", f"web2.{DOMAIN}")
    reply = await login.check(
        other,
        HttpRequest(
            "GET", f"web2.{DOMAIN}", "/", {"cookie": f"{SESSION_COOKIE}={jar[SESSION_COOKIE]}"}
        ),
    )
    assert isinstance(reply, Reply) and reply.status == 302


async def test_a_callback_without_the_browsers_state_cookie_is_refused(
    login: PodLogin, codes: AuthorizationCodes
) -> None:
    first = await login.check(PORT, get("/"))
    assert isinstance(first, Reply)
    query = {k: v[0] for k, v in parse_qs(urlsplit(location(first)).query).items()}
    asked = AuthorizeRequest("code", CLIENT_ID, query["redirect_uri"], query["state"])
    code = codes.grant(asked, "alice", "alicepw", "10.0.0.1")
    path = f"{LOGIN_CALLBACK_PATH}?code={code}&state={query['state']}"
    for jar in ({}, {STATE_COOKIE: "someone-elses"}):
        reply = await login.check(PORT, get(path, jar))
        assert isinstance(reply, Reply) and reply.status == 400


async def test_a_code_is_redeemed_once(login: PodLogin, codes: AuthorizationCodes) -> None:
    asked = AuthorizeRequest("code", CLIENT_ID, f"https://{HOST}{LOGIN_CALLBACK_PATH}", "s")
    code = codes.grant(asked, "alice", "alicepw", "10.0.0.1")
    assert (await codes.exchange(code, asked.redirect_uri)).username == "alice"
    with pytest.raises(InvalidArgumentError):
        await codes.exchange(code, asked.redirect_uri)


async def test_a_code_expires_and_is_bound_to_its_redirect(
    codes: AuthorizationCodes, clock: Clock
) -> None:
    asked = AuthorizeRequest("code", CLIENT_ID, f"https://{HOST}{LOGIN_CALLBACK_PATH}", "s")
    code = codes.grant(asked, "alice", "alicepw", "10.0.0.1")
    with pytest.raises(InvalidArgumentError, match="redirect_uri"):
        await codes.exchange(code, f"https://web2.{DOMAIN}{LOGIN_CALLBACK_PATH}")
    code = codes.grant(asked, "alice", "alicepw", "10.0.0.1")
    clock.now += timedelta(minutes=2)
    with pytest.raises(InvalidArgumentError, match="expired"):
        await codes.exchange(code, asked.redirect_uri)


def test_a_wrong_password_gets_no_code(codes: AuthorizationCodes) -> None:
    asked = AuthorizeRequest("code", CLIENT_ID, f"https://{HOST}{LOGIN_CALLBACK_PATH}", "s")
    with pytest.raises(UnauthenticatedError):
        codes.grant(asked, "alice", "wrong", "10.0.0.1")


@pytest.mark.parametrize(
    "uri",
    [
        f"http://{HOST}{LOGIN_CALLBACK_PATH}",
        f"https://evil.example.net{LOGIN_CALLBACK_PATH}",
        f"https://a.b.{DOMAIN}{LOGIN_CALLBACK_PATH}",
        f"https://{DOMAIN}{LOGIN_CALLBACK_PATH}",
        f"https://{HOST}/elsewhere",
        f"https://{HOST}{LOGIN_CALLBACK_PATH}?next=https://evil.example.net",
        f"https://user@{HOST}{LOGIN_CALLBACK_PATH}",
        f"https://{HOST}:bad{LOGIN_CALLBACK_PATH}",
    ],
)
def test_the_identity_sends_codes_only_to_a_pod_hosts_callback(
    codes: AuthorizationCodes, uri: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        codes.check(AuthorizeRequest("code", CLIENT_ID, uri, "s"))
    assert info.value.field == "redirect_uri"


async def test_an_api_client_may_send_its_token_instead(login: PodLogin) -> None:
    allowed = await login.check(PORT, get("/", headers={"x-tapis-token": "good-token"}))
    assert isinstance(allowed, Allow) and "x-tapis-token" in allowed.remove_headers
    refused = await login.check(PORT, get("/", headers={"x-tapis-token": "other-tenant"}))
    assert isinstance(refused, Reply) and refused.status == 401


async def test_other_methods_without_a_session_get_401(login: PodLogin) -> None:
    reply = await login.check(PORT, HttpRequest("POST", HOST, "/api", {}))
    assert isinstance(reply, Reply) and reply.status == 401


async def test_a_pod_whose_login_was_turned_off_lets_requests_through(
    login: PodLogin, pods: Pods
) -> None:
    pods.auth = TapisAuth()
    assert await login.check(PORT, get("/")) == Allow()


async def test_a_request_for_another_host_is_refused(login: PodLogin) -> None:
    reply = await login.check(PORT, HttpRequest("GET", f"web2.{DOMAIN}", "/", {}))
    assert isinstance(reply, Reply) and reply.status == 421

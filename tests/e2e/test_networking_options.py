"""A pod's networking stanzas through the real stack: several stanzas each at its own URL and
port, `ip_allow_list` enforced by the gateway for HTTP (403) and TCP (connection closed),
CORS preflights answered per stanza, the Tapis UI hints stored and returned to tapipy, and
an unknown field inside a stanza refused with 400 naming it (while unknown top-level fields
stay harmless, as Tapis clients expect)."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from typing import Any

import psycopg2
import pytest
from tapipy.errors import BadRequestError
from tapipy.tapis import Tapis

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually
from tests.e2e.test_networking import DOMAIN, https_connection, pods_port, tls_context

pytestmark = [pytest.mark.docker, pytest.mark.stack]
# Two web servers in one pod: "one" on 5000 (the default stanza), "two" on 6000.
TWO_SERVERS = (
    "mkdir -p /tmp/a /tmp/b && echo one >/tmp/a/index.html && echo two >/tmp/b/index.html "
    "&& httpd -p 6000 -h /tmp/b && exec httpd -f -p 5000 -h /tmp/a"
)
ELSEWHERE = ["10.0.0.0/8", "192.168.1.7"]  # not where the tests connect from


@pytest.fixture(scope="module")
def t(stack: Stack) -> Tapis:
    client = Tapis(base_url=stack.url, username="testuser", password="testpass")
    client.get_tokens()
    return client


def call(stack: Stack, host: str, method: str = "GET", **headers: str) -> http.client.HTTPResponse:
    """One request to `host` through the pods port; the response is read."""
    connection = https_connection(stack, host)
    connection.request(method, "/", headers={"Host": host, **headers})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def status_of(stack: Stack, host: str) -> int:
    try:
        return call(stack, host).status
    except (ssl.SSLError, OSError):
        return 0


def body_of(stack: Stack, host: str) -> str:
    connection = https_connection(stack, host)
    connection.request("GET", "/", headers={"Host": host})
    response = connection.getresponse()
    assert response.status == 200, response.status
    return response.read().decode()


def echoes(stack: Stack, host: str) -> bool:
    """True when a TLS connection to the tcp pod `host` gets its bytes back; False when the
    gateway closes it (refused by the allow-list) or the name is not routed."""
    try:
        with (
            socket.create_connection(("127.0.0.1", pods_port(stack)), timeout=5) as raw,
            tls_context(stack).wrap_socket(raw, server_hostname=host) as tls,
        ):
            tls.sendall(b"ping\n")
            return tls.recv(100) == b"ping\n"
    except (ssl.SSLError, OSError):
        return False


def available(t: Tapis, pod_id: str) -> None:
    eventually(lambda: t.pods.get_pod(pod_id=pod_id).status == "AVAILABLE", what=f"{pod_id} up")


def test_each_stanza_has_its_own_url_and_port(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("twoweb"))
    t.pods.create_pod(
        pod_id=pod_id,
        image="pods-http:latest",
        command=["sh", "-c", TWO_SERVERS],
        networking={
            "default": {"protocol": "http", "port": 5000},
            "admin": {"protocol": "http", "port": 6000},
        },
    )
    available(t, pod_id)
    networking = t.pods.get_pod(pod_id=pod_id).networking
    port = pods_port(stack)
    assert networking.default.url == f"{pod_id}.{DOMAIN}:{port}"
    assert networking.admin.url == f"{pod_id}-admin.{DOMAIN}:{port}"
    eventually(lambda: status_of(stack, f"{pod_id}-admin.{DOMAIN}") == 200, 10, "admin routed")
    assert body_of(stack, f"{pod_id}.{DOMAIN}") == "one\n"
    assert body_of(stack, f"{pod_id}-admin.{DOMAIN}") == "two\n"


def test_an_http_allow_list_without_the_client_answers_403_and_with_it_lets_through(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("allowweb"))
    host = f"{pod_id}.{DOMAIN}"
    t.pods.create_pod(
        pod_id=pod_id,
        image="pods-http:latest",
        networking={"default": {"protocol": "http", "port": 5000, "ip_allow_list": ELSEWHERE}},
    )
    available(t, pod_id)
    eventually(lambda: status_of(stack, host) == 403, 10, "403 for 127.0.0.1")
    (container,) = stack.containers(pod_id)
    t.pods.update_pod(
        pod_id=pod_id,
        networking={
            "default": {"protocol": "http", "port": 5000, "ip_allow_list": ["127.0.0.1/32"]}
        },
    )
    # Only the gateway changes: within its route refresh, and the same container serves.
    eventually(lambda: status_of(stack, host) == 200, 5, "127.0.0.1 let through")
    assert [c.id for c in stack.containers(pod_id)] == [container.id]


def test_a_tcp_allow_list_without_the_client_closes_and_with_it_lets_through(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("allowtcp"))
    host = f"{pod_id}.{DOMAIN}"
    stanza: dict[str, Any] = {"protocol": "tcp", "port": 7687, "ip_allow_list": ELSEWHERE}
    t.pods.create_pod(pod_id=pod_id, image="pods-echo:latest", networking={"default": stanza})
    available(t, pod_id)
    # Routed (the handshake succeeds) but every connection is closed without an echo.
    eventually(lambda: _handshake_completes(stack, host), 10, "tcp route published")
    assert not echoes(stack, host)
    stanza["ip_allow_list"] = ["127.0.0.0/8"]
    t.pods.update_pod(pod_id=pod_id, networking={"default": stanza})
    eventually(lambda: echoes(stack, host), what="127.0.0.1 let through")


def _handshake_completes(stack: Stack, host: str, alpn: list[str] | None = None) -> bool:
    """True when the gateway has a filter chain for `host` (the TLS handshake completes)."""
    try:
        with (
            socket.create_connection(("127.0.0.1", pods_port(stack)), timeout=5) as raw,
            tls_context(stack, alpn).wrap_socket(raw, server_hostname=host),
        ):
            return True
    except (ssl.SSLError, OSError):
        return False


def test_a_cors_preflight_is_answered_with_the_stanzas_policy(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("corsweb"))
    host = f"{pod_id}.{DOMAIN}"
    t.pods.create_pod(
        pod_id=pod_id,
        image="pods-http:latest",
        networking={
            "default": {
                "protocol": "http",
                "port": 5000,
                "cors_allow_origins": ["https://app.example.org"],
                "cors_allow_methods": ["GET", "PUT"],
                "cors_allow_headers": ["X-Custom"],
                "cors_allow_credentials": True,
                "cors_max_age": 50,
            }
        },
    )
    available(t, pod_id)
    eventually(lambda: status_of(stack, host) == 200, 10, "routed")
    preflight = {
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "X-Custom",
    }
    allowed = call(stack, host, "OPTIONS", Origin="https://app.example.org", **preflight)
    assert allowed.status == 200
    assert allowed.getheader("access-control-allow-origin") == "https://app.example.org"
    assert allowed.getheader("access-control-allow-methods") == "GET,PUT"
    assert allowed.getheader("access-control-allow-headers") == "X-Custom"
    assert allowed.getheader("access-control-allow-credentials") == "true"
    assert allowed.getheader("access-control-max-age") == "50"
    other = call(stack, host, "OPTIONS", Origin="https://evil.example.com", **preflight)
    assert other.getheader("access-control-allow-origin") is None
    simple = call(stack, host, Origin="https://app.example.org")
    assert simple.getheader("access-control-allow-origin") == "https://app.example.org"


def test_the_tapis_ui_fields_round_trip_through_tapipy(
    t: Tapis, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("uiweb"))
    given = {
        "protocol": "http",
        "port": 5000,
        "tapis_ui_uri": "/lab/tree",
        "tapis_ui_uri_redirect": True,
        "tapis_ui_uri_description": "JupyterLab on this pod",
    }
    created = t.pods.create_pod(pod_id=pod_id, image="pods-http:latest", networking={"web": given})
    for pod in (created, t.pods.get_pod(pod_id=pod_id)):
        stanza = pod.networking.web
        assert stanza.tapis_ui_uri == "/lab/tree"
        assert stanza.tapis_ui_uri_redirect is True
        assert stanza.tapis_ui_uri_description == "JupyterLab on this pod"
        # What was not given has Tapis's defaults.
        assert stanza.cors_max_age == 100
        assert stanza.ip_allow_list == [] and stanza.cors_allow_origins == []


def test_an_unknown_stanza_field_is_refused_naming_it(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("typo"))
    with pytest.raises(BadRequestError) as info:
        t.pods.create_pod(
            pod_id=pod_id,
            image="pods-http:latest",
            networking={"default": {"port": 5000, "ip_alow_list": ["10.0.0.0/8"]}},
        )
    assert "networking.default.ip_alow_list: unknown field" in str(info.value.message)
    status, _, _ = stack.request("GET", f"/v3/pods/{pod_id}", token=t.access_token.access_token)
    assert status == 404  # nothing was made

    token = t.access_token.access_token
    body = {"pod_id": pod_id, "image": "pods-http:latest", "a_newer_tapis_field": {"x": 1}}
    status, content_type, data = stack.request("POST", "/v3/pods", json.dumps(body).encode(), token)
    assert status == 200, data  # unknown top-level fields stay harmless
    update = {"networking": {"default": {"port": 5000, "colour": "red"}}}
    status, content_type, data = stack.request(
        "PUT", f"/v3/pods/{pod_id}", json.dumps(update).encode(), token
    )
    assert status == 400 and content_type == "application/json"
    assert isinstance(data, dict)
    assert "networking.default.colour: unknown field" in data["message"], data


def test_a_postgres_allow_list_is_enforced_for_direct_tls_and_refuses_classic_libpq(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("allowpg"))
    host = f"{pod_id}.{DOMAIN}"
    t.pods.create_pod(
        pod_id=pod_id,
        template="postgres",  # the template fixes port and protocol; the options are the pod's
        networking={"default": {"ip_allow_list": ELSEWHERE}},
    )
    available(t, pod_id)
    assert list(t.pods.get_pod(pod_id=pod_id).networking.default.ip_allow_list) == ELSEWHERE
    creds = t.pods.get_pod_credentials(pod_id=pod_id)
    args = (stack, host, creds.user_username, creds.user_password)
    eventually(lambda: _handshake_completes(stack, host, ["postgresql"]), 10, "routed")
    assert _pg_error(*args, sslnegotiation="direct") is not None  # closed by Envoy's RBAC
    t.pods.update_pod(pod_id=pod_id, networking={"default": {"ip_allow_list": ["127.0.0.1"]}})
    eventually(lambda: _pg_error(*args, sslnegotiation="direct") is None, what="let through")
    # Classic libpq reaches the STARTTLS router, which cannot see the client: refused.
    assert "unrecognized name" in str(_pg_error(*args, sslmode="require"))


def _pg_error(stack: Stack, host: str, user: str, password: str, **options: str) -> str | None:
    """None when `select 1` works over TLS as `user`, else the error."""
    try:
        with (
            psycopg2.connect(
                host=host,
                hostaddr="127.0.0.1",
                port=pods_port(stack),
                dbname="postgres",
                user=user,
                password=password,
                sslmode=options.pop("sslmode", "require"),
                connect_timeout=5,
                **options,
            ) as conn,
            conn.cursor() as cur,
        ):
            cur.execute("select 1")
            return None
    except psycopg2.Error as exc:
        return str(exc)

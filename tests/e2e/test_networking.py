"""Every pod through the gateway's one TLS port, by name: HTTPS to web pods, PostgreSQL with
classic libpq (SSLRequest first, through the STARTTLS router) and with direct TLS, TLS-wrapped
TCP to an echo pod standing in for Neo4j; routes follow pods as they stop, without touching
their neighbours. Real Envoy, real pods, real clients."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from tapipy.tapis import Tapis

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually

pytestmark = [pytest.mark.docker, pytest.mark.stack]
DOMAIN = "pods.localhost"


@pytest.fixture(scope="module")
def t(stack: Stack) -> Tapis:
    client = Tapis(base_url=stack.url, username="testuser", password="testpass")
    client.get_tokens()
    return client


def pods_port(stack: Stack) -> int:
    return int(stack.env["PODS_PODS_PORT"])


def ca_file(stack: Stack) -> Path:
    return stack.data_dir / "gateway" / "tls" / "ca.pem"


def tls_context(stack: Stack, alpn: list[str] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file(stack)))
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


def https_get(stack: Stack, host: str, conn: http.client.HTTPSConnection | None = None) -> str:
    """GET / on `host` through the pods port (SNI and Host = host, certificate verified)."""
    connection = conn or https_connection(stack, host)
    connection.request("GET", "/", headers={"Host": host})
    response = connection.getresponse()
    body = response.read().decode()
    assert response.status == 200, (response.status, body)
    return body


def https_connection(stack: Stack, host: str) -> http.client.HTTPSConnection:
    connection = http.client.HTTPSConnection(
        host, pods_port(stack), context=tls_context(stack), timeout=10
    )
    sock = socket.create_connection(("127.0.0.1", pods_port(stack)), timeout=10)
    connection.sock = tls_context(stack).wrap_socket(sock, server_hostname=host)
    return connection


def handshake_refused(stack: Stack, host: str, alpn: list[str] | None = None) -> bool:
    try:
        with (
            socket.create_connection(("127.0.0.1", pods_port(stack)), timeout=5) as sock,
            tls_context(stack, alpn).wrap_socket(sock, server_hostname=host),
        ):
            return False
    except (ssl.SSLError, ConnectionResetError, OSError):
        return True


def tcp_answer(stack: Stack, host: str, data: bytes, size: int) -> bytes:
    """What the tcp pod named `host` answers to `data` through the pods port (at most `size`
    bytes; b"" when the connection fails). A handshake alone proves nothing: a name not
    routed yet completes it on the wildcard HTTP chain."""
    try:
        with (
            socket.create_connection(("127.0.0.1", pods_port(stack)), timeout=5) as sock,
            tls_context(stack).wrap_socket(sock, server_hostname=host) as tls,
        ):
            tls.sendall(data)
            return tls.recv(size)
    except (ssl.SSLError, OSError):
        return b""


def create_and_wait(stack: Stack, t: Tapis, **kwargs: Any) -> None:
    """Creates a pod, waits until it is AVAILABLE, then checks that its name is routed within
    a second of that (routes follow status changes, they are not part of them)."""
    t.pods.create_pod(**kwargs)
    pod_id = kwargs["pod_id"]
    eventually(lambda: t.pods.get_pod(pod_id=pod_id).status == "AVAILABLE", what=f"{pod_id} up")
    host = f"{pod_id}.{DOMAIN}"
    if kwargs.get("template") == "postgres":
        routed = lambda: not handshake_refused(stack, host, ["postgresql"])  # noqa: E731
    elif "networking" in kwargs:  # the tcp echo pod
        routed = lambda: tcp_answer(stack, host, b"ping\n", 100) == b"ping\n"  # noqa: E731
    else:  # http: the name answers 503 until the pod is routed
        routed = lambda: _status(stack, host) == 200  # noqa: E731
    eventually(routed, 1.0, f"{pod_id} routed")


def test_two_web_pods_answer_by_name_over_https(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    weba, webb = cleanup.pod(unique("weba")), cleanup.pod(unique("webb"))
    for name in (weba, webb):
        create_and_wait(
            stack,
            t,
            pod_id=name,
            image="pods-http:latest",
            environment_variables={"POD_MESSAGE": name},
        )
    url = t.pods.get_pod(pod_id=weba).networking.default.url
    assert url == f"{weba}.{DOMAIN}:{pods_port(stack)}"
    assert weba in https_get(stack, f"{weba}.{DOMAIN}")
    assert webb in https_get(stack, f"{webb}.{DOMAIN}")
    # A name no pod has: the shared HTTP chain's plain 404; PostgreSQL gets no handshake.
    assert _status(stack, f"nosuchpod.{DOMAIN}") == 404
    assert handshake_refused(stack, f"nosuchpod.{DOMAIN}", ["postgresql"])


def test_http2_is_served(t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup) -> None:
    webh2 = cleanup.pod(unique("webh2"))
    create_and_wait(stack, t, pod_id=webh2, image="pods-http:latest")
    with socket.create_connection(("127.0.0.1", pods_port(stack)), timeout=10) as raw:
        tls = tls_context(stack, ["h2", "http/1.1"]).wrap_socket(
            raw, server_hostname=f"{webh2}.{DOMAIN}"
        )
        assert tls.selected_alpn_protocol() == "h2"
        tls.close()


def _pg(stack: Stack, host: str, user: str, password: str, **options: str) -> str:
    with (
        psycopg2.connect(
            host=host,
            hostaddr="127.0.0.1",
            port=pods_port(stack),
            dbname="postgres",
            user=user,
            password=password,
            connect_timeout=10,
            **options,
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("select current_user")
        row = cur.fetchone()
        assert row is not None
        return str(row[0])


def test_postgres_pods_by_name_with_classic_and_direct_tls(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    names = (cleanup.pod(unique("pga")), cleanup.pod(unique("pgb")))
    for name in names:
        create_and_wait(stack, t, pod_id=name, template="postgres")
    for name in names:
        creds = t.pods.get_pod_credentials(pod_id=name)
        host = f"{name}.{DOMAIN}"
        args = (stack, host, creds.user_username, creds.user_password)
        assert _pg(*args) == name  # libpq's defaults: sslmode=prefer, SSLRequest first
        assert _pg(*args, sslmode="require") == name
        assert _pg(*args, sslmode="verify-full", sslrootcert=str(ca_file(stack))) == name
        assert _pg(*args, sslmode="require", sslnegotiation="direct") == name
        assert (
            _pg(
                *args,
                sslmode="verify-full",
                sslrootcert=str(ca_file(stack)),
                sslnegotiation="direct",
            )
            == name
        )


def test_a_tcp_pod_is_reached_through_tls(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    echoa = cleanup.pod(unique("echoa"))
    create_and_wait(
        stack,
        t,
        pod_id=echoa,
        image="pods-echo:latest",
        networking={"default": {"protocol": "tcp", "port": 7687}},
    )
    with (
        socket.create_connection(("127.0.0.1", pods_port(stack)), timeout=10) as raw,
        tls_context(stack).wrap_socket(raw, server_hostname=f"{echoa}.{DOMAIN}") as tls,
    ):
        tls.sendall(b"hello bolt\n")
        assert tls.recv(100) == b"hello bolt\n"


def test_a_stopped_pod_is_unrouted_within_a_second_and_neighbours_keep_working(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    webgone, webstay = cleanup.pod(unique("webgone")), cleanup.pod(unique("webstay"))
    create_and_wait(stack, t, pod_id=webgone, image="pods-http:latest")
    create_and_wait(stack, t, pod_id=webstay, image="pods-http:latest")
    neighbour = https_connection(stack, f"{webstay}.{DOMAIN}")
    https_get(stack, f"{webstay}.{DOMAIN}", neighbour)
    assert _status(stack, f"{webgone}.{DOMAIN}") == 200

    t.pods.stop_pod(pod_id=webgone)
    eventually(lambda: t.pods.get_pod(pod_id=webgone).status != "AVAILABLE", 30, "not AVAILABLE")
    noticed = time.monotonic()
    eventually(
        lambda: _status(stack, f"{webgone}.{DOMAIN}") in (503, 404),
        5,
        "webgone unrouted",
    )
    assert time.monotonic() - noticed < 1.0
    for _ in range(5):
        https_get(stack, f"{webstay}.{DOMAIN}", neighbour)  # same keep-alive connection
    t.pods.delete_pod(pod_id=webgone)
    eventually(lambda: _status(stack, f"{webgone}.{DOMAIN}") == 404, 10, "webgone gone")
    https_get(stack, f"{webstay}.{DOMAIN}", neighbour)
    neighbour.close()


def _status(stack: Stack, host: str) -> int:
    try:
        connection = https_connection(stack, host)
        connection.request("GET", "/", headers={"Host": host})
        return connection.getresponse().status
    except (ssl.SSLError, OSError):
        return 0

"""Real Envoy serving plain HTTP pods through the pods listener's shared chain, whose routes
come by RDS from their own file (gateway/pods_http.py): a pod that comes or goes rewrites the
cluster and route files only, never the listener; unknown names get a plain 404; pods with
access policies keep a chain of their own, which the shared chain does not bypass. The pods
are in-test HTTP servers answering with the headers they received (no Docker). One Envoy for
the module (pods_gateway_support.py).
"""

from __future__ import annotations

import json
import socketserver
import ssl
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from gateway.routes import PodRoute
from services.common.stanza_options import StanzaOptions
from tests.integration.gateway.pods_gateway_support import (
    UPDATE_DEADLINE,
    Envoy,
    echo_roundtrip,
    header_echo_pod,
    host,
    pod_route,
    request,
    running_envoy,
    serving,
)

UNKNOWN_TEXT = "no pod is published under this name\n"


@pytest.fixture(scope="module")
def envoy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Envoy]:
    with running_envoy(tmp_path_factory.mktemp("pods-shared")) as gw:
        yield gw


@pytest.fixture(scope="module")
def pod_port() -> Iterator[int]:
    with header_echo_pod() as port:
        yield port


class _WebSocketEcho(socketserver.BaseRequestHandler):
    """A pod that accepts any WebSocket upgrade, then echoes the bytes it receives."""

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head and (chunk := self.request.recv(4096)):
            head += chunk
        if b"upgrade: websocket" not in head.lower():
            return
        self.request.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"
        )
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture(scope="module")
def websocket_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _WebSocketEcho)
    server.daemon_threads = True
    with serving(server):
        yield server.server_address[1]


def walled(name: str, port: int, allow: str) -> PodRoute:
    """A pod whose ip_allow_list admits `allow` only: it has a chain of its own."""
    return replace(pod_route(name, "http", port), options=StanzaOptions(ip_allow_list=(allow,)))


def seen_host(body: str) -> str:
    """The Host header the pod received."""
    return str({k.lower(): v for k, v in json.loads(body).items()}["host"])


def test_an_added_http_pod_is_served_and_the_listener_file_stays_byte_for_byte(
    envoy: Envoy, pod_port: int
) -> None:
    envoy.publish([pod_route("first", "http", pod_port)])
    lds = (envoy.xds_dir / "lds.json").read_bytes()
    lds_updates = envoy.counter("listener_manager.lds.update_success")
    assert envoy.client.get(host("second")).status == 404

    started = time.monotonic()
    result = envoy.publish(
        [pod_route("first", "http", pod_port), pod_route("second", "http", pod_port)]
    )
    reply = envoy.client.get(host("second"), "/x")
    served_after = time.monotonic() - started

    # Served through the shared direct cluster: neither the listener nor a cluster changes.
    assert result.changed == ("rds.json",)
    assert (envoy.xds_dir / "lds.json").read_bytes() == lds
    assert envoy.counter("listener_manager.lds.update_success") == lds_updates
    assert reply.status == 200
    assert seen_host(reply.body) == f"{host('second')}:{envoy.client.port}"
    print(f"\nplain HTTP pod added: served after {served_after * 1000:.0f} ms")
    assert served_after < UPDATE_DEADLINE

    # It goes away the same way: 404 again, the listener untouched.
    result = envoy.publish([pod_route("first", "http", pod_port)])
    assert "lds.json" not in result.changed
    assert envoy.client.get(host("second")).status == 404


def test_a_pod_not_serving_answers_503_naming_its_status(envoy: Envoy) -> None:
    envoy.publish([pod_route("starting", "http", 0, status="CREATING")])
    reply = envoy.client.get(host("starting"))
    assert (reply.status, reply.body) == (503, "pod 'starting' is CREATING\n")
    assert reply.headers["content-type"] == "text/plain"


def test_an_unknown_name_gets_the_catch_all_404(envoy: Envoy, pod_port: int) -> None:
    envoy.publish([pod_route("known", "http", pod_port)])
    # A name nobody has: the handshake completes (wildcard), the answer says so.
    reply = envoy.client.get(host("nobody"))
    assert (reply.status, reply.body) == (404, UNKNOWN_TEXT)
    assert reply.headers["content-type"] == "text/plain"
    # An unknown Host on a known pod's connection: the same answer.
    reply = envoy.client.get(host("known"), headers={"Host": host("nobody")})
    assert (reply.status, reply.body) == (404, UNKNOWN_TEXT)


def test_plain_pods_share_a_connection_each_request_routed_by_its_host(
    envoy: Envoy, pod_port: int
) -> None:
    envoy.publish([pod_route("one", "http", pod_port), pod_route("two", "http", pod_port)])
    conn = envoy.client.connection(host("one"))
    try:
        first = request(conn)
        other = request(conn, headers={"Host": host("two")})  # HTTP/2-style connection reuse
    finally:
        conn.close()
    assert seen_host(first.body) == f"{host('one')}:{envoy.client.port}"
    assert (other.status, seen_host(other.body)) == (200, host("two"))


def test_a_client_cannot_choose_the_address_a_plain_pod_is_reached_at(
    envoy: Envoy, pod_port: int
) -> None:
    with header_echo_pod() as other_port:
        envoy.publish(
            [pod_route("mine", "http", pod_port), pod_route("theirs", "http", other_port)]
        )
        for forged in (f"127.0.0.1:{other_port}", "127.0.0.1:1", "10.0.0.1:80"):
            reply = envoy.client.get(host("mine"), headers={"x-pods-upstream": forged})
            assert reply.status == 200, forged
            seen = {k.lower(): v for k, v in json.loads(reply.body).items()}
            # The route overwrote the header: the pod (and Envoy's choice) got its own address.
            assert seen["x-pods-upstream"] == f"127.0.0.1:{pod_port}"
        reply = envoy.client.get(host("theirs"))
        seen = {k.lower(): v for k, v in json.loads(reply.body).items()}
        assert seen["x-pods-upstream"] == f"127.0.0.1:{other_port}"


def test_a_pod_with_policies_is_reached_only_through_its_own_chain(
    envoy: Envoy, pod_port: int
) -> None:
    envoy.publish(
        [
            pod_route("open", "http", pod_port),
            walled("guarded", pod_port, "127.0.0.0/8"),
            walled("fenced", pod_port, "10.0.0.0/8"),  # not us
        ]
    )
    assert envoy.client.get(host("guarded")).status == 200
    assert envoy.client.get(host("fenced")).status == 403  # its RBAC, on its chain
    # Asked on the shared chain's connection: 421, so a browser opens a connection for it.
    for name in ("guarded", "fenced"):
        reply = envoy.client.get(host("open"), headers={"Host": host(name)})
        assert (reply.status, reply.body) == (421, f"this connection does not serve {host(name)}\n")
    # Its own connection serves it only.
    reply = envoy.client.get(host("guarded"), headers={"Host": host("open")})
    assert (reply.status, reply.body) == (421, f"this connection serves {host('guarded')} only\n")


def test_names_for_tcp_or_postgres_are_still_refused(envoy: Envoy, pod_port: int) -> None:
    envoy.publish(
        [
            pod_route("web", "http", pod_port),
            pod_route("graphdown", "tcp", 0, status="CREATING"),
            pod_route("dbdown", "postgres", 0, status="CREATING"),
        ]
    )
    assert envoy.client.refused(host("graphdown"))
    assert envoy.client.refused(host("dbdown"))
    assert envoy.client.refused(None)  # no SNI
    assert envoy.client.refused("web.elsewhere.test")  # outside the pods domain
    # Direct-TLS PostgreSQL (ALPN postgresql) to a name nobody has: no handshake either.
    for name in ("nobody", "dbdown"):
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            envoy.client.tls(host(name), ["postgresql"]).close()
    assert not envoy.client.refused(host("web"))


def test_a_websocket_upgrade_passes_through_the_shared_chain(
    envoy: Envoy, websocket_port: int
) -> None:
    envoy.publish([pod_route("socket", "http", websocket_port)])
    name = host("socket")
    with envoy.client.tls(name, ["http/1.1"]) as sock:
        sock.sendall(
            f"GET /ws HTTP/1.1\r\nHost: {name}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, f"closed after {head!r}"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101 "), head
        assert echo_roundtrip(sock, b"frame bytes both ways") == b"frame bytes both ways"

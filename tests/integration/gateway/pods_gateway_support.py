"""Clients, stand-ins and a real Envoy for the pods listener's integration tests
(test_pods_listener.py, test_pods_gateway_files.py): TLS clients that pick the SNI, a fake
STARTTLS router, a pod that echoes its request headers, and Envoy started from a bootstrap
built by gateway/envoy_config.py with routes published through gateway/xds_files.py.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import socket
import socketserver
import ssl
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gateway import envoy_config as ec
from gateway import xds_files
from gateway.certs import TlsFiles, tls_files
from gateway.envoy_binary import (
    base_id_for_port,
    find_envoy,
    run_command,
    validate_config,
)
from gateway.pods_http import HTTP_STATS, ROUTE_CONFIG
from gateway.pods_listener import (
    PodsListenerOptions,
)
from gateway.routes import PodRoute, RouteTable
from tests.ports import reserve_ports as free_ports

REPO = Path(__file__).resolve().parents[3]
DOMAIN = "pods.test"
HTTP_IMAGE = "pods-http:latest"
ECHO_IMAGE = "pods-echo:latest"
POSTGRES_IMAGE = "pods-postgres:15"
TEST_LABELS = {"org.pods-service.test": "1"}
READY_TIMEOUT = 60.0
IO_TIMEOUT = 5.0
UPDATE_DEADLINE = 1.0  # seconds within which a published change must take effect
PG_USER, PG_DB = "pods_test", "pods_test_db"
SSL_REQUEST = bytes.fromhex("0000000804d2162f")  # PostgreSQL's SSLRequest packet


def host(name: str) -> str:
    return f"{name}.{DOMAIN}"


def until(deadline_s: float, attempt: Callable[[], Any], what: str) -> Any:
    """Calls `attempt` until it returns a truthy value; fails after `deadline_s` seconds."""
    deadline = time.monotonic() + deadline_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = attempt()
        except Exception as exc:  # readiness probes fail in many ways until they succeed
            last_error = exc
        else:
            if result:
                return result
        time.sleep(0.01)
    pytest.fail(f"timed out after {deadline_s:.1f} s waiting for {what} (last: {last_error!r})")


def pod_route(
    name: str,
    protocol: str,
    port: int,
    *,
    status: str = "AVAILABLE",
    upstream_host: str = "127.0.0.1",
) -> PodRoute:
    return PodRoute(
        host=host(name),
        protocol=protocol,
        tenant_id="dev",
        pod_id=name,
        stanza="default",
        status=status,
        upstream_host=upstream_host if port else "",
        upstream_port=port,
    )


# --- clients -------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str


class Client:
    """TLS connections to the pods port with a chosen SNI, trusting the development CA."""

    def __init__(self, port: int, ca: Path) -> None:
        self.port = port
        self.ca = ca
        self.context = ssl.create_default_context(cafile=str(ca))

    def tls(self, name: str, alpn: list[str] | None = None) -> ssl.SSLSocket:
        context = self.context
        if alpn:
            context = ssl.create_default_context(cafile=str(self.ca))
            context.set_alpn_protocols(alpn)
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=IO_TIMEOUT)
        try:
            return context.wrap_socket(raw, server_hostname=name)
        except BaseException:
            raw.close()
            raise

    def connection(self, name: str) -> http.client.HTTPSConnection:
        """An HTTP/1.1 keep-alive connection to `name` (Host: name:port) over 127.0.0.1."""
        conn = http.client.HTTPSConnection(
            name, self.port, context=self.context, timeout=IO_TIMEOUT
        )
        conn.sock = self.tls(name, ["http/1.1"])
        return conn

    def get(self, name: str, path: str = "/", headers: dict[str, str] | None = None) -> Reply:
        conn = self.connection(name)
        try:
            return request(conn, path, headers)
        finally:
            conn.close()

    def refused(self, name: str | None) -> bool:
        """True if the TLS handshake for `name` fails (no chain matched)."""
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=IO_TIMEOUT)
        context = self.context if name else ssl._create_unverified_context()
        try:
            with context.wrap_socket(raw, server_hostname=name):
                return False
        except (ssl.SSLError, ConnectionResetError, ConnectionAbortedError):
            return True
        finally:
            raw.close()


def request(
    conn: http.client.HTTPSConnection, path: str = "/", headers: dict[str, str] | None = None
) -> Reply:
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read().decode(errors="replace")
    return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


def echo_roundtrip(sock: ssl.SSLSocket, data: bytes) -> bytes:
    sock.sendall(data)
    received = b""
    while len(received) < len(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


# --- Envoy and the stand-ins ---------------------------------------------------------------------


class FakeRouter(socketserver.ThreadingTCPServer):
    """Stands in for the STARTTLS router: answers 'N' (no TLS) to whatever arrives."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int) -> None:
        self.received: list[bytes] = []
        super().__init__(("127.0.0.1", port), _RouterHandler)


class _RouterHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data = self.request.recv(8)
        assert isinstance(self.server, FakeRouter)
        self.server.received.append(data)
        self.request.sendall(b"N")


class HeaderEcho(http.server.BaseHTTPRequestHandler):
    """A pod that answers with the request headers it received, as JSON."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = json.dumps(dict(self.headers.items())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Envoy:
    process: subprocess.Popen[bytes]
    admin_port: int
    xds_dir: Path
    options: PodsListenerOptions
    log: Path
    client: Client
    router: FakeRouter
    published: list[xds_files.PublishResult] = field(default_factory=list)

    def publish(self, routes: list[PodRoute]) -> xds_files.PublishResult:
        """Publishes `routes` and waits until Envoy reports every file's version."""
        result = xds_files.publish(self.xds_dir, RouteTable.build(routes), self.options)
        assert result.published, result.rejected
        self.published.append(result)
        expected = tuple(result.version.split("."))
        until(
            10,
            lambda: self.versions() == expected,
            f"Envoy to apply version {result.version}",
        )
        return result

    def stats(self, pattern: str) -> dict[str, str]:
        url = f"http://127.0.0.1:{self.admin_port}/stats?filter={pattern}"
        with urllib.request.urlopen(url, timeout=IO_TIMEOUT) as response:
            text = response.read().decode()
        pairs = (line.split(": ", 1) for line in text.splitlines() if ": " in line)
        return {key: value.strip('"') for key, value in pairs}

    def versions(self) -> tuple[str, str, str]:
        """The CDS, RDS (shared HTTP chain) and LDS versions Envoy applied."""
        found = self.stats("version_text")
        return (
            found.get("cluster_manager.cds.version_text", ""),
            found.get(f"http.{HTTP_STATS}.rds.{ROUTE_CONFIG}.version_text", ""),
            found.get("listener_manager.lds.version_text", ""),
        )

    def counter(self, name: str) -> int:
        return int(self.stats(f"^{name}$").get(name, "0"))

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_envoy(directory: Path, tls: TlsFiles) -> tuple[subprocess.Popen[bytes], int, int, int]:
    pods_port, admin_port, router_port = free_ports(3)
    xds_dir = directory / "xds"
    options = listener_options(pods_port, tls, router_port)
    assert xds_files.publish(xds_dir, RouteTable(routes={}), options).published
    config = directory / "envoy.yaml"
    bootstrap = ec.bootstrap(admin_port=admin_port, listeners=[], clusters=[], xds_dir=xds_dir)
    config.write_text(xds_files.render(bootstrap))
    envoy = find_envoy()
    validate_config(envoy, config)
    command = run_command(envoy, config, base_id=base_id_for_port(pods_port), log_level="info")
    with (directory / "envoy.log").open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    return process, pods_port, admin_port, router_port


@contextlib.contextmanager
def running_envoy(directory: Path) -> Iterator[Envoy]:
    """A real Envoy serving the pods listener of DOMAIN (empty snapshot first), with a fake
    STARTTLS router, until the block ends."""
    tls = tls_files(directory / "tls", DOMAIN)
    assert tls.ca is not None
    process, pods_port, admin_port, router_port = start_envoy(directory, tls)
    router = FakeRouter(router_port)
    gw = Envoy(
        process=process,
        admin_port=admin_port,
        xds_dir=directory / "xds",
        options=listener_options(pods_port, tls, router_port),
        log=directory / "envoy.log",
        client=Client(pods_port, tls.ca),
        router=router,
    )
    try:
        with serving(router):

            def ready() -> bool:
                if process.poll() is not None:
                    pytest.fail(f"envoy exited with {process.returncode}:\n{gw.log_text()}")
                url = f"http://127.0.0.1:{admin_port}/ready"
                with urllib.request.urlopen(url, timeout=IO_TIMEOUT) as response:
                    return response.status == 200 and gw.versions()[2] != ""

            until(READY_TIMEOUT, ready, "Envoy to be ready with the pods listener")
            yield gw
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def listener_options(pods_port: int, tls: TlsFiles, router_port: int) -> PodsListenerOptions:
    """The gateway's pods listener: plain HTTP pods of DOMAIN on the shared chain."""
    return PodsListenerOptions(port=pods_port, tls=tls, router_port=router_port, pod_domain=DOMAIN)


@contextlib.contextmanager
def header_echo_pod() -> Iterator[int]:
    """An in-test HTTP 'pod' answering with the headers it received; yields its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HeaderEcho)
    server.daemon_threads = True
    with serving(server):
        yield server.server_address[1]

"""The in-test API, gateways and clients shared by the hardened gateway's integration tests
(test_gateway_hardening.py: TLS and request limits; test_gateway_timeouts_and_logs.py: route
timeouts and access logs).

Each gateway is `python -m gateway` on free ports with its settings in the environment (as in
production), except where a test needs a short route timeout: then the bootstrap is built with
gateway/envoy_config.py and Envoy is run directly. The API is an in-test grpc.aio server whose
calls can be made slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.client import HTTPSConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2

from gateway import xds_files
from gateway.__main__ import prepare
from gateway.envoy_binary import base_id_for_port, find_envoy, run_command
from gateway.envoy_config import GatewayOptions, gateway_bootstrap
from gateway.routes import PodRoute, RouteTable
from services.common.generated.pods.v1 import (
    identity_service_pb2,
    identity_service_pb2_grpc,
    pods_service_pb2,
    pods_service_pb2_grpc,
)
from services.common.settings import Settings
from tests.integration.gateway.test_envoy_gateway import (
    REPO,
    Gateway,
    Reply,
    _stop,
    _wait_ready,
)
from tests.ports import reserve_ports as free_ports

IO_TIMEOUT = 10.0
SECRET_TOKEN = "eyJhbGciOiJSUzI1NiJ9.secret-token-payload.signature"  # a probe, never a real token
SECRET_QUERY = "query-secret-4711"


# --- an API whose calls can be slow, counting calls in flight -------------------------------


class SlowApi(
    identity_service_pb2_grpc.IdentityServiceServicer, pods_service_pb2_grpc.PodsServiceServicer
):
    """ListSites and ExecPodCommands wait `delay` seconds; `peak` is the most calls seen at
    once."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.in_flight = 0
        self.peak = 0
        self.metadata: list[dict[str, Any]] = []

    async def _call(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        self.metadata.append(dict(context.invocation_metadata() or ()))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1

    async def ListSites(
        self,
        request: identity_service_pb2.ListSitesRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> identity_service_pb2.ListSitesResponse:
        await self._call(context)
        return identity_service_pb2.ListSitesResponse(
            status="success", message="sites", metadata=struct_pb2.Struct()
        )

    async def ExecPodCommands(
        self,
        request: pods_service_pb2.ExecPodCommandsRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pods_service_pb2.ExecPodCommandsResponse:
        await self._call(context)
        return pods_service_pb2.ExecPodCommandsResponse(
            status="success", message="ran", metadata=struct_pb2.Struct()
        )


@contextlib.asynccontextmanager
async def serving_slow_api() -> AsyncIterator[tuple[SlowApi, int]]:
    """A SlowApi served on a free port: (servicer, port)."""
    server = grpc.aio.server()
    servicer = SlowApi()
    identity_service_pb2_grpc.add_IdentityServiceServicer_to_server(servicer, server)
    pods_service_pb2_grpc.add_PodsServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield servicer, port
    finally:
        await server.stop(grace=None)


# --- gateways ------------------------------------------------------------------------------------


@dataclass
class Running:
    gateway: Gateway
    data_dir: Path
    env: dict[str, str]

    @property
    def ca(self) -> Path:
        return self.data_dir / "gateway" / "tls" / "ca.pem"

    @property
    def xds_dir(self) -> Path:
        return xds_files.xds_directory(self.data_dir)

    def settings(self) -> Settings:
        return Settings.from_env(self.env)


def _env(
    data_dir: Path, port: int, admin_port: int, api_port: int, extra: dict[str, str]
) -> dict[str, str]:
    return {
        "PODS_DATA_DIR": str(data_dir),
        "PODS_GATEWAY_PORT": str(port),
        "PODS_GATEWAY_ADMIN_PORT": str(admin_port),
        "PODS_API_PORT": str(api_port),
        "PODS_PODS_PORT": str(free_ports(1)[0]),
        **extra,
    }


@contextlib.contextmanager
def gateway(data_dir: Path, api_port: int, **extra: str) -> Iterator[Running]:
    """`python -m gateway` with PODS_* `extra` settings, ready, stopped afterwards."""
    port, admin_port = free_ports(2)
    settings_env = _env(data_dir, port, admin_port, api_port, extra)
    env = {
        **os.environ,
        **settings_env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway"], cwd=REPO, env=env, stdout=out, stderr=out
        )
    running = Running(Gateway(process, port, admin_port, api_port, log), data_dir, settings_env)
    try:
        _wait_ready(running.gateway)
        yield running
    finally:
        _stop(process)


@contextlib.contextmanager
def envoy_with(data_dir: Path, api_port: int, rest_timeout: float) -> Iterator[Gateway]:
    """Envoy from a bootstrap built here with a short `rest_timeout`."""
    port, admin_port = free_ports(2)
    settings = Settings(
        data_dir=data_dir, gateway_port=port, gateway_admin_port=admin_port, api_port=api_port
    )
    prepared = prepare(settings)
    options = GatewayOptions(
        descriptor_path=prepared.descriptor,
        port=port,
        admin_port=admin_port,
        api_port=api_port,
        rest_timeout=rest_timeout,
        xds_dir=prepared.xds_dir,
    )
    prepared.config.write_text(json.dumps(gateway_bootstrap(options)))
    log = data_dir / "envoy.log"
    command = run_command(find_envoy(), prepared.config, base_id=base_id_for_port(port))
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    running = Gateway(process, port, admin_port, api_port, log)
    try:
        _wait_ready(running)
        yield running
    finally:
        _stop(process)


# --- clients -------------------------------------------------------------------------------------


def https(
    gw: Running, path: str, headers: dict[str, str] | None = None, host: str = "localhost"
) -> Reply:
    """A request over TLS, verifying the gateway's certificate with the development CA."""
    context = ssl.create_default_context(cafile=str(gw.ca))
    connection = HTTPSConnection(host, gw.gateway.port, context=context, timeout=IO_TIMEOUT)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.getheader("content-type"), response.read())
    finally:
        connection.close()


def handshake(
    port: int,
    ca: Path,
    server_name: str,
    *,
    version: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
) -> tuple[str, str]:
    """(TLS version, cipher) negotiated with 127.0.0.1:`port`; raises ssl.SSLError if refused.
    `version` pins the client to one TLS version, `ciphers` to an OpenSSL cipher list."""
    context = ssl.create_default_context(cafile=str(ca))
    if version is not None:
        context.minimum_version = context.maximum_version = version
    if ciphers is not None:
        context.set_ciphers(ciphers)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        cipher = tls.cipher()
        assert cipher is not None
        return str(tls.version()), cipher[0]


def raw_exchange(port: int, data: bytes, wait: float = IO_TIMEOUT) -> bytes:
    """Sends `data` on a plain TCP connection and reads until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def closed_within(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing `sock` within `seconds`, or None if still open."""
    sock.settimeout(0.2)
    received = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    return None


def access_log_lines(log: Path, marker: str) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if marker in line]


async def wait_for_log(log: Path, marker: str, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while not (lines := access_log_lines(log, marker)):
        assert time.monotonic() < deadline, f"no log line with {marker!r}:\n{log.read_text()}"
        await asyncio.sleep(0.1)
    return lines


def publish_http_pod(gw: Running, settings: Settings, name: str) -> None:
    """Publishes an http route for `name` to a local server and waits until Envoy serves it."""
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    route = PodRoute(
        host=name,
        protocol="http",
        tenant_id="dev",
        pod_id=name.split(".")[0],
        stanza="default",
        status="AVAILABLE",
        upstream_host="127.0.0.1",
        upstream_port=upstream.server_address[1],
    )
    result = xds_files.publish(
        gw.xds_dir, RouteTable.build([route]), xds_files.local_options(settings)
    )
    assert result.published, result.rejected
    deadline = time.monotonic() + 10
    while True:
        try:
            handshake(settings.pods_port, gw.ca, name)
            return
        except (ssl.SSLError, OSError):
            assert time.monotonic() < deadline, "the pod's TLS chain was never served"
            time.sleep(0.05)

"""Real Envoy, hardened: TLS on the REST/gRPC port (PODS_GATEWAY_TLS), TLS versions and
ciphers on both TLS ports, header and HTTP/2 stream limits, the time to send headers, route
timeouts (gRPC without a deadline; exec outlasting the REST timeout), the global connection
limit, the overload manager, and JSON access logs that hold no token.

Each gateway is `python -m gateway` on free ports with its settings in the environment (as in
production), except where a test needs a short route timeout: then the bootstrap is built with
gateway/envoy_config.py and Envoy is run directly. The API is an in-test grpc.aio server whose
calls can be made slow; HTTP and raw-socket calls run in threads so it keeps serving.
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
import pytest
from google.protobuf import struct_pb2

from gateway import xds_files
from gateway.__main__ import prepare
from gateway.envoy_binary import base_id_for_port, find_envoy, run_command, validate_config
from gateway.envoy_config import GatewayOptions, gateway_bootstrap
from gateway.routes import PodRoute, RouteTable
from services.common.generated.pods.v1 import (
    identity_service_pb2,
    identity_service_pb2_grpc,
    pods_service_pb2,
    pods_service_pb2_grpc,
)
from services.common.settings import Settings

from .test_envoy_gateway import REPO, Gateway, Reply, _stop, _wait_ready, free_ports, http

IO_TIMEOUT = 10.0
SECRET_TOKEN = "eyJhbGciOiJSUzI1NiJ9.secret-token-payload.signature"  # a probe, never a real token
SECRET_QUERY = "query-secret-4711"


# --- an API whose calls can be slow, counting calls in flight -------------------------------


class SlowApi(
    identity_service_pb2_grpc.IdentityServiceServicer, pods_service_pb2_grpc.PodsServiceServicer
):
    """ListSites and ExecPod wait `delay` seconds; `peak` is the most calls seen at once."""

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

    async def ExecPod(
        self,
        request: pods_service_pb2.ExecPodRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pods_service_pb2.ExecPodResponse:
        await self._call(context)
        return pods_service_pb2.ExecPodResponse(
            status="success", message="ran", metadata=struct_pb2.Struct()
        )


@pytest.fixture
async def api() -> AsyncIterator[tuple[SlowApi, int]]:
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


# --- TLS on the REST/gRPC port -------------------------------------------------------------------


@pytest.mark.parametrize("tls_on", [False, True])
def test_both_modes_pass_envoy_validate(tmp_path: Path, tls_on: bool) -> None:
    settings = Settings.from_env(
        {"PODS_DATA_DIR": str(tmp_path), "PODS_GATEWAY_TLS": "1" if tls_on else "0"}
    )
    prepared = prepare(settings)
    validate_config(find_envoy(), prepared.config)
    (listener,) = json.loads(prepared.config.read_text())["static_resources"]["listeners"]
    assert len(listener["filter_chains"]) == (2 if tls_on else 1)


async def test_tls_gateway_serves_rest_and_grpc_verified_by_the_development_ca(
    tmp_path: Path, api: tuple[SlowApi, int]
) -> None:
    _, api_port = api
    with gateway(tmp_path, api_port, PODS_GATEWAY_TLS="1") as gw:
        reply = await asyncio.to_thread(https, gw, "/v3/sites")
        assert reply.status == 200
        assert reply.json()["message"] == "sites"
        # Native gRPC over TLS (h2 by ALPN) on the same port.
        credentials = grpc.ssl_channel_credentials(root_certificates=gw.ca.read_bytes())
        async with grpc.aio.secure_channel(f"localhost:{gw.gateway.port}", credentials) as ch:
            stub = identity_service_pb2_grpc.IdentityServiceStub(ch)
            answer = await stub.ListSites(identity_service_pb2.ListSitesRequest(), timeout=10)
        assert answer.message == "sites"
        version, _ = await asyncio.to_thread(handshake, gw.gateway.port, gw.ca, "localhost")
        assert version in ("TLSv1.2", "TLSv1.3")


async def test_tls_gateway_refuses_plain_http_naming_the_https_url(
    tmp_path: Path, api: tuple[SlowApi, int]
) -> None:
    servicer, api_port = api
    with gateway(tmp_path, api_port, PODS_GATEWAY_TLS="1") as gw:
        reply = await asyncio.to_thread(http, "GET", f"{gw.gateway.url}/v3/sites")
        assert reply.status == 400
        assert reply.content_type == "application/json"
        message = reply.json()["message"]
        assert message == f"This port speaks HTTPS only: use https://localhost:{gw.gateway.port}"
        assert servicer.metadata == []  # never forwarded


@pytest.mark.parametrize("port_name", ["rest", "pods"])
async def test_tls_below_1_2_and_weak_ciphers_are_refused(
    tmp_path: Path, api: tuple[SlowApi, int], port_name: str
) -> None:
    _, api_port = api
    with gateway(tmp_path, api_port, PODS_GATEWAY_TLS="1") as gw:
        if port_name == "rest":
            port, name = gw.gateway.port, "localhost"
        else:
            settings = gw.settings()
            port, name = settings.pods_port, f"web.{settings.pod_domain}"
            await asyncio.to_thread(_publish_http_pod, gw, settings, name)
        # TLS 1.2 with a forward-secret AEAD cipher works ...
        version, cipher = await asyncio.to_thread(
            handshake, port, gw.ca, name, version=ssl.TLSVersion.TLSv1_2
        )
        assert (version, cipher) == ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256")
        # ... TLS 1.1 and 1.0 do not, even with every cipher allowed on the client ...
        for old in (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1):
            with pytest.raises(ssl.SSLError, match=r"(?i)protocol.version|unsupported.protocol"):
                await asyncio.to_thread(
                    handshake, port, gw.ca, name, version=old, ciphers="ALL:@SECLEVEL=0"
                )
        # ... nor TLS 1.2 with CBC or non-ECDHE ciphers.
        for weak in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "AES128-GCM-SHA256"):
            with pytest.raises(ssl.SSLError, match=r"(?i)handshake.failure|no.cipher"):
                await asyncio.to_thread(
                    handshake,
                    port,
                    gw.ca,
                    name,
                    version=ssl.TLSVersion.TLSv1_2,
                    ciphers=f"{weak}:@SECLEVEL=0",
                )


def _publish_http_pod(gw: Running, settings: Settings, name: str) -> None:
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


# --- request limits ------------------------------------------------------------------------------


async def test_oversized_headers_too_many_headers_and_underscores_are_refused(
    tmp_path: Path, api: tuple[SlowApi, int]
) -> None:
    servicer, api_port = api
    with gateway(tmp_path, api_port) as gw:
        url = f"{gw.gateway.url}/v3/sites"
        assert (
            await asyncio.to_thread(http, "GET", url, None, {"X-Big": "a" * 8000})
        ).status == 200
        big = await asyncio.to_thread(http, "GET", url, None, {"X-Big": "a" * 40 * 1024})
        assert big.status == 431
        many = {f"X-H{i}": "v" for i in range(80)}
        assert (await asyncio.to_thread(http, "GET", url, None, many)).status == 431
        underscore = await asyncio.to_thread(http, "GET", url, None, {"X_Tapis_Token": "t"})
        assert underscore.status == 400
        assert len(servicer.metadata) == 1  # only the first request reached the API


async def test_headers_must_arrive_within_the_request_headers_timeout(
    tmp_path: Path, api: tuple[SlowApi, int]
) -> None:
    _, api_port = api
    with gateway(tmp_path, api_port) as gw:

        def slowloris() -> tuple[bytes | None, float]:
            with socket.create_connection(("127.0.0.1", gw.gateway.port), timeout=5) as sock:
                started = time.monotonic()
                sock.sendall(b"GET /v3/sites HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                return closed_within(sock, 20.0), time.monotonic() - started

        received, waited = await asyncio.to_thread(slowloris)
        assert received is not None, "the connection was still open after 20 s"
        assert received.startswith(b"HTTP/1.1 408"), received
        assert 9.0 <= waited < 15.0


async def test_http2_connections_carry_at_most_100_streams_at_once(
    tmp_path: Path, api: tuple[SlowApi, int]
) -> None:
    servicer, api_port = api
    servicer.delay = 2.0  # long enough for 100 calls to be in flight together, even under load
    with gateway(tmp_path, api_port) as gw:
        async with grpc.aio.insecure_channel(gw.gateway.target) as channel:
            stub = identity_service_pb2_grpc.IdentityServiceStub(channel)
            calls = [
                stub.ListSites(identity_service_pb2.ListSitesRequest(), timeout=30)
                for _ in range(130)
            ]
            replies = await asyncio.gather(*calls)
        assert all(reply.message == "sites" for reply in replies)  # queued, not failed
        assert 50 <= servicer.peak <= 100  # never more than 100 streams at once


async def test_connections_beyond_the_global_limit_are_closed(
    tmp_path: Path, api: tuple[SlowApi, int]
) -> None:
    _, api_port = api
    with gateway(tmp_path, api_port, PODS_GATEWAY_MAX_CONNECTIONS="5") as gw:

        def open_connections() -> list[bytes | int | None]:
            with contextlib.ExitStack() as stack:
                held = []
                for _ in range(5):
                    sock = stack.enter_context(
                        socket.create_connection(("127.0.0.1", gw.gateway.port), timeout=5)
                    )
                    held.append(closed_within(sock, 0.3))
                extra = stack.enter_context(
                    socket.create_connection(("127.0.0.1", gw.gateway.port), timeout=5)
                )
                outcome = closed_within(extra, 5.0)
                # The admin interface does not count: readiness probes still get through.
                ready = http("GET", f"http://127.0.0.1:{gw.gateway.admin_port}/ready")
                return [*held, outcome, ready.status]

        outcomes = await asyncio.to_thread(open_connections)
        assert outcomes[:5] == [None] * 5  # held open
        assert outcomes[5] == b""  # closed at once, nothing sent
        assert outcomes[6] == 200
        # Once they are closed, new connections are served again.
        reply = await asyncio.to_thread(http, "GET", f"{gw.gateway.url}/v3/sites")
        assert reply.status == 200


async def test_overload_manager_watches_heap_and_connections(
    tmp_path: Path, api: tuple[SlowApi, int]
) -> None:
    _, api_port = api
    with gateway(tmp_path, api_port, PODS_GATEWAY_MAX_HEAP_MB="512") as gw:
        stats = await asyncio.to_thread(
            http, "GET", f"http://127.0.0.1:{gw.gateway.admin_port}/stats?filter=overload"
        )
        text = stats.body.decode()
        for stat in (
            "overload.envoy.resource_monitors.fixed_heap.pressure",
            "overload.envoy.overload_actions.stop_accepting_requests.active",
            "overload.envoy.overload_actions.shrink_heap.active",
        ):
            assert stat in text, text


# --- route timeouts ------------------------------------------------------------------------------


async def test_native_grpc_without_deadline_gets_the_route_timeout(
    tmp_path: Path, api: tuple[SlowApi, int]
) -> None:
    servicer, api_port = api
    servicer.delay = 3.0
    with envoy_with(tmp_path, api_port, rest_timeout=1.0) as gw:
        async with grpc.aio.insecure_channel(gw.target) as channel:
            stub = identity_service_pb2_grpc.IdentityServiceStub(channel)
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await stub.ListSites(identity_service_pb2.ListSitesRequest())
            assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert time.monotonic() - started < 2.9  # the API answers after 3 s
            # A client deadline longer than the route timeout is honoured.
            answer = await stub.ListSites(identity_service_pb2.ListSitesRequest(), timeout=10)
            assert answer.message == "sites"


async def test_exec_outlasts_the_rest_timeout_but_other_calls_do_not(
    tmp_path: Path, api: tuple[SlowApi, int]
) -> None:
    servicer, api_port = api
    servicer.delay = 2.0
    with envoy_with(tmp_path, api_port, rest_timeout=1.0) as gw:
        body = json.dumps({"commands": ["sleep 2"]}).encode()
        headers = {"Content-Type": "application/json"}
        ran = await asyncio.to_thread(http, "POST", f"{gw.url}/v3/pods/p1/exec", body, headers)
        assert ran.status == 200, ran.body
        assert ran.json()["message"] == "ran"
        slow = await asyncio.to_thread(http, "GET", f"{gw.url}/v3/sites")
        assert slow.status == 504
        assert slow.json()["code"] == 4  # DEADLINE_EXCEEDED
        async with grpc.aio.insecure_channel(gw.target) as channel:
            stub = pods_service_pb2_grpc.PodsServiceStub(channel)
            answer = await stub.ExecPod(pods_service_pb2.ExecPodRequest(pod_id="p1"))
        assert answer.message == "ran"


# --- access log ----------------------------------------------------------------------------------


async def test_access_log_is_json_and_holds_no_token_nor_query_string(
    tmp_path: Path, api: tuple[SlowApi, int]
) -> None:
    servicer, api_port = api
    with gateway(tmp_path, api_port, PODS_GATEWAY_TLS="1") as gw:
        headers = {
            "X-Tapis-Token": SECRET_TOKEN,
            "Authorization": f"Bearer {SECRET_TOKEN}",
            "User-Agent": "hardening-probe",
        }
        path = f"/v3/sites?token={SECRET_QUERY}"
        reply = await asyncio.to_thread(https, gw, path, headers)
        assert reply.status == 400  # unknown query parameter, rejected by the transcoder
        await asyncio.to_thread(https, gw, "/v3/sites", headers)
        assert servicer.metadata[-1]["x-tapis-token"] == SECRET_TOKEN  # the API got it
        lines = await wait_for_log(gw.gateway.log, "hardening-probe")
        deadline = time.monotonic() + 10
        while len(lines) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            lines = access_log_lines(gw.gateway.log, "hardening-probe")
        assert len(lines) == 2, lines
        records = [json.loads(line) for line in lines]
        assert {r["status"] for r in records} == {200, 400}
        assert {r["path"] for r in records} == {"/v3/sites"}
        assert all(r["method"] == "GET" and r["tls"] for r in records)
        log = gw.gateway.log_text()
        assert "secret-token-payload" not in log
        assert SECRET_QUERY not in log


async def test_pods_port_access_log_holds_no_query_string(
    tmp_path: Path, api: tuple[SlowApi, int]
) -> None:
    # A notebook in a pod is opened as /lab?token=...: that token must not reach the log.
    _, api_port = api
    with gateway(tmp_path, api_port) as gw:
        settings = gw.settings()
        name = f"web.{settings.pod_domain}"
        await asyncio.to_thread(_publish_http_pod, gw, settings, name)

        def get() -> bytes:
            context = ssl.create_default_context(cafile=str(gw.ca))
            with (
                socket.create_connection(("127.0.0.1", settings.pods_port), timeout=5) as raw,
                context.wrap_socket(raw, server_hostname=name) as tls,
            ):
                tls.sendall(
                    f"GET /lab?token={SECRET_QUERY} HTTP/1.1\r\nHost: {name}\r\n"
                    "User-Agent: pods-probe\r\nConnection: close\r\n\r\n".encode()
                )
                return tls.recv(65536)

        answer = await asyncio.to_thread(get)
        assert answer.startswith(b"HTTP/1.1 501"), answer  # the stand-in pod has no GET
        (line,) = await wait_for_log(gw.gateway.log, "pods-probe")
        record = json.loads(line)
        assert (record["path"], record["authority"], record["status"]) == ("/lab", name, 501)
        assert SECRET_QUERY not in gw.gateway.log_text()

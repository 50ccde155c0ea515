"""Real Envoy, hardened: TLS on the REST/gRPC port (PODS_GATEWAY_TLS), TLS versions and
ciphers on both TLS ports, header and HTTP/2 stream limits, the time to send headers, the
global connection limit and the overload manager. Route timeouts and access logs:
test_gateway_timeouts_and_logs.py.

Gateways, the in-test API and the clients are in hardening_support.py; HTTP and raw-socket
calls run in threads so the in-test API keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from gateway.__main__ import prepare
from gateway.envoy_binary import find_envoy, validate_config
from services.common.generated.pods.v1 import (
    identity_service_pb2,
    identity_service_pb2_grpc,
)
from services.common.settings import Settings
from tests.integration.gateway.hardening_support import (
    SlowApi,
    closed_within,
    gateway,
    handshake,
    https,
    publish_http_pod,
    serving_slow_api,
)

from .test_envoy_gateway import http


@pytest.fixture
async def api() -> AsyncIterator[tuple[SlowApi, int]]:
    async with serving_slow_api() as served:
        yield served


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
            await asyncio.to_thread(publish_http_pod, gw, settings, name)
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

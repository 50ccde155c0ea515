"""Real Envoy, hardened: route timeouts (gRPC without a deadline; exec outlasting the REST
timeout) and JSON access logs that hold no token nor query string.

Gateways, the in-test API and the clients are in hardening_support.py; HTTP and raw-socket
calls run in threads so the in-test API keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from services.common.generated.pods.v1 import (
    identity_service_pb2,
    identity_service_pb2_grpc,
    pods_service_pb2,
    pods_service_pb2_grpc,
)
from tests.integration.gateway.hardening_support import (
    SECRET_QUERY,
    SECRET_TOKEN,
    SlowApi,
    access_log_lines,
    envoy_with,
    gateway,
    https,
    publish_http_pod,
    serving_slow_api,
    wait_for_log,
)

from .test_envoy_gateway import http


@pytest.fixture
async def api() -> AsyncIterator[tuple[SlowApi, int]]:
    async with serving_slow_api() as served:
        yield served


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
        body = json.dumps({"commands": ["sleep", "2"]}).encode()
        headers = {"Content-Type": "application/json"}
        ran = await asyncio.to_thread(http, "POST", f"{gw.url}/v3/pods/p1/exec", body, headers)
        assert ran.status == 200, ran.body
        assert ran.json()["message"] == "ran"
        slow = await asyncio.to_thread(http, "GET", f"{gw.url}/v3/sites")
        assert slow.status == 504
        assert slow.json()["code"] == 4  # DEADLINE_EXCEEDED
        async with grpc.aio.insecure_channel(gw.target) as channel:
            stub = pods_service_pb2_grpc.PodsServiceStub(channel)
            answer = await stub.ExecPodCommands(
                pods_service_pb2.ExecPodCommandsRequest(pod_id="p1")
            )
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
        await asyncio.to_thread(publish_http_pod, gw, settings, name)

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

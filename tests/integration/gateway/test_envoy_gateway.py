"""Real Envoy in front of an in-test IdentityService: transcoding, errors, routing, gRPC.

`python -m gateway` is started as a subprocess (it execs Envoy, so terminating it stops
Envoy); the fake API is a grpc.aio server on the port the gateway's `api` cluster targets.
HTTP calls run in threads so the event loop keeps serving the fake API meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2

from gateway import __main__ as gateway_main
from gateway.__main__ import prepare
from gateway.envoy_binary import EnvoyConfigError, find_envoy, validate_config
from gateway.public_api import PUBLIC_SERVICES
from services.common.generated.pods.v1 import (
    envelope_pb2,
    identity_service_pb2,
    identity_service_pb2_grpc,
    spawner_service_pb2,
    spawner_service_pb2_grpc,
)
from services.common.settings import Settings
from tests.ports import reserve_ports as free_ports

REPO = Path(__file__).resolve().parents[3]
READY_TIMEOUT = 30.0
HTTP_TIMEOUT = 10.0
GRPC_TIMEOUT = 10.0
LARGE = 3 * 1024 * 1024  # above Envoy's default 1 MiB transcoding buffer
GOOD_GRANT = {"username": "u", "password": "p", "grant_type": "password"}


# --- helpers -------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    content_type: str | None
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Reply:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _opener.open(request, timeout=HTTP_TIMEOUT) as response:
            return Reply(response.status, response.headers.get("content-type"), response.read())
    except urllib.error.HTTPError as error:
        try:
            return Reply(error.code, error.headers.get("content-type"), error.read())
        finally:
            error.close()


async def ahttp(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Reply:
    return await asyncio.to_thread(http, method, url, body, headers)


def post_json(url: str, payload: object) -> tuple[str, str, bytes, dict[str, str]]:
    return ("POST", url, json.dumps(payload).encode(), {"Content-Type": "application/json"})


@dataclass
class Gateway:
    process: subprocess.Popen[bytes]
    port: int
    admin_port: int
    api_port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _wait_ready(gw: Gateway) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if gw.process.poll() is not None:
            pytest.fail(f"gateway exited with {gw.process.returncode}:\n{gw.log_text()}")
        try:
            if http("GET", f"http://127.0.0.1:{gw.admin_port}/ready").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    pytest.fail(f"gateway not ready after {READY_TIMEOUT}s:\n{gw.log_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def running_gateway(data_dir: Path, api_port: int) -> Iterator[Gateway]:
    """`python -m gateway` on fresh ports, ready, and always stopped afterwards."""
    port, admin_port = free_ports(2)
    env = {
        **os.environ,
        "PODS_DATA_DIR": str(data_dir),
        "PODS_GATEWAY_PORT": str(port),
        "PODS_GATEWAY_ADMIN_PORT": str(admin_port),
        "PODS_API_PORT": str(api_port),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    gw = Gateway(process, port, admin_port, api_port, log)
    try:
        _wait_ready(gw)
        yield gw
    finally:
        _stop(process)


class FakeIdentity(identity_service_pb2_grpc.IdentityServiceServicer):
    """ListSites returns one site; CreateToken checks the grant and echoes x-tapis-token."""

    def __init__(self) -> None:
        self.metadata: list[dict[str, str | bytes]] = []

    def _record(self, context: grpc.aio.ServicerContext[Any, Any]) -> dict[str, str | bytes]:
        received = dict(context.invocation_metadata() or ())
        self.metadata.append(received)
        return received

    async def ListSites(
        self,
        request: identity_service_pb2.ListSitesRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> identity_service_pb2.ListSitesResponse:
        self._record(context)
        return identity_service_pb2.ListSitesResponse(
            result=[
                envelope_pb2.Site(site_id="local", base_url="http://localhost:8080", primary=True)
            ],
            status="success",
            message="Sites retrieved.",
            version="test",
            metadata=struct_pb2.Struct(),
        )

    async def ListTenants(
        self,
        request: identity_service_pb2.ListTenantsRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> identity_service_pb2.ListTenantsResponse:
        self._record(context)
        tenant = envelope_pb2.Tenant(tenant_id="dev", public_key="k" * LARGE)
        return identity_service_pb2.ListTenantsResponse(
            result=[tenant], status="success", metadata=struct_pb2.Struct()
        )

    async def CreateToken(
        self,
        request: identity_service_pb2.CreateTokenRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> identity_service_pb2.CreateTokenResponse:
        received = self._record(context)
        if request.grant_type != "password":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "grant_type must be 'password'")
        token = identity_service_pb2.AccessToken(access_token="a.b.c", expires_in=3600)
        return identity_service_pb2.CreateTokenResponse(
            result=identity_service_pb2.TokenResult(access_token=token),
            status="success",
            message=str(received.get("x-tapis-token", "")),
            version="test",
            metadata=struct_pb2.Struct(),
        )


@dataclass
class Api:
    servicer: FakeIdentity
    port: int
    server: grpc.aio.Server = field(repr=False)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_port() -> int:
    (port,) = free_ports(1)
    return port


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, api_port: int) -> Iterator[Gateway]:
    """One Envoy for the module; each test brings its own API server on `api_port`."""
    with running_gateway(tmp_path_factory.mktemp("gateway"), api_port) as gw:
        yield gw


@pytest.fixture
async def api(api_port: int) -> AsyncIterator[Api]:
    server = grpc.aio.server()
    servicer = FakeIdentity()
    identity_service_pb2_grpc.add_IdentityServiceServicer_to_server(servicer, server)
    bound = server.add_insecure_port(f"127.0.0.1:{api_port}")
    assert bound == api_port
    await server.start()
    try:
        yield Api(servicer, api_port, server)
    finally:
        await server.stop(grace=None)


# --- configuration -------------------------------------------------------------------------


def test_rendered_config_passes_envoy_validate(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, gateway_port=18080, gateway_admin_port=19901)
    prepared = prepare(settings)
    validate_config(find_envoy(), prepared.config)


def test_validate_reports_envoys_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(json.dumps({"static_resources": {"listeners": [{"name": "x", "bogus": 1}]}}))
    with pytest.raises(EnvoyConfigError, match="bogus"):
        validate_config(find_envoy(), bad)


def test_main_validate_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PODS_DATA_DIR", str(tmp_path))
    assert gateway_main.main(["--validate-only"]) == 0
    assert (tmp_path / "gateway" / "envoy.yaml").is_file()
    assert (tmp_path / "gateway" / "pods.pb").is_file()
    assert "is valid" in capsys.readouterr().out


def test_main_exits_nonzero_with_envoys_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PODS_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(gateway_main, "gateway_bootstrap", lambda options: {"bogus_field": 1})
    assert gateway_main.main([]) == 2
    err = capsys.readouterr().err
    assert "invalid Envoy configuration" in err
    assert "bogus_field" in err


# --- REST through Envoy --------------------------------------------------------------------


async def test_list_sites_is_transcoded_to_json(gateway: Gateway, api: Api) -> None:
    reply = await ahttp("GET", f"{gateway.url}/v3/sites")
    assert reply.status == 200
    assert reply.content_type == "application/json"
    body = reply.json()
    assert body == {
        "result": [{"site_id": "local", "base_url": "http://localhost:8080", "primary": True}],
        "status": "success",
        "message": "Sites retrieved.",
        "version": "test",
        "metadata": {},
    }


async def test_zero_values_are_printed(gateway: Gateway, api: Api) -> None:
    reply = await ahttp(*post_json(f"{gateway.url}/v3/oauth2/tokens", GOOD_GRANT))
    assert reply.status == 200
    assert reply.content_type == "application/json"
    token = reply.json()["result"]["access_token"]
    # int32 stays a JSON number; unset strings are printed empty.
    assert token == {"access_token": "a.b.c", "expires_in": 3600, "expires_at": "", "jti": ""}


async def test_grpc_error_becomes_400_with_the_servers_message(gateway: Gateway, api: Api) -> None:
    grant = {**GOOD_GRANT, "grant_type": "client_credentials"}
    reply = await ahttp(*post_json(f"{gateway.url}/v3/oauth2/tokens", grant))
    assert reply.status == 400
    assert reply.content_type == "application/json"
    assert reply.json() == {"code": 3, "message": "grant_type must be 'password'", "details": []}


async def test_tapis_token_header_reaches_the_server_as_metadata(
    gateway: Gateway, api: Api
) -> None:
    method, url, body, headers = post_json(f"{gateway.url}/v3/oauth2/tokens", GOOD_GRANT)
    reply = await ahttp(method, url, body, {**headers, "X-Tapis-Token": "tok-123"})
    assert reply.status == 200
    assert reply.json()["message"] == "tok-123"
    assert api.servicer.metadata[-1]["x-tapis-token"] == "tok-123"


async def test_malformed_json_is_400_json(gateway: Gateway, api: Api) -> None:
    reply = await ahttp(
        "POST",
        f"{gateway.url}/v3/oauth2/tokens",
        b'{"username": ',
        {"Content-Type": "application/json"},
    )
    assert reply.status == 400
    assert reply.content_type == "application/json"
    body = reply.json()
    assert body["code"] == 3
    assert body["message"].startswith("Invalid request body: Unexpected end of string")
    assert api.servicer.metadata == []  # never reached the server


async def test_wrong_field_type_is_400_naming_the_field(gateway: Gateway, api: Api) -> None:
    reply = await ahttp(*post_json(f"{gateway.url}/v3/oauth2/tokens", {"username": 5}))
    assert reply.status == 400
    assert reply.content_type == "application/json"
    assert reply.json()["message"] == (
        "Invalid request body: username: invalid value 5 for type TYPE_STRING"
    )


async def test_unknown_body_field_is_dropped_silently(gateway: Gateway, api: Api) -> None:
    # Envoy's transcoder has no option to reject unknown JSON fields: documented behaviour.
    reply = await ahttp(
        *post_json(f"{gateway.url}/v3/oauth2/tokens", {**GOOD_GRANT, "pod_template": "x"})
    )
    assert reply.status == 200


async def test_unknown_query_parameter_is_400_naming_it(gateway: Gateway, api: Api) -> None:
    reply = await ahttp("GET", f"{gateway.url}/v3/sites?colour=red")
    assert reply.status == 400
    assert reply.content_type == "application/json"
    assert 'Could not find field "colour"' in reply.json()["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/pods.v1.SpawnerService/ReconcilePod"),
        ("POST", "/pods.v1.HealthService/Resync"),
        ("GET", "/v3/no-such-thing"),
        ("DELETE", "/v3/sites"),
        ("GET", "/v3/../pods.v1.SpawnerService/ReconcilePod"),
        ("GET", "/"),
    ],
)
async def test_unknown_and_internal_paths_are_404_json(
    gateway: Gateway, api: Api, method: str, path: str
) -> None:
    reply = await ahttp(method, f"{gateway.url}{path}")
    assert reply.status == 404
    assert reply.content_type == "application/json"
    body = reply.json()
    assert body["code"] == 5
    assert body["message"].startswith("Could not resolve ")
    assert api.servicer.metadata == []


async def test_api_down_is_503_json(gateway: Gateway) -> None:
    # No `api` fixture: nothing listens on the API port.
    reply = await ahttp("GET", f"{gateway.url}/v3/sites")
    assert reply.status == 503
    assert reply.content_type == "application/json"
    body = reply.json()
    assert body["code"] == 14
    assert "upstream connect error" in body["message"]


async def test_access_log_goes_to_stdout(gateway: Gateway, api: Api) -> None:
    await ahttp("GET", f"{gateway.url}/v3/sites?x=1", headers={"User-Agent": "access-log-probe"})
    deadline = time.monotonic() + 10
    while "access-log-probe" not in gateway.log_text():
        assert time.monotonic() < deadline, gateway.log_text()
        await asyncio.sleep(0.1)
    line = next(x for x in gateway.log_text().splitlines() if "access-log-probe" in x)
    record = json.loads(line)
    # The path the client sent, without its query string (it may carry secrets).
    assert (record["method"], record["path"], record["status"]) == ("GET", "/v3/sites", 400)
    assert record["route"] == "rest"


async def test_large_response_is_transcoded(gateway: Gateway, api: Api) -> None:
    reply = await ahttp("GET", f"{gateway.url}/v3/tenants")
    assert reply.status == 200
    assert len(reply.json()["result"][0]["public_key"]) == LARGE


# --- native gRPC through Envoy -------------------------------------------------------------


async def test_native_grpc_call_through_envoy(gateway: Gateway, api: Api) -> None:
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = identity_service_pb2_grpc.IdentityServiceStub(channel)
        reply = await stub.ListSites(
            identity_service_pb2.ListSitesRequest(),
            metadata=[("x-tapis-token", "grpc-tok")],
            timeout=GRPC_TIMEOUT,
        )
        assert [s.site_id for s in reply.result] == ["local"]
        assert api.servicer.metadata[-1]["x-tapis-token"] == "grpc-tok"
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.CreateToken(
                identity_service_pb2.CreateTokenRequest(grant_type="x"), timeout=GRPC_TIMEOUT
            )
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert raised.value.details() == "grant_type must be 'password'"


async def test_internal_grpc_service_is_not_reachable(gateway: Gateway, api: Api) -> None:
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = spawner_service_pb2_grpc.SpawnerServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.ReconcilePod(spawner_service_pb2.ReconcilePodRequest(), timeout=GRPC_TIMEOUT)
    # Envoy's 404 for a gRPC request is UNIMPLEMENTED, with a plain gRPC message (not JSON).
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert raised.value.details() == (
        "No such service here; public services: " + ", ".join(PUBLIC_SERVICES)
    )


# --- side by side --------------------------------------------------------------------------


async def test_two_gateways_run_side_by_side(tmp_path: Path, api: Api) -> None:
    with (
        running_gateway(tmp_path / "one", api.port) as one,
        running_gateway(tmp_path / "two", api.port) as two,
    ):
        for gw in (one, two):
            reply = await ahttp("GET", f"{gw.url}/v3/sites")
            assert reply.status == 200
        assert one.process.poll() is None
        assert two.process.poll() is None


def test_sigterm_and_sigint_stop_envoy(tmp_path: Path, api_port: int) -> None:
    for number, sig in enumerate((signal.SIGTERM, signal.SIGINT)):
        with running_gateway(tmp_path / str(number), api_port) as gw:
            gw.process.send_signal(sig)
            assert gw.process.wait(timeout=10) == 0

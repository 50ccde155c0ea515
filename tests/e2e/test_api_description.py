"""The API describes itself, through the real gateway of a stack of its own (with
PODS_CORS_ORIGINS set): the OpenAPI description at /v3/pods/openapi.json is the committed one,
/docs/ renders it with Redoc, gRPC server reflection answers through the REST/gRPC port (what
`grpcurl -plaintext localhost:8080 list` asks; grpcurl itself is not installable here), CORS
preflight and actual requests get the CORS headers for the allowed origin only, and the API
answers what schemathesis generates from the description without a 5xx, as the description
says (tests/e2e/schemathesis_run.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from gateway.public_api import PUBLIC_SERVICES
from tests.e2e.harness import Stack, start_stack, stop_stack
from tests.e2e.schemathesis_run import run_schemathesis

pytestmark = [pytest.mark.docker, pytest.mark.stack]

COMMITTED = Path(__file__).resolve().parents[2] / "protos" / "openapi" / "pods-v1.json"
ALLOWED = "https://console.example.org"
OTHER = "https://elsewhere.example.org"


@pytest.fixture(scope="module")
def docs_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("docs-stack"), extra_env={"PODS_CORS_ORIGINS": ALLOWED}
    )
    try:
        yield running
    finally:
        stop_stack(running)


def _get(
    stack: Stack, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(stack.url + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def test_the_description_is_served(docs_stack: Stack) -> None:
    status, headers, body = _get(docs_stack, "/v3/pods/openapi.json")
    assert status == 200
    assert _lower(headers)["content-type"] == "application/json"
    assert json.loads(body) == json.loads(COMMITTED.read_text())
    # Not taken for GetPod of a pod named "openapi.json", nor for another method.
    assert _get(docs_stack, "/v3/pods/openapi.json", method="DELETE")[0] in (401, 404)


def test_docs_render_with_redoc_from_the_gateway(docs_stack: Stack) -> None:
    status, headers, body = _get(docs_stack, "/docs/")
    assert status == 200
    assert _lower(headers)["content-type"].startswith("text/html")
    assert b'<redoc spec-url="/v3/pods/openapi.json">' in body
    status, headers, bundle = _get(docs_stack, "/docs/redoc.standalone.js")
    assert status == 200
    assert _lower(headers)["content-type"].startswith("text/javascript")
    assert len(bundle) > 100_000
    # /docs redirects there (urllib follows it).
    status, headers, body = _get(docs_stack, "/docs")
    assert status == 200
    assert b"<redoc " in body


def test_server_reflection_through_the_gateway(docs_stack: Stack) -> None:
    port = docs_stack.env["PODS_GATEWAY_PORT"]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        # v1alpha, through grpcio-reflection's client (what grpcurl falls back to) ...
        database = ProtoReflectionDescriptorDatabase(channel)
        services = set(database.get_services())
        assert set(PUBLIC_SERVICES) <= services
        assert not {"pods.v1.SpawnerService", "pods.v1.HealthService"} & services
        pool = descriptor_pool.DescriptorPool(database)
        service = pool.FindServiceByName("pods.v1.PodsService")
        method = service.methods_by_name["GetPod"]
        assert method.input_type.full_name == "pods.v1.GetPodRequest"
        # ... and v1 (what grpcurl asks first).
        # (grpcio-reflection has no v1 client; the messages are v1alpha's on the wire.)
        info = channel.stream_stream(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        (answer,) = list(info(iter([request]), timeout=10))
        listed = {service.name for service in answer.list_services_response.service}
        assert set(PUBLIC_SERVICES) <= listed


def test_cors_preflight_is_answered_for_the_allowed_origin_only(docs_stack: Stack) -> None:
    preflight = {
        "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "x-tapis-token",
    }
    status, headers, _ = _get(
        docs_stack, "/v3/pods/somepod", "OPTIONS", {"Origin": ALLOWED, **preflight}
    )
    found = _lower(headers)
    assert status == 200
    assert found["access-control-allow-origin"] == ALLOWED
    assert "DELETE" in found["access-control-allow-methods"]
    assert "x-tapis-token" in found["access-control-allow-headers"]
    status, headers, _ = _get(
        docs_stack, "/v3/pods/somepod", "OPTIONS", {"Origin": OTHER, **preflight}
    )
    assert "access-control-allow-origin" not in _lower(headers)


def test_cors_headers_on_actual_requests(docs_stack: Stack) -> None:
    token = docs_stack.token()
    status, headers, _ = _get(
        docs_stack, "/v3/pods", headers={"Origin": ALLOWED, "X-Tapis-Token": token}
    )
    found = _lower(headers)
    assert status == 200
    assert found["access-control-allow-origin"] == ALLOWED
    assert "content-disposition" in found["access-control-expose-headers"]
    status, headers, _ = _get(
        docs_stack, "/v3/pods", headers={"Origin": OTHER, "X-Tapis-Token": token}
    )
    assert status == 200
    assert "access-control-allow-origin" not in _lower(headers)


def test_the_api_conforms_to_its_description(docs_stack: Stack, tmp_path: Path) -> None:
    result = run_schemathesis(
        docs_stack.url, docs_stack.token(), tmp_path, max_examples=3, time_limit=110
    )
    assert result.returncode == 0, result.report

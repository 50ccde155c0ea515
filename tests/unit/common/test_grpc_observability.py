"""The interceptors of every gRPC server (services/common/grpc_observability.py, installed by
services/common/grpc_server.new_server): calls are counted and timed by service, method and
status code, on a real grpc.aio server with the health service."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY

from services.common.dependency_health import DependencyHealth
from services.common.grpc_observability import split_method
from services.common.grpc_server import new_server
from tests.ports import release_port, reserve_port

HEALTH = {"grpc_service": "grpc.health.v1.Health", "grpc_method": "Check"}


def handled(code: str) -> float:
    return (
        REGISTRY.get_sample_value("grpc_server_handled_total", {**HEALTH, "grpc_code": code}) or 0.0
    )


def test_method_names_split_into_service_and_method() -> None:
    assert split_method("/pods.v1.PodsService/CreatePod") == ("pods.v1.PodsService", "CreatePod")
    assert split_method("/Bare") == ("unknown", "Bare")


async def test_calls_are_counted_by_status_code_and_timed() -> None:
    port = reserve_port()
    health = DependencyHealth(["pods.v1.Test"])
    await health.check_once()  # no checks: SERVING
    server = new_server(port, lambda _server: None, health)
    ok, not_found = handled("OK"), handled("NOT_FOUND")
    timed = REGISTRY.get_sample_value("grpc_server_handling_seconds_count", HEALTH) or 0.0
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            await stub.Check(health_pb2.HealthCheckRequest(service="pods.v1.Test"))
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
            assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        await server.stop(None)
        release_port(port)
    assert handled("OK") == ok + 1
    assert handled("NOT_FOUND") == not_found + 1
    assert REGISTRY.get_sample_value("grpc_server_handling_seconds_count", HEALTH) == timed + 2

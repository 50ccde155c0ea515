"""Real Envoy: the REST body check (gateway/body_checks.py) fails closed. When the api's
check fails while a create waits on it (the api answers with an error, or stops in the middle
of the check, as when it is killed), the create is answered 503, retryable like any call while
the api restarts, and never reaches CreatePod; the real check still refuses an unknown stanza
field with 400 and lets a good body through.

The in-test api serves the check (services/api/transport/body_check.py, or a failing stand-in)
and a CreatePod that records its calls, on the port the gateway sends both to.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc
from google.protobuf import struct_pb2

from services.api.transport.body_check import NetworkingBodyCheck
from services.common.generated.pods.v1 import pods_service_pb2
from tests.integration.gateway.test_envoy_gateway import Gateway, ahttp, running_gateway
from tests.ports import reserve_ports as free_ports

GOOD_POD = {"pod_id": "p1", "image": "pods-http:latest"}
TYPO_POD = {**GOOD_POD, "networking": {"default": {"port": 5000, "tapis_auht": True}}}


class RecordingPods:
    """CreatePod (the only PodsService call served) records the pod ids it was asked for."""

    def __init__(self) -> None:
        self.created: list[str] = []

    async def CreatePod(
        self,
        request: pods_service_pb2.CreatePodRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pods_service_pb2.CreatePodResponse:
        self.created.append(request.pod.pod_id if request.HasField("pod") else "?")
        return pods_service_pb2.CreatePodResponse(
            status="success", message="Pod created.", metadata=struct_pb2.Struct()
        )


class FailingCheck:
    """A check that fails on the first body: `abort` answers the stream with INTERNAL,
    `stop` stops the whole server mid-check (the stream is cut, as when the api dies)."""

    def __init__(self, how: str) -> None:
        self.how = how
        self.server: grpc.aio.Server | None = None
        self.stopping: asyncio.Future[None] | None = None
        self.bodies = 0

    async def Process(
        self, requests: AsyncIterator[Any], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        async for _request in requests:
            self.bodies += 1
            if self.how == "abort":
                await context.abort(grpc.StatusCode.INTERNAL, "the check broke")
            assert self.server is not None
            # Stopped from outside this call, which the stop cancels mid-check.
            self.stopping = asyncio.ensure_future(self.server.stop(grace=None))
            await asyncio.Event().wait()
        if False:  # pragma: no cover - makes this an async generator, like the real check
            yield None


@pytest.fixture(scope="module")
def api_port() -> int:
    (port,) = free_ports(1)
    return port


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, api_port: int) -> Iterator[Gateway]:
    with running_gateway(tmp_path_factory.mktemp("gateway"), api_port) as gw:
        yield gw


async def _serve(api_port: int, check: Any, pods: RecordingPods) -> grpc.aio.Server:
    server = grpc.aio.server()
    external_processor_pb2_grpc.add_ExternalProcessorServicer_to_server(check, server)
    create = grpc.unary_unary_rpc_method_handler(
        pods.CreatePod,
        request_deserializer=pods_service_pb2.CreatePodRequest.FromString,
        response_serializer=pods_service_pb2.CreatePodResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("pods.v1.PodsService", {"CreatePod": create}),)
    )
    assert server.add_insecure_port(f"127.0.0.1:{api_port}") == api_port
    await server.start()
    return server


async def _create(gateway: Gateway, body: object) -> Any:
    headers = {"Content-Type": "application/json", "X-Tapis-Token": "t"}
    return await ahttp("POST", f"{gateway.url}/v3/pods", json.dumps(body).encode(), headers)


async def test_the_real_check_refuses_a_typo_and_passes_a_good_body(
    gateway: Gateway, api_port: int
) -> None:
    pods = RecordingPods()
    server = await _serve(api_port, NetworkingBodyCheck(), pods)
    try:
        refused = await _create(gateway, TYPO_POD)
        assert refused.status == 400, refused.body
        assert "networking.default.tapis_auht: unknown field" in refused.json()["message"]
        assert pods.created == []
        created = await _create(gateway, GOOD_POD)
        assert created.status == 200, created.body
        assert pods.created == ["p1"]
    finally:
        await server.stop(grace=None)


@pytest.mark.parametrize("how", ["abort", "stop"])
async def test_a_check_that_fails_midway_answers_503_and_creates_nothing(
    gateway: Gateway, api_port: int, how: str
) -> None:
    pods = RecordingPods()
    check = FailingCheck(how)
    server = await _serve(api_port, check, pods)
    check.server = server
    try:
        reply = await _create(gateway, TYPO_POD)
        assert check.bodies == 1  # the check saw the body, then failed
        assert reply.status == 503, (reply.status, reply.body)
        assert pods.created == []  # the call is over: the body the check did not pass is gone
    finally:
        await (check.stopping or server.stop(grace=None))

"""Helpers of the fault scenarios: the pod as the REST API shows it, health's Resync RPC on
its loopback port, and the stack's command backlog in NATS."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from services.common.generated.pods.v1 import health_service_pb2 as health_pb
from services.common.generated.pods.v1 import health_service_pb2_grpc as health_grpc
from services.common.messaging.nats_bus import MessageBus
from services.common.settings import Settings
from tests.e2e.harness import Stack, eventually


def pod(stack: Stack, token: str, pod_id: str) -> dict[str, Any]:
    """The pod's JSON (`result` of GET /v3/pods/{pod_id})."""
    status, _, body = stack.request("GET", f"/v3/pods/{pod_id}", token=token)
    assert status == 200 and isinstance(body, dict), body
    result = body["result"]
    assert isinstance(result, dict)
    return result


def action_logs(stack: Stack, token: str, pod_id: str) -> list[str]:
    status, _, body = stack.request("GET", f"/v3/pods/{pod_id}/logs", token=token)
    assert status == 200 and isinstance(body, dict), body
    return list(body["result"]["action_logs"])


def resync(stack: Stack) -> int:
    """Asks health for a full resync now (HealthService.Resync on its loopback port)."""
    with grpc.insecure_channel(f"127.0.0.1:{stack.env['PODS_HEALTH_PORT']}") as channel:
        stub = health_grpc.HealthServiceStub(channel)
        response = stub.Resync(health_pb.ResyncRequest(), timeout=30)
    return int(response.pods_observed)


def command_backlog(stack: Stack) -> int:
    """Commands stored in the stack's command stream and not yet acknowledged."""

    async def read() -> int:
        bus = await MessageBus.connect(Settings.from_env(stack.env))
        try:
            return await bus.command_backlog()
        finally:
            await bus.close()

    return asyncio.run(read())


def resync_and_drain(stack: Stack) -> None:
    """A full resync, then waits until every command it published has been handled."""
    resync(stack)
    eventually(lambda: command_backlog(stack) == 0, timeout=30, what="command backlog drained")

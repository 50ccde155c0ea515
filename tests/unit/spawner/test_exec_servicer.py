"""SpawnerService.ExecInPod over a real grpc.aio server and channel, with a runtime double:
limits answer RESOURCE_EXHAUSTED at once, a call without its user is refused, and a caller
that cancels its call cancels the runtime's exec (where the command is killed)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import grpc
import pytest

from services.common.generated.pods.v1 import spawner_service_pb2 as pb
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.runtime.types import ExecResult, PodKey, Runtime
from services.common.storage.fake import FakeVolumeStore
from services.spawner.exec_limits import ExecAdmission, ExecLimits
from services.spawner.reconcile import Reconciler
from services.spawner.server import SpawnerServicer


class BlockingRuntime:
    """exec: 'sleep' blocks until cancelled (recorded); anything else answers at once."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def exec(
        self, key: PodKey, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        if argv[0] != "sleep":
            return ExecResult(exit_code=0, stdout="done", stderr="")
        self.started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        raise AssertionError("not reached")


def request(pod_id: str, argv: list[str], user: str = "alice") -> pb.ExecInPodRequest:
    return pb.ExecInPodRequest(
        tenant_id="dev", pod_id=pod_id, argv=argv, timeout_seconds=60, limit_bytes=100, user=user
    )


@pytest.fixture
async def served() -> AsyncIterator[tuple[pb_grpc.SpawnerServiceStub, BlockingRuntime]]:
    runtime = BlockingRuntime()
    servicer = SpawnerServicer(
        cast(Reconciler, None),
        cast(Runtime, runtime),
        ExecAdmission(ExecLimits(per_pod=1, per_user=5, total=5)),
        FakeVolumeStore("local"),
    )
    server = grpc.aio.server()
    pb_grpc.add_SpawnerServiceServicer_to_server(servicer, server)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield pb_grpc.SpawnerServiceStub(channel), runtime
    await server.stop(None)


async def test_limits_missing_user_and_cancellation(served: Any) -> None:
    stub, runtime = served
    held = stub.ExecInPod(request("p1", ["sleep", "600"]))
    await asyncio.wait_for(runtime.started.wait(), 5)

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ExecInPod(request("p1", ["true"]), timeout=5)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "PODS_EXEC_MAX_PER_POD" in (info.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ExecInPod(request("p2", ["true"], user=""), timeout=5)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (await stub.ExecInPod(request("p2", ["true"]), timeout=5)).stdout == "done"

    held.cancel()
    await asyncio.wait_for(runtime.cancelled.wait(), 5)
    # the slot came back: the pod takes a command again
    assert (await stub.ExecInPod(request("p1", ["true"]), timeout=5)).stdout == "done"

"""SpawnerService.CopyIntoPod over a real grpc.aio server and channel, on SpawnerServicer as
the spawner composes it: the file reaches the runtime, and the runtime's refusals come back
as the codes the API maps (NOT_FOUND and INVALID_ARGUMENT: the path; FAILED_PRECONDITION)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from services.common.generated.pods.v1 import spawner_service_pb2 as pb
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.runtime.fake import FakeRuntime
from services.common.runtime.types import ContainerSpec, PodKey
from tests.contract.test_observer_contract import serve

KEY = PodKey("dev", "web1")


class PickyRuntime(FakeRuntime):
    """FakeRuntime whose containers have no /missing directory and a /tmp in the way."""

    async def copy_into(self, key: PodKey, dest_path: str, data: bytes) -> None:
        if dest_path.startswith("/missing/"):
            raise FileNotFoundError("the directory '/missing' does not exist")
        if dest_path == "/tmp":
            raise IsADirectoryError("'/tmp' is a directory")
        await super().copy_into(key, dest_path, data)


@pytest.fixture
async def served() -> AsyncIterator[tuple[pb_grpc.SpawnerServiceStub, PickyRuntime]]:
    runtime = PickyRuntime("local")
    server, address = await serve(runtime)  # SpawnerServicer as the spawner composes it
    async with grpc.aio.insecure_channel(address) as channel:
        yield pb_grpc.SpawnerServiceStub(channel), runtime
    await server.stop(None)


def copy(path: str, data: bytes = b"x") -> pb.CopyIntoPodRequest:
    return pb.CopyIntoPodRequest(tenant_id="dev", pod_id="web1", dest_path=path, data=data)


async def code_of(stub: pb_grpc.SpawnerServiceStub, request: pb.CopyIntoPodRequest) -> Any:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CopyIntoPod(request, timeout=5)
    return info.value.code()


async def test_the_file_reaches_the_running_container(served: Any) -> None:
    stub, runtime = served
    assert await code_of(stub, copy("/tmp/a")) == grpc.StatusCode.FAILED_PRECONDITION
    await runtime.ensure(ContainerSpec(key=KEY, image="pods-http:latest"))
    await stub.CopyIntoPod(copy("/tmp/a", b"hello"), timeout=5)
    assert runtime.files(KEY) == {"/tmp/a": b"hello"}


async def test_refusals_come_back_as_the_codes_the_api_maps(served: Any) -> None:
    stub, runtime = served
    await runtime.ensure(ContainerSpec(key=KEY, image="pods-http:latest"))
    assert await code_of(stub, copy("/missing/a")) == grpc.StatusCode.NOT_FOUND
    assert await code_of(stub, copy("/tmp")) == grpc.StatusCode.INVALID_ARGUMENT
    assert await code_of(stub, copy("relative")) == grpc.StatusCode.INVALID_ARGUMENT

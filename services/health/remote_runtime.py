"""Health's RuntimeObserver over the spawner's SpawnerService observation RPCs
(services/spawner/observe_servicer.py), so that health never talks to the container runtime
itself: it holds no Docker socket and no Kubernetes token.

Built by services/health/server.py for watcher.Watcher. Status codes turn back into the
runtime's errors through services/common/runtime/wire.py: a spawner that does not answer, or
whose runtime is in trouble, is a TemporaryError, exactly as an engine error was. The event
stream ends with a TemporaryError when the spawner goes away; the watcher reconnects with
backoff and its periodic resync covers what happened meanwhile. A stream is reopened at
once after WATCH_SPAN seconds, so a connection that died silently is never followed for long.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import grpc

from services.common.generated.pods.v1 import spawner_service_pb2 as pb
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.outcomes import TemporaryError
from services.common.runtime import wire
from services.common.runtime.types import ContainerState, LogChunk, PodKey, RuntimeEvent

T = TypeVar("T")
CALL_TIMEOUT = 60.0  # seconds for one call (a log read may fetch several pages)
WATCH_SPAN = 300.0  # seconds one event stream stays open before it is reopened
CHANNEL_OPTIONS = (
    # A log chunk may be as large as PODS_LOG_LIMIT_BYTES; the peer is our own spawner.
    ("grpc.max_receive_message_length", -1),
    # A restarted spawner is reached again within a second or two (gRPC's default backoff
    # between connection attempts grows to two minutes).
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
)


async def _answer(call: Awaitable[T]) -> T:
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        raise wire.error_for(exc.code(), exc.details()) from None


class RemoteRuntimeObserver:
    """RuntimeObserver (services/health/ports.py) over SpawnerService."""

    def __init__(self, address: str) -> None:
        self._channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
        self._stub = pb_grpc.SpawnerServiceStub(self._channel)

    async def close(self) -> None:
        await self._channel.close(None)

    async def inspect(self, key: PodKey) -> ContainerState | None:
        request = pb.InspectContainerRequest(tenant_id=key.tenant_id, pod_id=key.pod_id)
        reply = await _answer(self._stub.InspectContainer(request, timeout=CALL_TIMEOUT))
        return wire.container_from_pb(reply.container) if reply.HasField("container") else None

    async def list_managed(self) -> list[ContainerState]:
        request = pb.ListManagedContainersRequest()
        reply = await _answer(self._stub.ListManagedContainers(request, timeout=CALL_TIMEOUT))
        return [wire.container_from_pb(c) for c in reply.containers]

    async def logs_since(self, key: PodKey, cursor: str, limit_bytes: int) -> LogChunk:
        request = pb.ReadContainerLogsRequest(
            tenant_id=key.tenant_id, pod_id=key.pod_id, cursor=cursor, limit_bytes=limit_bytes
        )
        reply = await _answer(self._stub.ReadContainerLogs(request, timeout=CALL_TIMEOUT))
        return wire.logs_from_pb(reply)

    def watch(self) -> AsyncIterator[RuntimeEvent]:
        return self._watch()

    async def _watch(self) -> AsyncIterator[RuntimeEvent]:
        while True:
            call = self._stub.WatchContainerEvents(
                pb.WatchContainerEventsRequest(), timeout=WATCH_SPAN
            )
            try:
                async for message in call:
                    yield wire.event_from_pb(message)
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise wire.error_for(exc.code(), exc.details()) from None
                continue  # the span ended: open the next stream at once
            finally:
                call.cancel()
            raise TemporaryError("the spawner ended the event stream")

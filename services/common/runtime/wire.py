"""The runtime's observations on SpawnerService's wire: containers, log chunks and events to
and from protobuf messages, and the runtime's errors to and from gRPC status codes (the one
table both sides use). Pure functions.

Called by services/spawner/observe_servicer.py (the server, over the spawner's Runtime) and
services/health/remote_runtime.py (the client health observes the runtime through).
"""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.common.generated.pods.v1 import spawner_service_pb2 as pb
from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.types import ContainerState, LogChunk, Phase, PodKey, RuntimeEvent

# Most specific first: the first matching class decides the code.
_CODES: tuple[tuple[type[Exception], grpc.StatusCode], ...] = (
    (PermanentError, grpc.StatusCode.FAILED_PRECONDITION),
    (TemporaryError, grpc.StatusCode.UNAVAILABLE),
)


def code_for(error: Exception) -> grpc.StatusCode | None:
    """The status code a runtime error crosses the wire as; None for anything else (a bug)."""
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return None


def error_for(code: grpc.StatusCode, details: str | None) -> Exception:
    """The runtime error a status code stands for: PermanentError for FAILED_PRECONDITION,
    else a TemporaryError: UNAVAILABLE (the runtime is in trouble, or the spawner cannot be
    reached) with its message, any other code as a spawner that did not answer."""
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return PermanentError(details or code.name)
    if code == grpc.StatusCode.UNAVAILABLE:
        return TemporaryError(f"spawner: {details or 'unavailable'}")
    return TemporaryError(f"the spawner did not answer: {details or code.name}")


def _timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def container_to_pb(state: ContainerState) -> pb.ManagedContainer:
    return pb.ManagedContainer(
        name=state.name,
        tenant_id=state.key.tenant_id,
        pod_id=state.key.pod_id,
        phase=state.phase.value,
        spec_hash=state.spec_hash,
        exit_code=state.exit_code,
        error=state.error,
        started_at=_timestamp(state.started_at),
        finished_at=_timestamp(state.finished_at),
        published=dict(state.published),
        run=state.run,
    )


def container_from_pb(message: pb.ManagedContainer) -> ContainerState:
    def when(field: str, stamp: Timestamp) -> datetime | None:
        return stamp.ToDatetime(tzinfo=UTC) if message.HasField(field) else None

    return ContainerState(
        key=PodKey(message.tenant_id, message.pod_id),
        name=message.name,
        phase=Phase(message.phase),
        spec_hash=message.spec_hash,
        exit_code=message.exit_code if message.HasField("exit_code") else None,
        error=message.error,
        started_at=when("started_at", message.started_at),
        finished_at=when("finished_at", message.finished_at),
        published=dict(message.published),
        run=message.run,
    )


def logs_to_pb(chunk: LogChunk) -> pb.ReadContainerLogsResponse:
    return pb.ReadContainerLogsResponse(text=chunk.text, cursor=chunk.cursor)


def logs_from_pb(message: pb.ReadContainerLogsResponse) -> LogChunk:
    return LogChunk(text=message.text, cursor=message.cursor)


def event_to_pb(event: RuntimeEvent) -> pb.WatchContainerEventsResponse:
    return pb.WatchContainerEventsResponse(
        tenant_id=event.key.tenant_id, pod_id=event.key.pod_id, action=event.action
    )


def event_from_pb(message: pb.WatchContainerEventsResponse) -> RuntimeEvent:
    return RuntimeEvent(key=PodKey(message.tenant_id, message.pod_id), action=message.action)

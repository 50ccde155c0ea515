"""The streams over gRPC: `WatchCalls` gives PodsService its typed WatchPod, WatchPods and
FollowPodLogs (pods_servicer.py inherits it), and PodStreamsServicer serves the same events
to REST clients as Server-Sent Events (google.api.HttpBody chunks the gateway passes through
as one `text/event-stream` body). The events come from domain/watch.py; watch_convert.py
shapes them. A client's cursor is the request's `resume_after` or, over REST, the
`Last-Event-ID` header (gRPC metadata `last-event-id`). PodStreamsServicer also answers the
plain REST `GET /v3/pods/{pod_id}/logs` (GetPodLogs' envelope built as JSON chunks,
logs_body.py). Registered by services/api/server.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from google.api import httpbody_pb2

from services.api.domain.log_pieces import PodLogsStream
from services.api.domain.principal import Principal
from services.api.domain.watch import PodWatch
from services.api.errors import InvalidArgumentError
from services.api.transport.auth import Authenticator
from services.api.transport.enveloped import Authenticated, Context
from services.api.transport.logs_body import logs_bodies
from services.api.transport.status import streamed_rpc
from services.api.transport.watch_convert import log_message, log_sse, pod_sse, watch_message
from services.common.generated.pods.v1 import pod_streams_service_pb2_grpc as sse_grpc
from services.common.generated.pods.v1 import pod_watch_pb2 as pb

LAST_EVENT_ID = "last-event-id"


def last_event_id(context: Context, resume_after: str = "") -> str:
    """The cursor: `resume_after` when given, else the Last-Event-ID header."""
    if resume_after:
        return resume_after
    for key, value in context.invocation_metadata() or ():
        if key.lower() == LAST_EVENT_ID:
            return value if isinstance(value, str) else value.decode(errors="replace")
    return ""


class WatchCalls(Authenticated):
    """PodsService's three typed streams (a base of pods_servicer.PodsServicer)."""

    def __init__(self, auth: Authenticator, watch: PodWatch) -> None:
        super().__init__(auth)
        self._watch = watch

    @streamed_rpc
    async def WatchPod(
        self, request: pb.WatchPodRequest, context: Context
    ) -> AsyncIterator[pb.WatchPodResponse]:
        who = self.auth.principal(context)
        cursor = last_event_id(context, request.resume_after)
        async for event in self._watch.watch_pod(who, request.pod_id, cursor):
            if event is not None:
                yield watch_message(event)

    @streamed_rpc
    async def WatchPods(
        self, request: pb.WatchPodsRequest, context: Context
    ) -> AsyncIterator[pb.WatchPodResponse]:
        who = self.auth.principal(context)
        async for event in self._watch.watch_pods(
            who, last_event_id(context, request.resume_after)
        ):
            if event is not None:
                yield watch_message(event)

    @streamed_rpc
    async def FollowPodLogs(
        self, request: pb.FollowPodLogsRequest, context: Context
    ) -> AsyncIterator[pb.FollowPodLogsResponse]:
        who = self.auth.principal(context)
        cursor = last_event_id(context, request.resume_after)
        async for chunk in self._watch.follow_logs(who, request.pod_id, cursor):
            if chunk is not None:
                yield log_message(chunk)


class LogsReader(Protocol):
    """GetPodLogs' read in pieces (domain/pods.py's Pods)."""

    async def logs_stream(
        self, who: Principal, pod_id: str, previous: int = 0
    ) -> PodLogsStream: ...


class PodStreamsServicer(Authenticated, sse_grpc.PodStreamsServiceServicer):
    """The streams as Server-Sent Events, keep-alive comments included; and GetPodLogs'
    REST answer as JSON chunks (logs_body.py)."""

    def __init__(self, auth: Authenticator, watch: PodWatch, logs: LogsReader) -> None:
        super().__init__(auth)
        self._watch = watch
        self._logs = logs

    @streamed_rpc
    async def StreamPodEvents(
        self, request: pb.StreamPodEventsRequest, context: Context
    ) -> AsyncIterator[httpbody_pb2.HttpBody]:
        who = self.auth.principal(context)
        async for event in self._watch.watch_pod(who, request.pod_id, last_event_id(context)):
            yield pod_sse(event)

    @streamed_rpc
    async def StreamPodsEvents(
        self, request: pb.StreamPodsEventsRequest, context: Context
    ) -> AsyncIterator[httpbody_pb2.HttpBody]:
        who = self.auth.principal(context)
        async for event in self._watch.watch_pods(who, last_event_id(context)):
            yield pod_sse(event)

    @streamed_rpc
    async def StreamPodLogs(
        self, request: pb.StreamPodLogsRequest, context: Context
    ) -> AsyncIterator[httpbody_pb2.HttpBody]:
        who = self.auth.principal(context)
        if not request.follow:
            logs = await self._logs.logs_stream(who, request.pod_id, request.previous)
            message = f"Logs of pod '{request.pod_id}'."
            async for body in logs_bodies(logs.pieces, logs.action_logs, message):
                yield body
            return
        if request.previous:
            raise InvalidArgumentError("previous", "applies only without follow")
        async for chunk in self._watch.follow_logs(who, request.pod_id, last_event_id(context)):
            yield log_sse(chunk)

"""Converts the events of domain/watch.py into PodsService's typed stream messages
(WatchPodResponse, FollowPodLogsResponse) and into Server-Sent Events bytes for
PodStreamsService (the wire contract: `id:`, `event:`, one line of JSON `data:`). Pure
functions, called by watch_servicer.py."""

from __future__ import annotations

import json

from google.api import httpbody_pb2
from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

from services.api.domain.watch import Followed, LogChunk, PodDeleted, PodState, Watched
from services.api.transport.pods_convert import status_container_message
from services.common.generated.pods.v1 import pod_watch_pb2

SSE_CONTENT_TYPE = "text/event-stream"
KEEPALIVE = b": keep-alive\n\n"


def watch_message(event: PodState | PodDeleted) -> pod_watch_pb2.WatchPodResponse:
    """A WatchPod/WatchPods message."""
    if isinstance(event, PodDeleted):
        return pod_watch_pb2.WatchPodResponse(
            event_id=event.event_id, deleted=True, pod_id=event.pod_id
        )
    time = Timestamp()
    time.FromDatetime(event.time)
    return pod_watch_pb2.WatchPodResponse(
        event_id=event.event_id,
        pod_id=event.pod_id,
        status=event.status,
        status_container=status_container_message(event.status_container),
        status_requested=event.status_requested,
        action_log=event.action_log,
        time=time,
    )


def log_message(chunk: LogChunk) -> pod_watch_pb2.FollowPodLogsResponse:
    """A FollowPodLogs message."""
    return pod_watch_pb2.FollowPodLogsResponse(
        event_id=chunk.event_id, new_run=chunk.new_run, text=chunk.text, run=chunk.run
    )


def _sse(event_id: str, kind: str, data: dict[str, object]) -> bytes:
    line = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event_id}\nevent: {kind}\ndata: {line}\n\n".encode()


def _body(data: bytes) -> httpbody_pb2.HttpBody:
    return httpbody_pb2.HttpBody(content_type=SSE_CONTENT_TYPE, data=data)


def pod_sse(event: Watched) -> httpbody_pb2.HttpBody:
    """One SSE event (`pod` or `deleted`), or the keep-alive comment for None."""
    if event is None:
        return _body(KEEPALIVE)
    if isinstance(event, PodDeleted):
        return _body(_sse(event.event_id, "deleted", {"pod_id": event.pod_id}))
    container = json_format.MessageToDict(
        status_container_message(event.status_container),
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )
    data: dict[str, object] = {
        "pod_id": event.pod_id,
        "status": event.status,
        "status_container": container,
        "status_requested": event.status_requested,
        "action_log": event.action_log,
        "time": event.time.isoformat().replace("+00:00", "Z"),
    }
    return _body(_sse(event.event_id, "pod", data))


def log_sse(chunk: Followed) -> httpbody_pb2.HttpBody:
    """One SSE event (`log` or `run`), or the keep-alive comment for None."""
    if chunk is None:
        return _body(KEEPALIVE)
    if chunk.new_run:
        return _body(_sse(chunk.event_id, "run", {"run": chunk.run}))
    return _body(_sse(chunk.event_id, "log", {"text": chunk.text, "run": chunk.run}))

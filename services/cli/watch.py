"""Live pod states and log output for `pods create --wait` and `pods logs -f`: the Server-Sent
Events paths of the watch contract (`/v3/pods/{pod_id}/events`, `/logs?follow=true`, resumed
with Last-Event-ID when the connection drops), or, where the server answers them with 404 (a
Tapis deployment), GET /v3/pods/{pod_id} and its /logs every two seconds. Called by
services/cli/pod_commands.py; talks to the API through services/cli/client.py only."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from services.cli.client import PodsClient
from services.cli.errors import ApiError
from services.cli.sse import Event

POLL_INTERVAL = 2.0
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class PodState:
    """A pod's observed state at one moment: what `--wait` shows."""

    status: str
    status_container: dict[str, Any] = field(default_factory=dict)
    action_log: str = ""
    deleted: bool = False

    def reason(self) -> str:
        """Why a pod is where it is, in words: the container's message, else the newest action
        log line."""
        message = str(self.status_container.get("message") or "")
        return message or self.action_log


@dataclass(frozen=True)
class LogChunk:
    """New output of a pod's run `run` (a new run's first chunk has `new_run` set)."""

    text: str
    run: int = 0
    new_run: bool = False


def pod_states(
    client: PodsClient, pod_id: str, sleep: Sleep = time.sleep, interval: float = POLL_INTERVAL
) -> Iterator[PodState]:
    """The pod's current state, then each change (never the same state twice in a row), until
    the pod is deleted (a last state with `deleted` set) or the caller stops."""
    last: PodState | None = None
    for state in _raw_states(client, pod_id, sleep, interval):
        if state != last:
            yield state
            last = state
        if state.deleted:
            return


def _raw_states(
    client: PodsClient, pod_id: str, sleep: Sleep, interval: float
) -> Iterator[PodState]:
    cursor = ""
    while True:
        events = client.stream(f"/v3/pods/{pod_id}/events", last_event_id=cursor)
        if events is None:
            yield from _polled_states(client, pod_id, sleep, interval)
            return
        for event in events:
            cursor = event.id or cursor
            if event.event == "deleted":
                yield PodState("DELETED", deleted=True)
                return
            if event.event == "pod":
                yield _state(json.loads(event.data))
        sleep(min(interval, 1.0))  # the connection dropped: resume after the last event


def _polled_states(
    client: PodsClient, pod_id: str, sleep: Sleep, interval: float
) -> Iterator[PodState]:
    while True:
        try:
            pod = client.get_pod(pod_id)
        except ApiError as error:
            if error.status == 404:
                yield PodState("DELETED", deleted=True)
                return
            raise
        yield _state(pod, _newest_action(client, pod_id))
        sleep(interval)


def _newest_action(client: PodsClient, pod_id: str) -> str:
    try:
        actions = client.pod_logs(pod_id).get("action_logs") or []
    except ApiError:
        return ""
    return str(actions[-1]) if actions else ""


def _state(data: dict[str, Any], action_log: str = "") -> PodState:
    return PodState(
        status=str(data.get("status", "")),
        status_container=dict(data.get("status_container") or {}),
        action_log=str(data.get("action_log") or action_log),
    )


def follow_logs(
    client: PodsClient, pod_id: str, sleep: Sleep = time.sleep, interval: float = POLL_INTERVAL
) -> Iterator[LogChunk]:
    """The current run's output so far, then new output as it is written, until the caller
    stops (or the pod is deleted)."""
    cursor = ""
    while True:
        events = client.stream(
            f"/v3/pods/{pod_id}/logs", params={"follow": "true"}, last_event_id=cursor
        )
        if events is None:
            yield from _polled_logs(client, pod_id, sleep, interval)
            return
        for event in events:
            cursor = event.id or cursor
            chunk = _log_chunk(event)
            if chunk is not None:
                yield chunk
            if event.event == "deleted":
                return
        sleep(min(interval, 1.0))


def _log_chunk(event: Event) -> LogChunk | None:
    if event.event == "log":
        data = json.loads(event.data)
        return LogChunk(str(data.get("text", "")), int(data.get("run", 0)))
    if event.event == "run":
        data = json.loads(event.data) if event.data else {}
        return LogChunk("", int(data.get("run", 0)), new_run=True)
    return None


def _polled_logs(
    client: PodsClient, pod_id: str, sleep: Sleep, interval: float
) -> Iterator[LogChunk]:
    seen = ""
    run = 0
    while True:
        try:
            text = str(client.pod_logs(pod_id).get("logs") or "")
        except ApiError as error:
            if error.status == 404 and seen:
                return  # deleted while followed
            raise
        if text.startswith(seen):
            if text != seen:
                yield LogChunk(text[len(seen) :], run)
        else:  # the output no longer continues what was shown: a new run
            run += 1
            yield LogChunk("", run, new_run=True)
            if text:
                yield LogChunk(text, run)
        seen = text
        sleep(interval)

"""Watch and follow, end to end through the real gateway: a raw HTTP client reads
`GET /v3/pods/{pod_id}/events`, `GET /v3/pods?watch=true` and
`GET /v3/pods/{pod_id}/logs?follow=true` as Server-Sent Events (a new pod's statuses in
order, each once; Last-Event-ID resumes; a line the pod prints after the stream opened); a
dropped client leaves no watcher behind in the api; `?watch=true` shows only the caller's pods;
and WatchPod over native gRPC."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from services.common.generated.pods.v1 import pod_watch_pb2
from services.common.generated.pods.v1 import pods_service_pb2_grpc as pb_grpc
from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually
from tests.e2e.sse import Event, Sse

pytestmark = [pytest.mark.docker, pytest.mark.stack]

PROGRESS = ["REQUESTED", "CREATING", "AVAILABLE"]


def create(stack: Stack, token: str, pod_id: str, **fields: Any) -> None:
    body = json.dumps({"pod_id": pod_id, "image": "pods-http:latest", **fields}).encode()
    status, _, reply = stack.request("POST", "/v3/pods", body, token)
    assert status == 200, reply


def open_watchers(stack: Stack) -> int:
    """The api's count of open watchers, from its last `watchers: N open` log line."""
    counts = re.findall(r"watchers: (\d+) open", stack.log_path.read_text(errors="replace"))
    return int(counts[-1]) if counts else 0


@pytest.fixture
def token(stack: Stack) -> str:
    return stack.token()


def watch_a_new_pod(stack: Stack, token: str, pod_id: str) -> list[Event]:
    """The events `?watch=true` shows for a pod created after the stream opened, up to its
    AVAILABLE."""
    everything = Sse(stack, "/v3/pods?watch=true", token)
    try:
        create(stack, token, pod_id)
        seen = everything.until(
            lambda e: e.data.get("status") == "AVAILABLE" and e.data.get("pod_id") == pod_id
        )
    finally:
        everything.close()
    return [e for e in seen if e.data.get("pod_id") == pod_id]


def progress_of(events: list[Event]) -> list[str]:
    statuses = [e.data["status"] for e in events]
    return [s for i, s in enumerate(statuses) if statuses[i - 1 : i] != [s]]


def test_a_new_pod_shows_every_status_it_was_recorded_in(
    stack: Stack, token: str, unique: Unique, cleanup: Cleanup
) -> None:
    mine = watch_a_new_pod(stack, token, cleanup.pod(unique("watchall")))
    # CREATING comes when the database records it: health may see the container ready and
    # record AVAILABLE before the spawner records CREATING, and then the pod never was CREATING.
    assert progress_of(mine) in (PROGRESS, ["REQUESTED", "AVAILABLE"]), mine


@contextlib.contextmanager
def paused(stack: Stack, process: str) -> Iterator[None]:
    """The stack's `process` stopped by SIGSTOP for the block, then continued."""
    pid = stack.pid_of(process)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_watcher_that_could_not_read_while_its_pod_changed_still_sends_every_change(
    stack: Stack, token: str, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("watchpause"))
    with paused(stack, "spawner"):  # the pod stays REQUESTED until the stream is open
        create(stack, token, pod_id)
        events = Sse(stack, f"/v3/pods/{pod_id}/events", token)
        first = events.next()
        assert first.data["status"] == "REQUESTED", first
    try:
        # While the api (and its watcher) is stopped, the spawner and health record the
        # container's creation and the pod's AVAILABLE: several changes between two reads.
        with paused(stack, "api"):
            eventually(
                lambda: re.search(rf"pod \S+/{pod_id} is AVAILABLE", stack.log_path.read_text()),
                what=f"health records {pod_id} AVAILABLE",
            )
        seen = [first, *events.until(lambda e: e.data["status"] == "AVAILABLE")]
        _, _, logs = stack.request("GET", f"/v3/pods/{pod_id}/logs", token=token)
        assert isinstance(logs, dict)
        recorded = logs["result"]["action_logs"]
        if seen[-1].data["action_log"] != recorded[-1]:  # the spawner's line came after
            seen += events.until(lambda e: e.data["action_log"] == recorded[-1])
    finally:
        events.close()
    # Every action-log line the pod was given up to AVAILABLE came in the stream, in order.
    sent = [e.data["action_log"] for e in seen]
    assert [line for i, line in enumerate(sent) if sent[i - 1 : i] != [line]] == recorded, seen


def test_a_new_pod_goes_through_its_statuses_in_order_never_twice(
    stack: Stack, token: str, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("watchpod"))
    mine = watch_a_new_pod(stack, token, pod_id)
    # In order, ending AVAILABLE, each status at most once (a status may come with new
    # details: a new action-log line, the container's start), never the same state twice in
    # a row.
    steps = [(e.data["status"], e.data["action_log"]) for e in mine]
    progress = progress_of(mine)
    assert progress[-1] == "AVAILABLE", steps
    assert progress == [s for s in PROGRESS if s in progress], steps
    assert all(a.id != b.id and a.data != b.data for a, b in itertools.pairwise(mine)), mine

    events = Sse(stack, f"/v3/pods/{pod_id}/events", token)
    try:
        first = events.next()
        assert (first.event, first.data["status"], first.data["pod_id"]) == (
            "pod",
            "AVAILABLE",
            pod_id,
        )
        assert set(first.data) == {
            "pod_id",
            "status",
            "status_container",
            "status_requested",
            "action_log",
            "time",
        }
        assert events.response.headers["content-type"].startswith("text/event-stream")
        stack.request("DELETE", f"/v3/pods/{pod_id}", token=token)
        last = events.until(lambda e: e.event == "deleted")
        statuses = [e.data.get("status") for e in last[:-1]]
        assert all(a != b for a, b in itertools.pairwise(statuses)), statuses
    finally:
        events.close()


def test_last_event_id_resumes_and_an_unknown_one_starts_again(
    stack: Stack, token: str, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("resumepod"))
    create(stack, token, pod_id)
    path = f"/v3/pods/{pod_id}/events"
    eventually(
        lambda: (
            stack.request("GET", f"/v3/pods/{pod_id}", token=token)[2]["result"]["status"]  # type: ignore[index]
            == "AVAILABLE"
        ),
        90,
        "AVAILABLE",
    )
    first = Sse(stack, path, token)
    current = first.next()
    first.close()

    resumed = Sse(stack, path, token, last_event_id=current.id)
    try:
        stack.request("GET", f"/v3/pods/{pod_id}/stop", token=token)
        after = resumed.until(lambda e: e.data["status_requested"] == "OFF")
        assert after[0].id != current.id  # not the state it already had: the next ones
    finally:
        resumed.close()

    again = Sse(stack, path, token, last_event_id="no-such-id")
    try:
        assert again.next().data["pod_id"] == pod_id
    finally:
        again.close()


def test_errors_before_the_stream_are_tapis_json(stack: Stack, token: str) -> None:
    status, kind, body = stack.request("GET", "/v3/pods/nosuchpod/events", token=token)
    assert (status, kind) == (404, "application/json")
    assert isinstance(body, dict) and "nosuchpod" in body["message"]
    status, _, _ = stack.request("GET", "/v3/pods/nosuchpod/logs?follow=true")
    assert status == 401
    status, kind, body = stack.request("GET", "/v3/pods", token=token)  # no watch: as before
    assert status == 200 and isinstance(body, dict) and isinstance(body["result"], list)


def test_plain_logs_errors_are_tapis_json_naming_the_field(
    stack: Stack, token: str, unique: Unique, cleanup: Cleanup
) -> None:
    # `GET .../logs` is answered by the API's JSON chunks, not the transcoder: errors found
    # before the first chunk still leave as the usual JSON.
    status, kind, body = stack.request("GET", "/v3/pods/nosuchpod/logs", token=token)
    assert (status, kind) == (404, "application/json")
    assert isinstance(body, dict) and "nosuchpod" in body["message"]
    assert stack.request("GET", "/v3/pods/nosuchpod/logs")[0] == 401
    pod_id = cleanup.pod(unique("logerr"))
    create(stack, token, pod_id)
    status, kind, body = stack.request("GET", f"/v3/pods/{pod_id}/logs?previous=9", token=token)
    assert (status, kind) == (400, "application/json")
    assert isinstance(body, dict) and "previous" in body["message"], body
    path = f"/v3/pods/{pod_id}/logs?follow=true&previous=1"
    status, _, body = stack.request("GET", path, token=token)
    assert status == 400 and isinstance(body, dict)
    assert "previous: applies only without follow" in body["message"], body
    status, kind, body = stack.request("GET", f"/v3/pods/{pod_id}/logs?colour=red", token=token)
    assert status == 400 and isinstance(body, dict) and "colour" in body["message"], body
    status, kind, body = stack.request("GET", f"/v3/pods/{pod_id}/logs", token=token)
    assert (status, kind) == (200, "application/json")
    assert isinstance(body, dict) and body["status"] == "success" and body["metadata"] == {}
    assert set(body["result"]) == {"logs", "action_logs"}, body


def test_follow_sees_a_line_printed_after_the_stream_opened(
    stack: Stack, token: str, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("followpod"))
    create(stack, token, pod_id)
    eventually(
        lambda: (
            stack.request("GET", f"/v3/pods/{pod_id}", token=token)[2]["result"]["status"]  # type: ignore[index]
            == "AVAILABLE"
        ),
        90,
        "AVAILABLE",
    )
    follow = Sse(stack, f"/v3/pods/{pod_id}/logs?follow=true", token)
    try:
        first = follow.next()
        assert first.event == "log" and first.data["run"] >= 1
        marker = f"marker-{unique('x')}"
        body = json.dumps({"commands": [["sh", "-c", f"echo {marker} > /proc/1/fd/1"]]})
        printed = time.monotonic()
        status, _, reply = stack.request("POST", f"/v3/pods/{pod_id}/exec", body.encode(), token)
        assert status == 200, reply
        seen = follow.until(lambda e: marker in e.data.get("text", ""), timeout=60)
        latency = time.monotonic() - printed
        print(f"line printed -> SSE event: {latency:.2f}s")
        assert all(e.event == "log" for e in seen)
        assert latency < 15
    finally:
        follow.close()


def test_a_dropped_client_leaves_no_watcher_behind(
    stack: Stack, token: str, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("droppod"))
    create(stack, token, pod_id)
    before = open_watchers(stack)
    streams = [Sse(stack, f"/v3/pods/{pod_id}/events", token) for _ in range(3)]
    for stream in streams:
        stream.next()
    eventually(lambda: open_watchers(stack) == before + 3, 10, "three watchers")
    for stream in streams:
        stream.close()  # the client goes away without a word
    eventually(lambda: open_watchers(stack) == before, 30, "the watchers gone")


@pytest.fixture(scope="module")
def stub(stack: Stack) -> Iterator[pb_grpc.PodsServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{stack.env['PODS_GATEWAY_PORT']}") as channel:
        yield pb_grpc.PodsServiceStub(channel)


def test_watch_pod_over_native_grpc(
    stack: Stack, token: str, stub: pb_grpc.PodsServiceStub, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("grpcwatch"))
    create(stack, token, pod_id)
    auth = (("x-tapis-token", token),)
    call = stub.WatchPod(pod_watch_pb2.WatchPodRequest(pod_id=pod_id), metadata=auth, timeout=120)
    statuses = []
    for message in call:
        statuses.append(message.status)
        if message.status == "AVAILABLE":
            break
    call.cancel()
    progress = [s for i, s in enumerate(statuses) if statuses[i - 1 : i] != [s]]
    assert progress in (PROGRESS[PROGRESS.index(statuses[0]) :], [statuses[0], "AVAILABLE"])
    with pytest.raises(grpc.RpcError) as denied:
        next(stub.WatchPod(pod_watch_pb2.WatchPodRequest(pod_id="nosuchpod"), metadata=auth))
    assert denied.value.code() is grpc.StatusCode.NOT_FOUND


def test_no_stream_without_a_token(stack: Stack) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        Sse(stack, "/v3/pods?watch=true", "")
    assert refused.value.code == 401


def test_watch_pods_shows_only_the_callers_pods(
    stack: Stack, token: str, unique: Unique, cleanup: Cleanup
) -> None:
    mine = cleanup.pod(unique("seenpod"))
    create(stack, token, mine)
    other_token = stack.token("otheruser", "otherpass")
    theirs = cleanup.pod(unique("zzzpod"))  # sorts last: every visible pod comes before it
    create(stack, other_token, theirs)
    stream = Sse(stack, "/v3/pods?watch=true", other_token)
    try:
        seen = stream.until(lambda e: e.data["pod_id"] == theirs)
    finally:
        stream.close()
    assert mine not in {e.data["pod_id"] for e in seen}


def test_a_quiet_stream_outlives_the_rest_timeout_on_keep_alives(
    stack: Stack, token: str, unique: Unique, cleanup: Cleanup
) -> None:
    if stack.database != "sqlite":
        pytest.skip("the gateway's timeouts do not depend on the database: once is enough")
    pod_id = cleanup.pod(unique("quietpod"))
    create(stack, token, pod_id, image="nosuchimage:1")  # goes to ERROR and stays there
    stream = Sse(stack, f"/v3/pods/{pod_id}/events", token)
    try:
        stream.until(lambda e: e.data["status"] == "ERROR")
        started = time.monotonic()
        while time.monotonic() - started < 65:  # past the 60 s REST timeout
            line = stream.response.readline()
            assert line, "the stream was cut"
            stream.comments += line.startswith(b":")
        assert stream.comments >= 3
    finally:
        stream.close()

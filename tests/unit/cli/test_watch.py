"""Live pod states and log output: over the event stream (resumed after a drop with the last
event id), and by polling every two seconds where the server does not stream."""

from __future__ import annotations

import json
from itertools import islice

import requests

from services.cli.watch import LogChunk, PodState, follow_logs, pod_states
from tests.unit.cli.fake_http import Answer, FakeApi, client_for, error, ok, sse


def pod_event(event_id: int, status: str, message: str = "") -> str:
    data = {"pod_id": "web1", "status": status, "status_container": {"message": message}}
    return f"id: {event_id}\nevent: pod\ndata: {json.dumps(data)}\n\n"


def test_states_come_from_the_stream_once_each_and_resume_after_a_drop() -> None:
    first = sse(pod_event(1, "REQUESTED") + ": keep-alive\n\n" + pod_event(2, "CREATING"))
    second = sse(pod_event(2, "CREATING") + pod_event(3, "AVAILABLE", "ready"))
    api = FakeApi({"GET /v3/pods/web1/events": [first, second]})
    naps: list[float] = []

    states = list(islice(pod_states(client_for(api), "web1", sleep=naps.append), 3))

    assert [s.status for s in states] == ["REQUESTED", "CREATING", "AVAILABLE"]
    assert states[-1].reason() == "ready"
    resumed = [r for r in api.seen if r.path_url.endswith("/events")][1]
    assert resumed.headers["Last-Event-ID"] == "2"


def test_a_deleted_event_ends_the_states() -> None:
    api = FakeApi(
        {"GET /v3/pods/web1/events": sse(pod_event(1, "AVAILABLE") + "event: deleted\n\n")}
    )

    states = list(pod_states(client_for(api), "web1", sleep=lambda _: None))

    assert states == [PodState("AVAILABLE", {"message": ""}), PodState("DELETED", deleted=True)]


def test_without_the_stream_states_are_polled_every_two_seconds() -> None:
    pods = [ok({"status": s}) for s in ("REQUESTED", "REQUESTED", "CREATING", "ERROR")]
    logs = ok({"logs": "", "action_logs": ["12:00 created", "12:01 error: no such image"]})
    api = FakeApi({"GET /v3/pods/web1": pods, "GET /v3/pods/web1/logs": logs})
    naps: list[float] = []

    states = list(islice(pod_states(client_for(api), "web1", sleep=naps.append), 3))

    assert [s.status for s in states] == ["REQUESTED", "CREATING", "ERROR"]
    assert states[-1].reason() == "12:01 error: no such image"
    assert set(naps) == {2.0}


def test_polling_ends_when_the_pod_is_gone() -> None:
    api = FakeApi({"GET /v3/pods/web1": [ok({"status": "AVAILABLE"}), error(404, "gone")]})

    states = list(pod_states(client_for(api), "web1", sleep=lambda _: None))

    assert [s.status for s in states] == ["AVAILABLE", "DELETED"]


def test_followed_logs_come_from_the_stream() -> None:
    stream = (
        'id: a\nevent: log\ndata: {"text": "hello\\n", "run": 1}\n\n'
        'id: b\nevent: run\ndata: {"run": 2}\n\n'
        'id: c\nevent: log\ndata: {"text": "again\\n", "run": 2}\n\n'
    )
    api = FakeApi({"GET /v3/pods/web1/logs": sse(stream)})

    chunks = list(islice(follow_logs(client_for(api), "web1", sleep=lambda _: None), 3))

    assert chunks == [LogChunk("hello\n", 1), LogChunk("", 2, True), LogChunk("again\n", 2)]
    assert "follow=true" in api.seen[0].path_url


def test_without_the_stream_logs_are_polled_and_only_new_output_shown() -> None:
    answers = [ok({"logs": t}) for t in ("one\n", "one\ntwo\n", "one\ntwo\n", "fresh\n")]
    # Polling GetPodLogs ignores ?follow: the first answer is JSON, not a stream.
    api = FakeApi({"GET /v3/pods/web1/logs": [ok({"logs": "one\n"}), *answers]})

    chunks = list(islice(follow_logs(client_for(api), "web1", sleep=lambda _: None), 4))

    assert chunks == [
        LogChunk("one\n", 0),
        LogChunk("two\n", 0),
        LogChunk("", 1, True),
        LogChunk("fresh\n", 1),
    ]


def test_a_closed_stream_is_resumed() -> None:
    calls: list[str] = []

    def broken(request: requests.PreparedRequest) -> Answer:
        calls.append(request.headers.get("Last-Event-ID", ""))
        return sse(pod_event(len(calls), "CREATING" if len(calls) == 1 else "AVAILABLE"))

    api = FakeApi({"GET /v3/pods/web1/events": broken})

    states = list(islice(pod_states(client_for(api), "web1", sleep=lambda _: None), 2))

    assert [s.status for s in states] == ["CREATING", "AVAILABLE"]
    assert calls == ["", "1"]

"""The text/event-stream parser, on canned streams shaped like the watch contract's."""

from __future__ import annotations

from services.cli.sse import Event, parse

POD_STREAM = """\
id: 1
event: pod
data: {"pod_id": "web1", "status": "REQUESTED"}

: keep-alive

id: 2
event: pod
data: {"pod_id": "web1", "status": "CREATING"}

event: deleted

"""


def test_events_come_with_their_type_data_and_id() -> None:
    events = list(parse(POD_STREAM.splitlines()))

    assert events == [
        Event("pod", '{"pod_id": "web1", "status": "REQUESTED"}', "1"),
        Event("pod", '{"pod_id": "web1", "status": "CREATING"}', "2"),
        Event("deleted", "", "2"),  # the id stays the last one seen
    ]


def test_data_lines_join_and_the_default_type_is_message() -> None:
    stream = ["data: first", "data:second", "", ""]

    assert list(parse(stream)) == [Event("message", "first\nsecond", None)]


def test_comments_and_unknown_fields_are_skipped() -> None:
    stream = [": keep-alive", "retry: 1000", "whatever: x", "data: x", ""]

    assert list(parse(stream)) == [Event("message", "x", None)]


def test_an_unfinished_event_at_the_end_is_dropped() -> None:
    assert list(parse(["id: 5", "event: pod", "data: {}"])) == []

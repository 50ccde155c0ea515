"""GetPodLogs' REST answer built as JSON chunks reads exactly as the transcoder printed the
GetPodLogsResponse (proto field names, zero values printed), whatever the logs hold and
wherever a slice boundary falls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

import pytest
from google.protobuf import json_format

from services.api.transport.convert import envelope
from services.api.transport.logs_body import JSON_CONTENT_TYPE, logs_bodies, logs_json_chunks
from services.common.generated.pods.v1 import pod_pb2
from services.common.generated.pods.v1 import pods_service_pb2 as pb

TRICKY = 'plain "quoted" back\\slash\ttab\nnewline \x01\x1f ctl é ü 漢字 🙂 </script> \u2028 end'
MESSAGE = "Logs of pod 'p1'."
T = TypeVar("T")


async def pieces_of(logs: str, size: int) -> AsyncIterator[str]:
    """The logs as the database hands them over: pieces of `size` characters."""
    for start in range(0, len(logs), size):
        yield logs[start : start + size]


def collect(items: AsyncIterator[T]) -> list[T]:
    async def gather() -> list[T]:
        return [item async for item in items]

    return asyncio.run(gather())


def chunks(
    logs: str, action_logs: Iterable[str], slice_characters: int, piece: int = 5
) -> list[bytes]:
    return collect(
        logs_json_chunks(pieces_of(logs, piece), list(action_logs), MESSAGE, slice_characters)
    )


def as_transcoded(logs: str, action_logs: list[str]) -> object:
    """What Envoy's transcoder printed for the unary GetPodLogs, parsed."""
    response = pb.GetPodLogsResponse(
        result=pod_pb2.PodLogs(logs=logs, action_logs=action_logs), **envelope(MESSAGE)
    )
    printed = json_format.MessageToJson(
        response, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return json.loads(printed)


@pytest.mark.parametrize("piece", [1, 4, 10_000])
@pytest.mark.parametrize("slice_characters", [1, 3, 7, 1024])
@pytest.mark.parametrize("logs", ["", "x", TRICKY, TRICKY * 50])
def test_the_joined_chunks_parse_to_the_transcoders_answer(
    logs: str, slice_characters: int, piece: int
) -> None:
    action_logs = ["2026-12-07T07:00:00Z created", 'with "quotes" and é']
    joined = b"".join(chunks(logs, action_logs, slice_characters, piece))
    assert json.loads(joined) == as_transcoded(logs, action_logs)


def test_big_logs_come_in_bounded_slices() -> None:
    logs = "a" * 1_000_000
    sent = chunks(logs, [], slice_characters=65536, piece=500_000)
    assert len(sent) == 2 + 2 * 8  # head, ceil(5e5 / 65536) slices of each piece, tail
    assert max(len(chunk) for chunk in sent) == 65536


def test_only_the_first_body_carries_the_content_type() -> None:
    bodies = collect(logs_bodies(pieces_of("some output", 4), ["created"], MESSAGE))
    assert bodies[0].content_type == JSON_CONTENT_TYPE
    assert all(body.content_type == "" for body in bodies[1:])
    assert json.loads(b"".join(body.data for body in bodies)) == as_transcoded(
        "some output", ["created"]
    )

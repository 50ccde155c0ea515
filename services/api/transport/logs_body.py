"""GetPodLogs' REST answer built by the API as JSON bytes, in chunks: the Tapis envelope the
transcoder prints for GetPodLogsResponse (`{"result": {"logs": ..., "action_logs": [...]},
"status": "success", ...}`), so that megabytes of logs pass Envoy as google.api.HttpBody
chunks instead of being JSON-printed by its transcoder (which buffered the whole reply and
spent about 4 times the API's CPU escaping it).

Pure; called by watch_servicer.PodStreamsServicer.StreamPodLogs for `GET
/v3/pods/{pod_id}/logs` without `follow`, with the logs as pieces read from the database a
batch at a time (domain/log_pieces.py), so neither the logs nor the body is ever whole here.
tests/unit/api/test_logs_body.py checks that the joined chunks parse to what the transcoder
printed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Sequence

from google.api import httpbody_pb2

from services.api.transport.convert import envelope

JSON_CONTENT_TYPE = "application/json"
SLICE_CHARACTERS = 256 * 1024  # characters of logs escaped per chunk


def _text(value: str) -> bytes:
    """`value` as a JSON string without its quotes: UTF-8, control characters escaped."""
    return json.dumps(value, ensure_ascii=False)[1:-1].encode()


async def logs_json_chunks(
    pieces: AsyncIterable[str],
    action_logs: Sequence[str],
    message: str,
    slice_characters: int = SLICE_CHARACTERS,
) -> AsyncIterator[bytes]:
    """The envelope's bytes: a head, the logs escaped `slice_characters` at a time as the
    pieces come, a tail."""
    fields = envelope(message)
    tail = {key: value for key, value in fields.items() if key != "metadata"}
    yield b'{"result":{"logs":"'
    async for piece in pieces:
        for start in range(0, len(piece), slice_characters):
            yield _text(piece[start : start + slice_characters])
    yield (
        b'","action_logs":'
        + json.dumps(list(action_logs), ensure_ascii=False).encode()
        + b"},"
        + json.dumps(tail, ensure_ascii=False).encode()[1:-1]
        + b',"metadata":{}}'
    )


async def logs_bodies(
    pieces: AsyncIterable[str], action_logs: Sequence[str], message: str
) -> AsyncIterator[httpbody_pb2.HttpBody]:
    """The chunks as HttpBody messages; the first one carries the content type."""
    first = True
    async for data in logs_json_chunks(pieces, action_logs, message):
        if data:
            yield httpbody_pb2.HttpBody(content_type=JSON_CONTENT_TYPE if first else "", data=data)
            first = False

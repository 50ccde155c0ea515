"""The runtime's wire mappings (services/common/runtime/wire.py): containers, log chunks and
events survive the round trip exactly, absent values included, and errors map to status codes
and back (a code of a spawner that did not answer is a TemporaryError)."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime import wire
from services.common.runtime.types import ContainerState, LogChunk, Phase, PodKey, RuntimeEvent

KEY = PodKey("dev", "web1")


@pytest.mark.parametrize(
    "state",
    [
        ContainerState(KEY, "c", Phase.CREATED),
        ContainerState(
            KEY,
            "c",
            Phase.RUNNING,
            spec_hash="abc",
            started_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
            published={5000: 40001, 6000: 40002},
            run=3,
        ),
        ContainerState(
            KEY,
            "c",
            Phase.EXITED,
            exit_code=0,
            error="out of memory",
            started_at=datetime(2026, 1, 2, tzinfo=UTC),
            finished_at=datetime(2026, 1, 3, tzinfo=UTC),
        ),
    ],
)
def test_a_container_state_survives_the_round_trip(state: ContainerState) -> None:
    assert wire.container_from_pb(wire.container_to_pb(state)) == state


def test_log_chunks_and_events_survive_the_round_trip() -> None:
    chunk = LogChunk(text="é\n", cursor="2026-01-01T00:00:00.000000001Z")
    assert wire.logs_from_pb(wire.logs_to_pb(chunk)) == chunk
    event = RuntimeEvent(KEY, "die")
    assert wire.event_from_pb(wire.event_to_pb(event)) == event


def test_errors_map_to_codes_and_back() -> None:
    assert wire.code_for(PermanentError("x")) == grpc.StatusCode.FAILED_PRECONDITION
    assert wire.code_for(TemporaryError("x")) == grpc.StatusCode.UNAVAILABLE
    assert wire.code_for(RuntimeError("a bug")) is None
    permanent = wire.error_for(grpc.StatusCode.FAILED_PRECONDITION, "bad cursor")
    assert isinstance(permanent, PermanentError) and str(permanent) == "bad cursor"
    temporary = wire.error_for(grpc.StatusCode.UNAVAILABLE, "engine gone")
    assert isinstance(temporary, TemporaryError) and str(temporary) == "spawner: engine gone"
    for code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL):
        other = wire.error_for(code, None)
        assert isinstance(other, TemporaryError)
        assert str(other) == f"the spawner did not answer: {code.name}"

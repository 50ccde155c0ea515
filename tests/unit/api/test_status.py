"""transport/status.py: a database outage leaves as UNAVAILABLE with the store's own clear
message; other temporary errors keep their prefix; unexpected errors are INTERNAL without
details. (Through the real stack: tests/faults/test_postgres_outage.py.)"""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from services.api.transport.status import abort
from services.common.outcomes import DatabaseUnavailableError, TemporaryError


class Aborted(Exception):
    pass


class FakeContext:
    """Records the status a servicer aborts with (our own test double)."""

    code: grpc.StatusCode | None = None
    details: str = ""

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.code, self.details = code, details
        raise Aborted


async def _abort_with(error: Exception) -> FakeContext:
    context = FakeContext()
    with pytest.raises(Aborted):
        await abort(context, error)  # type: ignore[arg-type]
    return context


async def test_a_database_outage_is_unavailable_with_a_clear_message() -> None:
    context = await _abort_with(DatabaseUnavailableError("it refuses connections"))
    assert context.code is grpc.StatusCode.UNAVAILABLE
    assert context.details == (
        "the database is unavailable (it refuses connections); try again shortly"
    )


async def test_other_temporary_errors_are_unavailable_too() -> None:
    context = await _abort_with(TemporaryError("the message bus is not connected"))
    assert context.code is grpc.StatusCode.UNAVAILABLE
    assert "message bus" in context.details


async def test_an_unexpected_error_is_internal_without_its_text() -> None:
    secret: Any = RuntimeError("password=hunter2")
    context = await _abort_with(secret)
    assert context.code is grpc.StatusCode.INTERNAL
    assert "hunter2" not in context.details

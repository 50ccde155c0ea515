"""FakeRuntime's own test hooks (services/common/runtime/fake.py). That it behaves as
DockerRuntime does is tests/contract/test_runtime_contract.py's job: the same cases on both."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.fake import FakeRuntime, ticking_clock
from services.common.runtime.types import (
    ContainerSpec,
    LogChunk,
    Phase,
    PodKey,
    PortSpec,
)

KEY = PodKey("dev", "web1")
OTHER = PodKey("dev", "web2")
SPEC = ContainerSpec(
    key=KEY,
    image="pods-http:latest",
    ports=(
        PortSpec(name="web", port=5000, protocol="http"),
        PortSpec(name="side", port=6000, protocol="local_only"),
    ),
)


@pytest.fixture
def fake() -> FakeRuntime:
    return FakeRuntime("local")


class TestEnsure:
    async def test_created_but_never_started_is_started(self, fake: FakeRuntime) -> None:
        assert fake.add_created(SPEC).phase is Phase.CREATED
        result = await fake.ensure(SPEC)
        assert (result.action, result.state.phase) == ("started", Phase.RUNNING)

    async def test_planned_failures(self, fake: FakeRuntime) -> None:
        fake.fail_ensure(TemporaryError("engine busy"), times=2)
        fake.fail_ensure(PermanentError("nope"), key=OTHER, times=None)
        for _ in range(2):
            with pytest.raises(TemporaryError):
                await fake.ensure(SPEC)
        assert (await fake.ensure(SPEC)).action == "created"
        for _ in range(3):
            with pytest.raises(PermanentError):
                await fake.ensure(dataclasses.replace(SPEC, key=OTHER))
        fake.clear_failures()
        assert (await fake.ensure(dataclasses.replace(SPEC, key=OTHER))).action == "created"


class TestStateAndRemoval:
    async def test_exit_out_of_memory(self, fake: FakeRuntime) -> None:
        await fake.ensure(SPEC)
        fake.drain_events()
        fake.exit(KEY, 137, oom=True)
        state = await fake.inspect(KEY)
        assert state is not None
        assert (state.phase, state.exit_code, state.error) == (Phase.EXITED, 137, "out of memory")
        assert state.finished_at == datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC)
        assert [e.action for e in fake.drain_events()] == ["oom", "die"]

    async def test_calls_are_recorded(self, fake: FakeRuntime) -> None:
        await fake.ensure(SPEC)
        await fake.inspect(KEY)
        await fake.remove(KEY)
        await fake.list_managed()
        assert fake.calls == [
            ("ensure", KEY),
            ("inspect", KEY),
            ("remove", KEY),
            ("list_managed", None),
        ]

    def test_clock_is_injectable(self) -> None:
        start = datetime(2030, 1, 1, tzinfo=UTC)
        clock = ticking_clock(start, timedelta(minutes=1))
        assert [clock(), clock()] == [start, start + timedelta(minutes=1)]


class TestLogs:
    async def test_absent_container_has_no_logs(self, fake: FakeRuntime) -> None:
        assert await fake.logs_since(KEY, "3", 10) == LogChunk(text="", cursor="3")

    async def test_foreign_cursor_is_permanent(self, fake: FakeRuntime) -> None:
        with pytest.raises(PermanentError):
            await fake.logs_since(KEY, "2026-01-01T00:00:00Z", 10)


class TestWatch:
    async def test_yields_events_in_order_until_broken(self, fake: FakeRuntime) -> None:
        await fake.ensure(SPEC)
        fake.exit(KEY, 0)
        fake.break_watch()
        seen: list[str] = []
        with pytest.raises(TemporaryError):
            async for event in fake.watch():
                seen.append(event.action)
        assert seen == ["start", "die"]  # no create, as on Docker

    async def test_ends_when_cancelled(self, fake: FakeRuntime) -> None:
        async def consume() -> None:
            async for _ in fake.watch():
                pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

"""FakeRuntime's own test hooks (services/common/runtime/fake.py). That it behaves as
DockerRuntime does is tests/contract/test_runtime_contract.py's job: the same cases on both."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.fake import FakeRuntime, ticking_clock
from services.common.runtime.naming import spec_hash, with_hash
from services.common.runtime.types import (
    ContainerSpec,
    LogChunk,
    Phase,
    PodKey,
    PortSpec,
    RuntimeEvent,
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
    async def test_creates_a_running_container_with_loopback_ports(self, fake: FakeRuntime) -> None:
        result = await fake.ensure(SPEC)
        assert result.action == "created"
        state = result.state
        assert (state.name, state.phase, state.spec_hash) == (
            "pods-local-dev-web1",
            Phase.RUNNING,
            spec_hash(SPEC),
        )
        assert state.published == {5000: 40000}
        assert state.started_at == datetime(2024, 1, 1, tzinfo=UTC)
        assert fake.drain_events() == [RuntimeEvent(KEY, "create"), RuntimeEvent(KEY, "start")]

    async def test_second_ensure_adopts(self, fake: FakeRuntime) -> None:
        first = await fake.ensure(SPEC)
        second = await fake.ensure(with_hash(SPEC))
        assert second.action == "adopted"
        assert second.state == first.state
        assert len(await fake.list_managed()) == 1

    async def test_created_but_never_started_is_started(self, fake: FakeRuntime) -> None:
        assert fake.add_created(SPEC).phase is Phase.CREATED
        result = await fake.ensure(SPEC)
        assert (result.action, result.state.phase) == ("started", Phase.RUNNING)

    async def test_exited_container_is_adopted_not_restarted(self, fake: FakeRuntime) -> None:
        await fake.ensure(SPEC)
        fake.exit(KEY, 3)
        result = await fake.ensure(SPEC)
        assert (result.action, result.state.phase, result.state.exit_code) == (
            "adopted",
            Phase.EXITED,
            3,
        )
        assert result.state.published == {}

    async def test_changed_spec_replaces(self, fake: FakeRuntime) -> None:
        await fake.ensure(SPEC)
        fake.drain_events()
        changed = dataclasses.replace(SPEC, environment={"A": "1"})
        result = await fake.ensure(changed)
        assert (result.action, result.state.spec_hash) == ("replaced", spec_hash(changed))
        assert [e.action for e in fake.drain_events()] == ["die", "destroy", "create", "start"]

    async def test_foreign_name_is_permanent(self, fake: FakeRuntime) -> None:
        fake.add_foreign(KEY)
        with pytest.raises(PermanentError, match="did not create"):
            await fake.ensure(SPEC)

    async def test_missing_image_is_permanent(self, fake: FakeRuntime) -> None:
        fake.missing_images.add("pods-http:latest")
        with pytest.raises(PermanentError, match="not available"):
            await fake.ensure(SPEC)
        assert await fake.inspect(KEY) is None

    async def test_invalid_key_is_permanent(self, fake: FakeRuntime) -> None:
        with pytest.raises(PermanentError):
            await fake.ensure(ContainerSpec(key=PodKey("dev", "Bad-Id"), image="x"))

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

    async def test_remove_twice(self, fake: FakeRuntime) -> None:
        await fake.ensure(SPEC)
        assert await fake.remove(KEY) is True
        assert await fake.remove(KEY) is False
        assert await fake.inspect(KEY) is None

    async def test_list_managed_is_ordered_by_key(self, fake: FakeRuntime) -> None:
        await fake.ensure(dataclasses.replace(SPEC, key=OTHER))
        await fake.ensure(SPEC)
        assert [s.key for s in await fake.list_managed()] == [KEY, OTHER]

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
    async def test_reads_only_new_lines(self, fake: FakeRuntime) -> None:
        await fake.ensure(SPEC)
        fake.write_logs(KEY, "one\ntwo\n")
        first = await fake.logs_since(KEY, "", 1000)
        assert first.text == "one\ntwo\n"
        again = await fake.logs_since(KEY, first.cursor, 1000)
        assert (again.text, again.cursor) == ("", first.cursor)
        fake.write_logs(KEY, "three\n")
        assert (await fake.logs_since(KEY, first.cursor, 1000)).text == "three\n"

    async def test_limit_keeps_the_last_whole_lines(self, fake: FakeRuntime) -> None:
        await fake.ensure(SPEC)
        fake.write_logs(KEY, "".join(f"line{i}\n" for i in range(10)))
        chunk = await fake.logs_since(KEY, "", 14)
        assert chunk.text == "line8\nline9\n"
        assert (await fake.logs_since(KEY, chunk.cursor, 14)).text == ""

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
        assert seen == ["create", "start", "die"]

    async def test_ends_when_cancelled(self, fake: FakeRuntime) -> None:
        async def consume() -> None:
            async for _ in fake.watch():
                pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

"""The RuntimeObserver contract (services/health/ports.py): one set of cases run against
FakeRuntime itself and against health's RemoteRuntimeObserver talking over a real grpc.aio
channel to the spawner's SpawnerServicer wrapping that FakeRuntime ([fake] and [remote]), so
that health sees through the spawner exactly what it saw of the runtime: inspect, list_managed,
logs_since and watch, their values (timestamps, exit codes, published ports included) and
their errors (TemporaryError, PermanentError).

Containers are made through the FakeRuntime (ensure and its test hooks) in both cases."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import cast

import grpc
import pytest

from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.fake import FakeRuntime
from services.common.runtime.types import (
    ContainerSpec,
    LogChunk,
    Phase,
    PodKey,
    PortSpec,
    RuntimeEvent,
)
from services.common.storage.fake import FakeVolumeStore
from services.health.ports import RuntimeObserver
from services.health.remote_runtime import RemoteRuntimeObserver
from services.spawner.exec_limits import ExecAdmission, ExecLimits
from services.spawner.reconcile import Reconciler
from services.spawner.server import SpawnerServicer

KEY = PodKey("dev", "web1")
OTHER = PodKey("dev", "web2")
DEADLINE_S = 10.0


def spec(key: PodKey = KEY) -> ContainerSpec:
    return ContainerSpec(
        key=key,
        image="pods-http:latest",
        ports=(
            PortSpec(name="web", port=5000, protocol="http"),
            PortSpec(name="side", port=6000, protocol="local_only"),
        ),
    )


@dataclass
class Driver:
    """The runtime the cases act on, and the observer under test."""

    runtime: FakeRuntime
    observer: RuntimeObserver


async def serve(runtime: FakeRuntime) -> tuple[grpc.aio.Server, str]:
    """The spawner's servicer over `runtime` on a free loopback port."""
    servicer = SpawnerServicer(
        cast(Reconciler, None),
        runtime,
        ExecAdmission(ExecLimits(per_pod=1, per_user=1, total=1)),
        FakeVolumeStore("local"),
    )
    server = grpc.aio.server()
    pb_grpc.add_SpawnerServiceServicer_to_server(servicer, server)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server, f"127.0.0.1:{port}"


@pytest.fixture(params=["fake", "remote"])
async def driver(request: pytest.FixtureRequest) -> AsyncIterator[Driver]:
    runtime = FakeRuntime("local")
    if request.param == "fake":
        yield Driver(runtime, runtime)
        return
    server, address = await serve(runtime)
    remote = RemoteRuntimeObserver(address)
    try:
        yield Driver(runtime, remote)
    finally:
        await remote.close()
        await server.stop(None)


# --- inspect and list_managed ---------------------------------------------------------------


async def test_inspect_reports_the_state_the_runtime_holds(driver: Driver) -> None:
    assert await driver.observer.inspect(KEY) is None
    made = (await driver.runtime.ensure(spec())).state
    state = await driver.observer.inspect(KEY)
    assert state == made
    assert state is not None and state.phase is Phase.RUNNING
    assert state.started_at is not None and state.started_at.tzinfo is not None
    assert state.finished_at is None and state.exit_code is None
    assert dict(state.published) == {5000: made.published[5000]}


async def test_inspect_reports_an_exit_with_its_code_and_error(driver: Driver) -> None:
    await driver.runtime.ensure(spec())
    driver.runtime.exit(KEY, 137, oom=True)
    state = await driver.observer.inspect(KEY)
    assert state == await driver.runtime.inspect(KEY)
    assert state is not None
    assert (state.phase, state.exit_code, state.error) == (Phase.EXITED, 137, "out of memory")
    assert state.finished_at is not None and dict(state.published) == {}


async def test_an_exit_code_of_zero_is_not_lost(driver: Driver) -> None:
    await driver.runtime.ensure(spec())
    driver.runtime.exit(KEY, 0)
    state = await driver.observer.inspect(KEY)
    assert state is not None and state.exit_code == 0


async def test_a_created_container_has_no_start_time(driver: Driver) -> None:
    driver.runtime.add_created(spec())
    state = await driver.observer.inspect(KEY)
    assert state is not None
    assert (state.phase, state.started_at, state.spec_hash != "") == (Phase.CREATED, None, True)


async def test_list_managed_holds_every_container_ordered_by_key(driver: Driver) -> None:
    assert await driver.observer.list_managed() == []
    await driver.runtime.ensure(spec(OTHER))
    await driver.runtime.ensure(spec(KEY))
    driver.runtime.exit(OTHER, 1)
    states = await driver.observer.list_managed()
    assert states == await driver.runtime.list_managed()
    assert [(s.key, s.phase) for s in states] == [(KEY, Phase.RUNNING), (OTHER, Phase.EXITED)]


# --- logs -----------------------------------------------------------------------------------


async def test_logs_since_reads_only_what_is_new(driver: Driver) -> None:
    observer = driver.observer
    assert await observer.logs_since(KEY, "", 100) == LogChunk(text="", cursor="")
    await driver.runtime.ensure(spec())
    driver.runtime.write_logs(KEY, "one\ntwo\n")
    first = await observer.logs_since(KEY, "", 100)
    assert first.text == "one\ntwo\n" and first.cursor
    assert await observer.logs_since(KEY, first.cursor, 100) == LogChunk("", first.cursor)
    driver.runtime.write_logs(KEY, "three ✓\n")
    assert (await observer.logs_since(KEY, first.cursor, 100)).text == "three ✓\n"


async def test_logs_since_keeps_the_last_whole_lines_within_the_limit(driver: Driver) -> None:
    await driver.runtime.ensure(spec())
    driver.runtime.write_logs(KEY, "".join(f"line{i}\n" for i in range(10)))
    chunk = await driver.observer.logs_since(KEY, "", 14)
    assert chunk.text == "line8\nline9\n"
    assert (await driver.observer.logs_since(KEY, chunk.cursor, 14)).text == ""


async def test_a_permanent_error_stays_permanent(driver: Driver) -> None:
    await driver.runtime.ensure(spec())
    with pytest.raises(PermanentError, match="was not made by this runtime"):
        await driver.observer.logs_since(KEY, "not-a-cursor", 100)


# --- watch ----------------------------------------------------------------------------------


async def collect(driver: Driver, until: RuntimeEvent) -> list[RuntimeEvent]:
    seen: list[RuntimeEvent] = []
    events = cast(AsyncGenerator[RuntimeEvent, None], driver.observer.watch())
    async with contextlib.aclosing(events), asyncio.timeout(DEADLINE_S):
        async for event in events:
            seen.append(event)
            if event == until:
                return seen
    raise AssertionError("the stream ended")


async def test_watch_reports_start_and_die_in_order(driver: Driver) -> None:
    await driver.runtime.ensure(spec())
    driver.runtime.exit(KEY, 0)
    seen = await collect(driver, RuntimeEvent(KEY, "die"))
    assert [e.action for e in seen] == ["start", "die"]
    assert {e.key for e in seen} == {KEY}


async def test_watch_raises_a_temporary_error_when_the_runtime_leaves(driver: Driver) -> None:
    driver.runtime.break_watch(TemporaryError("the engine went away"))
    with pytest.raises(TemporaryError, match="the engine went away"):
        await collect(driver, RuntimeEvent(KEY, "never"))
    await driver.runtime.ensure(spec())  # a new watch follows again
    assert (await collect(driver, RuntimeEvent(KEY, "start")))[-1].action == "start"

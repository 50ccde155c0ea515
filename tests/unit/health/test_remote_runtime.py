"""Health's RemoteRuntimeObserver against the spawner's real SpawnerServicer over a real
grpc.aio server and channel, with the FakeRuntime behind it: a spawner that does not answer
and an engine in trouble are TemporaryErrors; the event stream ends with one when the spawner
goes away, a cancelled stream leaves no subscription behind in the spawner, a stream reopens
itself after its span; and the watcher, following events through the spawner, reconnects
when the spawner restarts and records what happened. SQLite store for the watcher."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from typing import cast

import grpc
import pytest

from services.common.db.database import Repositories
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.outcomes import TemporaryError
from services.common.pods_model import PodRecord, PodSpec, Status
from services.common.runtime.fake import FakeRuntime
from services.common.runtime.naming import with_hash
from services.common.runtime.types import ContainerSpec, ContainerState, PodKey, RuntimeEvent
from services.common.storage.fake import FakeVolumeStore
from services.health import remote_runtime
from services.health.remote_runtime import RemoteRuntimeObserver
from services.health.watcher import Watcher
from services.spawner.exec_limits import ExecAdmission, ExecLimits
from services.spawner.reconcile import Reconciler
from services.spawner.server import SpawnerServicer

KEY = PodKey("dev", "web1")
START = datetime(2026, 11, 28, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Spawner:
    """The spawner's servicer over a FakeRuntime on a fixed port, stopped and started at will."""

    def __init__(self, runtime: FakeRuntime) -> None:
        self.runtime = runtime
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.server: grpc.aio.Server | None = None

    async def start(self) -> None:
        servicer = SpawnerServicer(
            cast(Reconciler, None),
            self.runtime,
            ExecAdmission(ExecLimits(per_pod=1, per_user=1, total=1)),
            FakeVolumeStore("local"),
        )
        self.server = grpc.aio.server()
        pb_grpc.add_SpawnerServiceServicer_to_server(servicer, self.server)
        self.server.add_insecure_port(self.address)
        await self.server.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(None)
            self.server = None


@pytest.fixture
async def spawner() -> AsyncIterator[Spawner]:
    running = Spawner(FakeRuntime("test"))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def observer(spawner: Spawner) -> AsyncIterator[RemoteRuntimeObserver]:
    remote = RemoteRuntimeObserver(spawner.address)
    try:
        yield remote
    finally:
        await remote.close()


def events_of(observer: RemoteRuntimeObserver) -> AsyncGenerator[RuntimeEvent, None]:
    return cast(AsyncGenerator[RuntimeEvent, None], observer.watch())


async def test_a_spawner_that_does_not_answer_is_a_temporary_error() -> None:
    remote = RemoteRuntimeObserver(f"127.0.0.1:{free_port()}")
    try:
        with pytest.raises(TemporaryError, match=r"spawner: .*connect"):
            await remote.inspect(KEY)
        with pytest.raises(TemporaryError, match=r"spawner: .*connect"):
            await remote.list_managed()
        with pytest.raises(TemporaryError, match=r"spawner: .*connect"):
            await remote.logs_since(KEY, "", 100)
        with pytest.raises(TemporaryError, match=r"spawner: .*connect"):
            await anext(remote.watch())
    finally:
        await remote.close()


async def test_an_engine_error_in_the_spawner_is_a_temporary_error(
    spawner: Spawner, observer: RemoteRuntimeObserver, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def engine_gone(key: PodKey) -> ContainerState | None:
        raise TemporaryError("the Docker engine did not answer")

    async def bug() -> list[ContainerState]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(spawner.runtime, "inspect", engine_gone)
    monkeypatch.setattr(spawner.runtime, "list_managed", bug)
    with pytest.raises(TemporaryError, match=r"^spawner: the Docker engine did not answer$"):
        await observer.inspect(KEY)
    with pytest.raises(TemporaryError, match="did not answer: observing the runtime failed"):
        await observer.list_managed()


async def test_the_event_stream_ends_with_a_temporary_error_when_the_spawner_goes_away(
    spawner: Spawner, observer: RemoteRuntimeObserver
) -> None:
    events = events_of(observer)
    async with contextlib.aclosing(events):
        waiting = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.2)
        await spawner.stop()
        with pytest.raises(TemporaryError):
            await asyncio.wait_for(waiting, 5)


async def test_a_cancelled_stream_leaves_no_subscription_in_the_spawner(
    spawner: Spawner, observer: RemoteRuntimeObserver
) -> None:
    first = events_of(observer)
    waiting = asyncio.ensure_future(anext(first))
    await asyncio.sleep(0.2)
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    await first.aclose()
    await asyncio.sleep(0.2)  # the spawner sees the cancellation
    second = events_of(observer)
    async with contextlib.aclosing(second):
        spawner.runtime.emit(RuntimeEvent(KEY, "start"))
        assert await asyncio.wait_for(anext(second), 5) == RuntimeEvent(KEY, "start")


async def test_a_stream_reopens_itself_after_its_span(
    spawner: Spawner, observer: RemoteRuntimeObserver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote_runtime, "WATCH_SPAN", 0.2)
    events = events_of(observer)
    async with contextlib.aclosing(events):
        waiting = asyncio.ensure_future(anext(events))
        await asyncio.sleep(1.0)  # several spans
        assert not waiting.done()
        spawner.runtime.emit(RuntimeEvent(KEY, "die"))
        assert await asyncio.wait_for(waiting, 5) == RuntimeEvent(KEY, "die")
    assert [c for c in spawner.runtime.calls if c[0] == "watch"][1:], "streams were reopened"


class Notifier:
    async def request_reconcile(self, key: PodKey, reason: str) -> None:
        pass

    async def status_changed(self, record: PodRecord, status: Status) -> None:
        pass


async def test_the_watcher_follows_events_again_after_the_spawner_restarts(
    store: Repositories, spawner: Spawner, observer: RemoteRuntimeObserver
) -> None:
    watcher = Watcher(
        store=store,
        runtime=observer,
        notifier=Notifier(),
        clock=lambda: START,
        resync_interval=3600,  # only events can make the watcher look at the pod
        probe_interval=3600,
        probe_interval_max=3600,
        drift_grace=3600,
        log_limit_bytes=1000,
    )
    await store.pods.create_pod(
        KEY, owner="alice", spec=PodSpec(image="img"), credentials_encrypted=None, now=START
    )
    await store.pod_state.mark_applied(KEY, 1, "created", START)
    running = asyncio.create_task(watcher.run())
    try:
        await asyncio.sleep(0.5)  # the first resync has run; the stream is open
        await spawner.stop()
        await asyncio.sleep(0.3)
        await spawner.start()
        await spawner.runtime.ensure(with_hash(ContainerSpec(key=KEY, image="img")))
        spawner.runtime.write_logs(KEY, "hello\n")
        async with asyncio.timeout(15):
            while True:
                pod = await store.pods.get_pod(KEY)
                assert pod is not None
                if pod.status is Status.AVAILABLE and await store.logs.read_logs(KEY, 100):
                    break
                await asyncio.sleep(0.05)
        assert await store.logs.read_logs(KEY, 100) == "hello\n"
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

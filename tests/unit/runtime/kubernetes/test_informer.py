"""PodInformer against FakeKubeApi with a fake clock and sleep: list then watch from the list's
version, resumption after the server ends a watch, periodic relists that announce what was
missed, 410 Gone, capped exponential backoff, and the runtime reading the cache."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from services.common.runtime.kubernetes.names import deployment_selector
from services.common.runtime.naming import with_hash
from services.common.runtime.types import ContainerSpec, PodKey, RuntimeEvent
from services.spawner.platforms.kubernetes.api import Gone, KubeError
from services.spawner.platforms.kubernetes.config import InformerTiming, KubernetesConfig
from services.spawner.platforms.kubernetes.informer import PodChange, PodInformer
from services.spawner.platforms.kubernetes.manifests import pod_manifest
from services.spawner.platforms.kubernetes.runtime import KubernetesRuntime

from .fake_api import FakeKubeApi

SELECTOR = deployment_selector("prod")
TIMING = InformerTiming(relist_interval=60, watch_timeout=30, backoff_initial=0.5, backoff_max=4)
CONFIG = KubernetesConfig(namespace="pods", informer=TIMING)


class FakeTime:
    """A monotonic clock the test moves, and a sleep that only records and moves it. While
    `hold` is set, sleeping waits for the test to release it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.hold = False
        self._release = asyncio.Event()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.hold:
            await self._release.wait()
            self._release.clear()
        self.now += seconds
        await asyncio.sleep(0)

    def release(self) -> None:
        self._release.set()


def pod(pod_id: str, deployment: str = "prod") -> dict[str, Any]:
    spec = with_hash(ContainerSpec(key=PodKey("dev", pod_id), image="pods-http:latest"))
    return pod_manifest(deployment, spec, CONFIG)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def running(informer: PodInformer) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(informer.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def api() -> FakeKubeApi:
    return FakeKubeApi()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def informer(api: FakeKubeApi, fake_time: FakeTime) -> PodInformer:
    return PodInformer(api, SELECTOR, TIMING, clock=fake_time.clock, sleep=fake_time.sleep)


def drain(queue: asyncio.Queue[PodChange]) -> list[tuple[str, str]]:
    changes = []
    while not queue.empty():
        change = queue.get_nowait()
        changes.append((change.action, change.pod["metadata"]["name"]))
    return changes


async def test_lists_then_watches_from_the_lists_version(
    api: FakeKubeApi, informer: PodInformer
) -> None:
    api.add_object("pods", pod("abc"))
    api.add_object("pods", pod("xyz", deployment="other"))
    listed_at = api.version
    async with running(informer):
        await until(lambda: bool(api.open_watches()))
        assert informer.synced
        assert [p["metadata"]["name"] for p in informer.pods()] == ["pods-prod-dev-abc"]
        assert api.calls == [("list_pods", "pods"), ("watch_pods", "pods")]
        assert api.open_watches()[0].after == listed_at


async def test_watch_events_update_the_cache_and_are_announced(
    api: FakeKubeApi, informer: PodInformer
) -> None:
    queue = informer.subscribe()
    async with running(informer):
        await until(lambda: bool(api.open_watches()))
        api.add_object("pods", pod("abc"))
        api.set_status("pods-prod-dev-abc", {"phase": "Running"})
        await until(lambda: queue.qsize() == 2)
        assert informer.get("pods-prod-dev-abc")["status"] == {"phase": "Running"}  # type: ignore[index]
        api.delete("pods", "pods-prod-dev-abc")
        await until(lambda: informer.get("pods-prod-dev-abc") is None)
        assert drain(queue) == [
            ("create", "pods-prod-dev-abc"),
            ("update", "pods-prod-dev-abc"),
            ("destroy", "pods-prod-dev-abc"),
        ]


async def test_a_watch_ended_by_the_server_resumes_from_the_last_version(
    api: FakeKubeApi, informer: PodInformer
) -> None:
    async with running(informer):
        await until(lambda: bool(api.open_watches()))
        api.add_object("pods", pod("abc"))
        await until(lambda: informer.get("pods-prod-dev-abc") is not None)
        seen = api.version
        api.end_watches()
        await until(lambda: bool(api.open_watches()))
        assert api.open_watches()[0].after == seen
        assert api.calls.count(("list_pods", "pods")) == 1  # no relist


async def test_a_relist_after_the_interval_announces_what_the_watch_missed(
    api: FakeKubeApi, informer: PodInformer, fake_time: FakeTime
) -> None:
    api.add_object("pods", pod("gone"))
    api.add_object("pods", pod("kept"))
    queue = informer.subscribe()
    async with running(informer):
        await until(lambda: bool(api.open_watches()))
        # The watch breaks; while the informer waits, the cluster changes.
        fake_time.hold = True
        api.break_watches(KubeError(None, "Unreachable", "connection reset"))
        await until(lambda: len(fake_time.sleeps) == 1)
        assert not informer.synced
        with api._changed:  # changes the informer cannot see in any watch
            api.history.clear()
        api.delete("pods", "pods-prod-dev-gone")
        api.set_status("pods-prod-dev-kept", {"phase": "Running"})
        api.add_object("pods", pod("new"))
        with api._changed:
            api.history.clear()
        fake_time.release()
        await until(lambda: informer.synced and bool(api.open_watches()))
        assert sorted(drain(queue)) == [
            ("create", "pods-prod-dev-new"),
            ("destroy", "pods-prod-dev-gone"),
            ("update", "pods-prod-dev-kept"),
        ]
        # The periodic relist: due after relist_interval even when all works.
        lists = api.calls.count(("list_pods", "pods"))
        fake_time.now += TIMING.relist_interval + 1
        api.end_watches()
        await until(lambda: api.calls.count(("list_pods", "pods")) == lists + 1)


async def test_the_watch_timeout_never_overshoots_the_relist(
    api: FakeKubeApi, informer: PodInformer, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeouts: list[int] = []
    real_watch = api.watch_pods

    def watch(selector: str, version: str, timeout: int) -> Any:
        timeouts.append(timeout)
        return real_watch(selector, version, timeout)

    monkeypatch.setattr(api, "watch_pods", watch)
    async with running(informer):
        await until(lambda: bool(api.open_watches()))
        fake_time.now += 45
        api.end_watches()
        await until(lambda: len(timeouts) == 2)
    assert timeouts == [30, 15]


async def test_410_gone_relists_at_once(
    api: FakeKubeApi, informer: PodInformer, fake_time: FakeTime
) -> None:
    async with running(informer):
        await until(lambda: bool(api.open_watches()))
        api.add_object("pods", pod("abc"))
        await until(lambda: informer.get("pods-prod-dev-abc") is not None)
        api.break_watches(Gone(410, "Expired", "too old resource version"))
        await until(lambda: api.calls.count(("list_pods", "pods")) == 2)
        await until(lambda: informer.synced and bool(api.open_watches()))
        assert fake_time.sleeps == []


async def test_failures_back_off_exponentially_up_to_the_cap(
    api: FakeKubeApi, informer: PodInformer, fake_time: FakeTime
) -> None:
    api.fail("list_pods", KubeError(503, "ServiceUnavailable", "etcd"), times=6)
    async with running(informer):
        await until(lambda: informer.synced and bool(api.open_watches()))
        assert fake_time.sleeps == [0.5, 1, 2, 4, 4, 4]
        # A watch that worked resets the backoff.
        api.add_object("pods", pod("abc"))
        await until(lambda: informer.get("pods-prod-dev-abc") is not None)
        api.break_watches(KubeError(500, "InternalError", "oops"))
        await until(lambda: len(fake_time.sleeps) == 7)
        assert fake_time.sleeps[-1] == 0.5


async def test_the_runtime_reads_the_cache_while_it_is_synced(
    api: FakeKubeApi, fake_time: FakeTime
) -> None:
    runtime = KubernetesRuntime("prod", CONFIG, api, clock=fake_time.clock, sleep=fake_time.sleep)
    spec = with_hash(ContainerSpec(key=PodKey("dev", "abc"), image="pods-http:latest"))
    await runtime.ensure(spec)
    events = runtime.watch()
    first = asyncio.ensure_future(anext(events))
    try:
        await until(lambda: bool(api.open_watches()))
        api.calls.clear()
        assert (await runtime.inspect(spec.key)) is not None
        assert [s.key for s in await runtime.list_managed()] == [spec.key]
        assert await runtime.inspect(PodKey("dev", "nothere")) is None
        assert api.calls == []  # all from memory
        api.add_object("pods", pod("xyz", deployment="other"))
        api.set_status("pods-prod-dev-abc", {"phase": "Running"})
        assert await asyncio.wait_for(first, 5) == RuntimeEvent(spec.key, "update")
        # Once following fails, reads go to the API again.
        fake_time.hold = True
        api.break_watches(KubeError(None, "Unreachable", "reset"))
        await until(lambda: not runtime._informer.synced)  # type: ignore[union-attr]
        api.calls.clear()
        assert (await runtime.inspect(spec.key)) is not None
        assert api.calls == [("read", "pods")]
        fake_time.release()
    finally:
        await events.aclose()  # type: ignore[attr-defined]
        await runtime.aclose()


async def test_a_watch_opened_from_a_forgotten_version_is_gone_too(
    api: FakeKubeApi, informer: PodInformer, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_list = api.list_pods

    def stale_list(selector: str) -> Any:
        listing = real_list(selector)
        api.add_object("pods", pod("later"))
        api.compact()  # the list's version is already forgotten when the watch opens
        return listing

    monkeypatch.setattr(api, "list_pods", stale_list)
    async with running(informer):
        await until(lambda: len(fake_time.sleeps) >= 2)
    assert fake_time.sleeps[:2] == [0.5, 1]  # Gone again and again: backoff after the first


async def test_a_stopped_cache_is_restarted_by_the_next_watch(api: FakeKubeApi) -> None:
    runtime = KubernetesRuntime("prod", dataclasses.replace(CONFIG), api)
    events = runtime.watch()
    pending = asyncio.ensure_future(anext(events))
    await until(lambda: bool(api.open_watches()))
    task = runtime._informer_task
    assert task is not None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert not runtime._informer.synced  # type: ignore[union-attr]  # no stale reads
    pending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pending
    await events.aclose()  # type: ignore[attr-defined]
    again = runtime.watch()
    pending = asyncio.ensure_future(anext(again))
    await until(lambda: runtime._informer_task is not task and len(api.open_watches()) >= 1)
    pending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pending
    await again.aclose()  # type: ignore[attr-defined]
    await runtime.aclose()


async def test_a_watch_that_ends_at_once_is_not_repeated_in_a_tight_loop(
    api: FakeKubeApi, informer: PodInformer, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_watch = api.watch_pods

    def ends_at_once(selector: str, version: str, timeout: int) -> Any:
        stream = real_watch(selector, version, timeout)
        stream.ended = True
        return stream

    monkeypatch.setattr(api, "watch_pods", ends_at_once)
    async with running(informer):
        await until(lambda: len(fake_time.sleeps) >= 3)
    assert fake_time.sleeps[:3] == [0.5, 1, 2]

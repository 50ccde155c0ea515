"""The Docker runtime's engine calls run on threads of its own, as many at once as it was
given (the spawner's PODS_SPAWNER_CONCURRENCY), not on asyncio's small default pool
(min(32, cores + 4) threads, 6 on a 2-core machine); and each call keeps the calling task's
context. Without a Docker engine: the SDK client is a stand-in whose calls block until all of
them have arrived."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import docker.errors
import pytest

from services.common.runtime.types import PodKey
from services.common.settings import Settings
from services.spawner.platforms.docker.runtime import LIFECYCLE_WORKERS, DockerRuntime
from services.spawner.platforms.factory import runtime_from_settings
from services.spawner.server import engine_check

pytestmark = pytest.mark.timeout(30)
MORE_THAN_ANY_DEFAULT_POOL = 40  # asyncio's default pool has at most 32 threads
CALLER = contextvars.ContextVar("caller", default="")


class RendezvousApi:
    """inspect_container waits until `parties` calls are in it at once (BrokenBarrierError
    after a few seconds otherwise), then answers 404."""

    def __init__(self, parties: int) -> None:
        self._barrier = threading.Barrier(parties, timeout=5)
        self.callers: list[str] = []

    def inspect_container(self, name: str) -> Any:
        self.callers.append(CALLER.get())
        self._barrier.wait()
        raise docker.errors.NotFound(f"no container {name}")


class FakeClient:
    def __init__(self, api: Any) -> None:
        self.api = api


async def test_engine_calls_of_independent_pods_are_all_in_flight_at_once() -> None:
    api = RendezvousApi(MORE_THAN_ANY_DEFAULT_POOL)
    runtime = DockerRuntime("local", FakeClient(api), lifecycle_workers=MORE_THAN_ANY_DEFAULT_POOL)
    try:
        keys = [PodKey("dev", f"pod{n}") for n in range(MORE_THAN_ANY_DEFAULT_POOL)]
        found = await asyncio.wait_for(asyncio.gather(*(runtime.inspect(key) for key in keys)), 20)
    finally:
        runtime.close()
    assert found == [None] * MORE_THAN_ANY_DEFAULT_POOL  # every call got through the barrier


async def test_engine_calls_beyond_the_workers_wait_for_a_free_thread() -> None:
    api = RendezvousApi(3)  # only ever 2 calls at once: the barrier breaks
    runtime = DockerRuntime("local", FakeClient(api), lifecycle_workers=2)
    try:
        results = await asyncio.gather(
            *(runtime.inspect(PodKey("dev", f"pod{n}")) for n in range(3)),
            return_exceptions=True,
        )
    finally:
        runtime.close()
    assert any(isinstance(r, threading.BrokenBarrierError) for r in results)


async def test_an_engine_call_runs_in_the_callers_context() -> None:
    api = RendezvousApi(1)

    async def as_caller(name: str) -> None:
        CALLER.set(name)
        await runtime.inspect(PodKey("dev", name))

    runtime = DockerRuntime("local", FakeClient(api), lifecycle_workers=2)
    try:
        await asyncio.gather(as_caller("a"), as_caller("b"))
    finally:
        runtime.close()
    assert sorted(api.callers) == ["a", "b"]


def test_the_spawner_setting_sizes_the_engine_threads() -> None:
    default = runtime_from_settings(Settings.from_env({"PODS_DEPLOYMENT_ID": "local"}))
    chosen = runtime_from_settings(
        Settings.from_env({"PODS_DEPLOYMENT_ID": "local", "PODS_SPAWNER_CONCURRENCY": "64"})
    )
    assert isinstance(default, DockerRuntime) and isinstance(chosen, DockerRuntime)
    default.close()
    chosen.close()
    assert default.lifecycle_workers == LIFECYCLE_WORKERS == 32
    assert chosen.lifecycle_workers == 64


def test_lifecycle_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="lifecycle_workers"):
        DockerRuntime("local", FakeClient(RendezvousApi(1)), lifecycle_workers=0)


class PingClient(FakeClient):
    def __init__(self) -> None:
        super().__init__(RendezvousApi(1))
        self.pings = 0

    def ping(self) -> bool:
        self.pings += 1
        return True


async def test_the_spawners_health_check_pings_the_engine_instead_of_listing() -> None:
    """Listing inspects every container (hundreds of engine calls every 2 s at hundreds of
    pods); the health check is one /_ping."""
    client = PingClient()
    runtime = DockerRuntime("local", client, lifecycle_workers=2)
    try:
        await engine_check(runtime)()
    finally:
        runtime.close()
    assert client.pings == 1
    assert client.api.callers == []  # no container was inspected


async def test_a_runtime_without_ping_is_checked_by_listing() -> None:
    listed: list[bool] = []

    class Listing:
        async def list_managed(self) -> list[object]:
            listed.append(True)
            return []

    await engine_check(Listing())()  # type: ignore[arg-type]
    assert listed == [True]

"""Health's incremental resync (Watcher.resync_changed): it observes only the pods in
motion and reads new output of running ones; a settled pod whose change no event reported is
left to the full sweep (Watcher.resync), which finds it. In-memory runtime, SQLite store."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

from services.common.db.database import Repositories
from services.common.pods_model import PodSpec, RequestedStatus, Status
from services.common.runtime.types import PodKey
from tests.unit.health.test_watcher import KEY, START, Harness, following_events

OTHER = PodKey("dev", "web2")
RUNTIME_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)  # FakeRuntime's clock starts there


async def available(h: Harness) -> None:
    """Our pod AVAILABLE, the clock at its container's start (FakeRuntime's own clock)."""
    h.clock.now = RUNTIME_EPOCH
    await h.create_pod()
    await h.start_container()
    h.ready = True
    await h.watcher.observe_pod(KEY)
    assert await h.status() is Status.AVAILABLE
    h.runtime.drain_events()


async def test_a_change_no_event_reported_is_found_by_the_full_sweep(
    store: Repositories,
) -> None:
    h = Harness(store)
    await available(h)
    h.runtime.exit(KEY, 3)
    h.runtime.drain_events()  # the die event is lost (the stream was down)
    assert await h.watcher.resync_changed() == 0  # a settled pod: not in motion
    assert await h.status() is Status.AVAILABLE
    assert await h.watcher.resync() == 1
    assert await h.status() is Status.ERROR


async def test_the_incremental_resync_observes_only_pods_in_motion(store: Repositories) -> None:
    h = Harness(store)
    await available(h)
    await store.pods.create_pod(
        OTHER, owner="alice", spec=PodSpec(image="img"), credentials_encrypted=None, now=START
    )
    in_motion = await store.pods.pods_in_motion(RUNTIME_EPOCH)
    assert [r.key for r in in_motion] == [OTHER]  # REQUESTED, not applied yet
    await store.pods.set_requested(KEY, RequestedStatus.OFF, RUNTIME_EPOCH, "stop")
    assert {r.key for r in await store.pods.pods_in_motion(RUNTIME_EPOCH)} == {KEY, OTHER}


async def test_a_stuck_pod_is_asked_for_again_by_the_incremental_resync(
    store: Repositories,
) -> None:
    h = Harness(store)
    await h.create_pod()  # never applied: a lost command
    h.clock.now = START + timedelta(seconds=60)
    assert await h.watcher.resync_changed() == 1
    assert (KEY, "resync") in h.notifier.reconciles


async def test_a_pod_past_its_time_to_stop_is_in_motion(store: Repositories) -> None:
    h = Harness(store)
    await available(h)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.time_to_stop_ts is not None
    assert await store.pods.pods_in_motion(pod.time_to_stop_ts - timedelta(seconds=1)) == []
    due = await store.pods.pods_in_motion(pod.time_to_stop_ts + timedelta(seconds=1))
    assert [r.key for r in due] == [KEY]


async def test_output_of_a_running_pod_is_read_by_the_incremental_resync(
    store: Repositories,
) -> None:
    h = Harness(store)
    await available(h)
    h.runtime.write_logs(KEY, "hello\n")
    await h.watcher.resync_changed()
    assert await store.logs.read_logs(KEY, 1000) == "hello\n"


async def test_a_quiet_pod_is_read_less_often_and_its_new_output_still_arrives(
    store: Repositories,
) -> None:
    h = Harness(store)
    await available(h)

    async def pass_reads() -> bool:
        """One incremental pass; whether it asked the runtime for the pod's output."""
        before = h.runtime.calls.count(("logs_since", KEY))
        await h.watcher.resync_changed()
        return h.runtime.calls.count(("logs_since", KEY)) > before

    reads = [await pass_reads() for _ in range(12)]
    assert reads.count(True) == 5  # passes 0, 1, 3, 7, 11 of 12: not every pass
    h.runtime.write_logs(KEY, "late\n")
    for _ in range(4):  # at most every fourth pass
        await pass_reads()
    assert await store.logs.read_logs(KEY, 1000) == "late\n"
    h.runtime.write_logs(KEY, "more\n")
    assert await pass_reads()  # output found: read again at the next pass
    assert await store.logs.read_logs(KEY, 1000) == "late\nmore\n"


async def test_the_loop_sweeps_fully_at_the_longer_interval_only(store: Repositories) -> None:
    h = Harness(store)
    full = 0
    changed = 0
    sweep, incremental = h.watcher.resync, h.watcher.resync_changed

    async def counted_full() -> int:
        nonlocal full
        full += 1
        return await sweep()

    async def counted_changed() -> int:
        nonlocal changed
        changed += 1
        return await incremental()

    h.watcher.resync = counted_full  # type: ignore[method-assign]
    h.watcher.resync_changed = counted_changed  # type: ignore[method-assign]
    h.watcher._resync_interval = 0.01
    h.watcher._full_resync_interval = 3600
    loop = asyncio.create_task(h.watcher._resync_forever())
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while changed < 5 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop  # stopped before the store closes
    assert changed >= 5, f"{changed} incremental passes in 30 s (full sweeps: {full})"
    assert full == 1  # the first pass, then incremental ones


async def test_an_interrupted_event_stream_brings_the_full_sweep_forward(
    store: Repositories,
) -> None:
    h = Harness(store)
    h.watcher._sweep_due = False
    h.runtime.break_watch()
    async with following_events(h):
        for _ in range(300):
            if h.watcher._sweep_due:
                break
            await asyncio.sleep(0.01)
    assert h.watcher._sweep_due

"""The watcher records what it observes, probes starting pods until they settle, captures
logs incrementally and asks the spawner to heal drift. In-memory runtime, SQLite store."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.common.db.database import Repositories
from services.common.outcomes import TemporaryError
from services.common.pods_model import PodRecord, PodSpec, RequestedStatus, Status
from services.common.restarts import RestartPolicy
from services.common.runtime.fake import FakeRuntime
from services.common.runtime.naming import with_hash
from services.common.runtime.types import (
    ContainerSpec,
    ContainerState,
    LogChunk,
    PodKey,
    PortSpec,
    RuntimeEvent,
)
from services.health.watcher import Watcher

KEY = PodKey("dev", "web1")
START = datetime(2026, 11, 28, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class RecordingNotifier:
    def __init__(self) -> None:
        self.reconciles: list[tuple[PodKey, str]] = []
        self.changes: list[tuple[PodKey, Status]] = []

    async def request_reconcile(self, key: PodKey, reason: str) -> None:
        self.reconciles.append((key, reason))

    async def status_changed(self, record: PodRecord, status: Status) -> None:
        self.changes.append((record.key, status))


class Harness:
    def __init__(self, store: Repositories) -> None:
        self.store = store
        self.runtime = FakeRuntime("test")
        self.notifier = RecordingNotifier()
        self.clock = Clock()
        self.ready = False

        async def prober(protocol: str, host: str, port: int) -> bool:
            return self.ready

        self.watcher = Watcher(
            store=store,
            runtime=self.runtime,
            notifier=self.notifier,
            clock=self.clock,
            resync_interval=60,
            probe_interval=0.01,
            probe_interval_max=0.02,
            drift_grace=10,
            log_limit_bytes=1000,
            restart_policy=RestartPolicy(base=0.05, cap=0.05, reset_after=600),
            prober=prober,
        )

    async def create_pod(self) -> None:
        await self.store.pods.create_pod(
            KEY, owner="alice", spec=PodSpec(image="img"), credentials_encrypted=None, now=START
        )

    async def start_container(self) -> None:
        spec = with_hash(
            ContainerSpec(key=KEY, image="img", ports=(PortSpec("default", 5000, "http"),))
        )
        await self.runtime.ensure(spec)
        await self.store.pod_state.mark_applied(KEY, 1, "created", START)

    async def status(self) -> Status:
        pod = await self.store.pods.get_pod(KEY)
        assert pod is not None
        return pod.status


@contextlib.asynccontextmanager
async def following_events(h: Harness) -> AsyncIterator[None]:
    """The watcher follows the fake runtime's events for the block."""
    follower = asyncio.create_task(h.watcher._follow_events())
    try:
        yield
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower


@pytest.fixture
def h(store: Repositories) -> Harness:
    return Harness(store)


async def test_a_running_pod_is_creating_until_its_port_answers(h: Harness) -> None:
    await h.create_pod()
    await h.start_container()
    await h.watcher.observe_pod(KEY)
    assert await h.status() is Status.CREATING
    h.ready = True
    for _ in range(100):
        if await h.status() is Status.AVAILABLE:
            break
        await asyncio.sleep(0.01)
    assert await h.status() is Status.AVAILABLE
    assert (KEY, Status.AVAILABLE) in h.notifier.changes


async def test_an_exited_container_is_reported_with_its_exit_code(h: Harness) -> None:
    await h.create_pod()
    await h.start_container()
    h.runtime.exit(KEY, 2)
    await h.watcher.observe_pod(KEY)
    pod = await h.store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.ERROR
    assert pod.status_container.exit_code == 2


async def test_logs_are_captured_incrementally(h: Harness) -> None:
    await h.create_pod()
    await h.start_container()
    h.runtime.write_logs(KEY, "one\n")
    await h.watcher.observe_pod(KEY)
    h.runtime.write_logs(KEY, "two\n")
    await h.watcher.observe_pod(KEY)
    await h.watcher.observe_pod(KEY)
    assert await h.store.logs.read_logs(KEY, 1000) == "one\ntwo\n"


async def test_a_vanished_container_is_requested_again(h: Harness) -> None:
    await h.create_pod()
    await h.start_container()
    h.ready = True
    await h.watcher.observe_pod(KEY)
    await h.runtime.remove(KEY)
    await h.watcher.observe_pod(KEY)
    assert await h.status() is Status.REQUESTED
    assert (KEY, "container ended") in h.notifier.reconciles


async def test_resync_republishes_stuck_pods_only_after_the_grace_period(h: Harness) -> None:
    await h.create_pod()
    await h.watcher.resync()
    assert h.notifier.reconciles == []
    h.clock.now = START + timedelta(seconds=11)
    await h.watcher.resync()
    assert h.notifier.reconciles == [(KEY, "resync")]


async def test_resync_reports_containers_without_a_pod_as_orphans(h: Harness) -> None:
    await h.start_container()  # no row for it
    await h.watcher.resync()
    assert h.notifier.reconciles == [(KEY, "orphan")]


async def test_a_run_past_its_time_to_stop_is_stopped(h: Harness) -> None:
    await h.store.pods.create_pod(
        KEY,
        owner="alice",
        spec=PodSpec(image="img", time_to_stop_default=60),
        credentials_encrypted=None,
        now=START,
    )
    await h.start_container()
    h.ready = True
    await h.watcher.observe_pod(KEY)
    pod = await h.store.pods.get_pod(KEY)
    assert pod is not None and pod.time_to_stop_ts is not None
    h.clock.now = pod.time_to_stop_ts + timedelta(seconds=1)
    await h.watcher.resync()
    pod = await h.store.pods.get_pod(KEY)
    assert pod is not None and pod.status_requested is RequestedStatus.OFF
    assert (KEY, "time_to_stop") in h.notifier.reconciles


async def start_run(h: Harness) -> None:
    """A container made by the spawner as a new run, applied (the run has no time limit)."""
    spec = PodSpec(image="img", time_to_stop_default=-1)
    await h.store.pods.create_pod(
        KEY, owner="alice", spec=spec, credentials_encrypted=None, now=START
    )
    await h.store.logs.start_log_run(KEY, 3)
    await h.start_container()


async def test_an_ended_run_is_recorded_once_and_its_restart_asked_for_at_once(h: Harness) -> None:
    await start_run(h)
    h.runtime.exit(KEY, 137)
    for _ in range(3):  # an event, then resyncs
        await h.watcher.observe_pod(KEY)
    pod = await h.store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.ERROR and pod.restart_pending
    assert pod.last_exit_reason == "container exited with code 137 (SIGKILL)"
    assert h.notifier.reconciles == [(KEY, "container ended")]
    assert sum("restart 1 in 0 s" in line for line in pod.action_logs) == 1


async def test_a_later_restart_is_asked_for_when_due(h: Harness) -> None:
    await start_run(h)
    h.runtime.exit(KEY, 3)
    await h.watcher.observe_pod(KEY)
    await h.store.pod_state.mark_restarted(KEY, 1, "created", 3, START)  # what the spawner does
    h.runtime.clear_failures()
    await h.runtime.remove(KEY)
    await h.start_container()
    h.notifier.reconciles.clear()
    h.runtime.exit(KEY, 3)
    await h.watcher.observe_pod(KEY)  # second in a row: due in 0.05 s
    assert h.notifier.reconciles == []
    for _ in range(100):
        if h.notifier.reconciles:
            break
        await asyncio.sleep(0.01)
    assert h.notifier.reconciles == [(KEY, "restart due")]


async def test_resync_asks_again_for_an_overdue_restart(h: Harness) -> None:
    await start_run(h)
    h.runtime.exit(KEY, 3)
    await h.watcher.observe_pod(KEY)
    h.notifier.reconciles.clear()  # as if that command was lost
    await h.watcher.resync()
    assert h.notifier.reconciles == []  # not overdue yet
    h.clock.now = START + timedelta(seconds=11)
    await h.watcher.resync()
    assert h.notifier.reconciles == [(KEY, "restart overdue")]


async def test_a_paused_container_of_an_on_pod_is_an_ended_run(h: Harness) -> None:
    await start_run(h)
    h.runtime.pause(KEY)
    await h.watcher.observe_pod(KEY)
    pod = await h.store.pods.get_pod(KEY)
    assert pod is not None and pod.last_exit_reason == "container paused"
    assert h.notifier.reconciles == [(KEY, "container ended")]


async def test_a_stopped_pods_container_end_is_not_a_restart(h: Harness) -> None:
    await start_run(h)
    await h.store.pods.set_requested(KEY, RequestedStatus.OFF, START, "stop")
    h.runtime.exit(KEY, 0)
    await h.watcher.observe_pod(KEY)
    pod = await h.store.pods.get_pod(KEY)
    assert pod is not None and not pod.restart_pending and pod.last_exit_reason == ""
    assert h.notifier.reconciles == []


async def test_one_pods_temporary_error_does_not_stop_a_resync(h: Harness) -> None:
    await start_run(h)
    other = PodKey("dev", "web2")
    await h.store.pods.create_pod(
        other, owner="alice", spec=PodSpec(image="img"), credentials_encrypted=None, now=START
    )

    async def failing_logs(key: PodKey, cursor: str, limit_bytes: int) -> LogChunk:
        raise TemporaryError("can not get logs from container which is dead")

    h.runtime.logs_since = failing_logs  # type: ignore[method-assign]
    h.runtime.exit(KEY, 3)
    assert await h.watcher.resync() == 2
    pod = await h.store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.ERROR and pod.restart_pending


async def test_turns_are_forgotten_once_nobody_holds_or_awaits_them(h: Harness) -> None:
    await h.create_pod()
    await h.start_container()
    others = [PodKey("dev", f"gone{n}") for n in range(50)]  # no record: observed as nothing
    await asyncio.gather(*(h.watcher.observe_pod(key) for key in others))
    await asyncio.gather(*(h.watcher.observe_pod(KEY) for _ in range(5)))  # one pod's queue
    assert h.watcher.pods_with_turns == 0
    assert await h.status() is Status.CREATING  # and the observations were made


async def test_a_run_that_ended_before_the_spawner_recorded_it_is_restarted_once_it_has(
    h: Harness,
) -> None:
    """The container exits at once, before the spawner records its run: no event follows
    that record, yet its end counts and the restart is asked for (not only at the next full
    sweep)."""
    await h.create_pod()
    spec = with_hash(ContainerSpec(key=KEY, image="img", run=1))
    await h.runtime.ensure(spec)
    h.runtime.exit(KEY, 3)
    await h.watcher.observe_pod(KEY)  # the die event: the pod is still at run 0
    assert await h.status() is Status.ERROR
    assert h.notifier.reconciles == []
    await h.store.pod_state.mark_applied(KEY, 1, "created", START, runs_kept=3)
    for _ in range(200):
        if h.notifier.reconciles:
            break
        await asyncio.sleep(0.01)
    assert h.notifier.reconciles == [(KEY, "container ended")]
    pod = await h.store.pods.get_pod(KEY)
    assert pod is not None and pod.restart_pending and pod.run == 1


async def test_events_that_find_an_observation_waiting_add_none(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of events (a stop's die and destroy, a start) while the pod is being observed
    costs one more observation, which inspects after all of them, not one per event."""
    await h.create_pod()
    await h.start_container()
    h.runtime.drain_events()
    gate = asyncio.Event()
    inspect = h.runtime.inspect

    async def held_inspect(key: PodKey) -> ContainerState | None:
        await gate.wait()
        return await inspect(key)

    monkeypatch.setattr(h.runtime, "inspect", held_inspect)
    async with following_events(h):
        for action in ("die", "destroy", "start", "die", "destroy"):
            h.runtime.emit(RuntimeEvent(KEY, action))
        for _ in range(200):  # every event taken
            if not h.runtime.events_pending:
                break
            await asyncio.sleep(0.01)
        for _ in range(20):  # each event's task reaches the pod's turn, or gives up
            await asyncio.sleep(0)
        gate.set()
        for _ in range(200):
            if h.watcher.pods_with_turns == 0:
                break
            await asyncio.sleep(0.01)
    assert h.watcher.pods_with_turns == 0
    assert h.runtime.calls.count(("inspect", KEY)) == 2

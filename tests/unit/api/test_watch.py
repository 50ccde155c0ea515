"""The watch fan-out (services/api/domain/watch.py): the current state first, then each
change once and in order; identical states never twice in a row; resuming after an id; a
slow watcher dropped without slowing the others; a closed stream leaves no watcher behind;
logs followed from an offset, across runs."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from services.api.domain.principal import Principal
from services.api.domain.watch import (
    LogChunk,
    PodDeleted,
    PodState,
    PodWatch,
    SlowWatcherError,
    Timing,
    Wakeups,
)
from services.api.errors import NotFoundError
from services.common.pods_model import (
    ContainerStatus,
    PodChange,
    PodRecord,
    PodSpec,
    RequestedStatus,
    Status,
)
from services.common.runtime.types import PodKey

NOW = datetime(2026, 12, 6, tzinfo=UTC)
ALICE = Principal("dev", "alice")
FAST = Timing(poll=0.01, log_poll=0.01, keepalive=3600)
T = TypeVar("T")


def record(pod_id: str, status: Status, *, log: str = "") -> PodRecord:
    return PodRecord(
        key=PodKey("dev", pod_id),
        owner="alice",
        spec=PodSpec(image="img"),
        status_requested=RequestedStatus.ON,
        status=status,
        status_container=ContainerStatus(),
        generation=1,
        observed_generation=1,
        deletion_requested=False,
        has_credentials=False,
        action_logs=(log,) if log else (),
        creation_ts=NOW,
        update_ts=NOW,
        status_changed_ts=NOW,
    )


class FakePods:
    """The pods alice may read, their recorded changes (as services/common/db/change_feed.py
    records them: one per change of what a watcher sees) and their output, changed by the
    tests."""

    def __init__(self) -> None:
        self.records: dict[str, PodRecord] = {}
        self.hidden: set[str] = set()  # pods alice may not read (not shared with her)
        self.log: list[PodChange] = []
        self.output: dict[str, tuple[int, str]] = {}
        self.reads = 0
        self.mark_reads = 0
        self.listings = 0  # readable_ids calls

    def set(self, pod_id: str, status: Status, **kwargs: str) -> PodKey:
        old = self.records.get(pod_id)
        new = record(pod_id, status, **kwargs)
        if old is not None:
            new = replace(new, update_ts=old.update_ts + timedelta(seconds=1))
        self.records[pod_id] = new
        change = PodChange(
            key=new.key,
            change_id=len(self.log) + 1,
            status=new.status,
            status_requested=new.status_requested,
            status_container=new.status_container,
            action_log=new.action_logs[-1] if new.action_logs else "",
            time=new.update_ts,
        )
        mine = self.of(pod_id)
        if not mine or replace(mine[-1], change_id=0, time=NOW) != replace(
            change, change_id=0, time=NOW
        ):
            self.log.append(change)
        return new.key

    def delete(self, pod_id: str) -> None:
        del self.records[pod_id]
        self.log = [c for c in self.log if c.key.pod_id != pod_id]

    def of(self, pod_id: str) -> list[PodChange]:
        return [c for c in self.log if c.key.pod_id == pod_id]

    async def get(self, who: Principal, pod_id: str) -> PodRecord:
        self.reads += 1
        if pod_id not in self.records:
            raise NotFoundError(f"pod '{pod_id}' not found")
        return self.records[pod_id]

    async def changes(self, who: Principal, pod_id: str, after: int | None) -> list[PodChange]:
        await self.get(who, pod_id)
        mine = self.of(pod_id)
        if any(c.change_id == after for c in mine):
            return [c for c in mine if after is not None and c.change_id > after]
        return mine[-1:]

    async def readable_ids(self, who: Principal) -> builtins.set[str]:
        self.listings += 1
        return {pod_id for pod_id in self.records if pod_id not in self.hidden}

    async def readable_mark(self, who: Principal) -> object:
        return frozenset(self.records.keys() - self.hidden)

    async def last_change_id(self, who: Principal) -> int:
        return self.log[-1].change_id if self.log else 0

    async def readable_changes(self, who: Principal, after: int) -> list[PodChange]:
        return [c for c in self.log if c.change_id > after and c.key.pod_id not in self.hidden]

    async def changes_of(
        self, who: Principal, readable: Collection[str], after: int
    ) -> list[PodChange]:
        return [c for c in self.log if c.change_id > after and c.key.pod_id in readable]

    async def latest_changes(self, who: Principal, readable: Collection[str]) -> list[PodChange]:
        latest = [self.of(pod_id)[-1] for pod_id in readable if self.of(pod_id)]
        return sorted(latest, key=lambda c: c.change_id)

    async def current_logs(self, who: Principal, pod_id: str) -> tuple[int, str]:
        await self.get(who, pod_id)
        return self.output.get(pod_id, (1, ""))

    async def log_mark(self, who: Principal, pod_id: str) -> object:
        await self.get(who, pod_id)
        self.mark_reads += 1
        return self.output.get(pod_id, (1, ""))


async def take(stream: AsyncIterator[T], count: int) -> list[T]:
    return [await asyncio.wait_for(anext(stream), 5) for _ in range(count)]


def statuses(events: Sequence[object]) -> list[str]:
    return [e.status if isinstance(e, PodState) else repr(e) for e in events]


@pytest.fixture
def pods() -> FakePods:
    return FakePods()


@pytest.fixture
def wakeups() -> Wakeups:
    return Wakeups(queue_size=4)


@pytest.fixture
def watch(pods: FakePods, wakeups: Wakeups) -> PodWatch:
    return PodWatch(pods, pods, wakeups, FAST)


async def test_the_current_state_comes_first_then_each_change_once_in_order(
    pods: FakePods, watch: PodWatch
) -> None:
    pods.set("web", Status.REQUESTED)
    stream = watch.watch_pod(ALICE, "web")
    first = await take(stream, 1)
    pods.set("web", Status.CREATING)
    second = await take(stream, 1)
    pods.set("web", Status.CREATING)  # written again, same state: not sent
    pods.set("web", Status.AVAILABLE, log="ready")
    third = await take(stream, 1)
    assert statuses(first + second + third) == ["REQUESTED", "CREATING", "AVAILABLE"]
    assert isinstance(third[0], PodState) and third[0].action_log == "ready"
    await stream.aclose()


async def test_a_deleted_pod_ends_the_stream(pods: FakePods, watch: PodWatch) -> None:
    pods.set("web", Status.AVAILABLE)
    events = []
    stream = watch.watch_pod(ALICE, "web")
    events.append(await anext(stream))
    pods.delete("web")
    events += [e async for e in stream]
    assert events[-1] == PodDeleted("web")
    assert statuses(events) == ["AVAILABLE", repr(PodDeleted("web"))]


async def test_an_unknown_pod_fails_before_the_first_event(watch: PodWatch) -> None:
    with pytest.raises(NotFoundError):
        await anext(watch.watch_pod(ALICE, "nope"))


async def test_resuming_with_the_current_states_id_sends_only_later_changes(
    pods: FakePods, watch: PodWatch
) -> None:
    pods.set("web", Status.CREATING)
    seen = await take(watch.watch_pod(ALICE, "web"), 1)
    assert isinstance(seen[0], PodState)
    resumed = watch.watch_pod(ALICE, "web", seen[0].event_id)
    assert await take(resumed, 1) == [None]  # a keep-alive opens the stream, nothing else
    pods.set("web", Status.AVAILABLE)
    assert statuses(await take(resumed, 1)) == ["AVAILABLE"]
    await resumed.aclose()


async def test_an_unknown_id_starts_again_from_the_current_state(
    pods: FakePods, watch: PodWatch
) -> None:
    pods.set("web", Status.AVAILABLE)
    assert statuses(await take(watch.watch_pod(ALICE, "web", "web.0123"), 1)) == ["AVAILABLE"]


async def test_several_changes_between_two_reads_are_all_sent_in_order(pods: FakePods) -> None:
    wakeups = Wakeups()
    watch = PodWatch(pods, pods, wakeups, Timing(poll=3600, keepalive=3600))
    key = pods.set("web", Status.REQUESTED)
    stream = watch.watch_pod(ALICE, "web")
    await anext(stream)
    pods.set("web", Status.CREATING)  # both recorded before the watcher reads again
    pods.set("web", Status.AVAILABLE)
    wakeups.notify(key)
    assert statuses(await take(stream, 2)) == ["CREATING", "AVAILABLE"]
    await stream.aclose()


async def test_ids_are_the_pods_change_numbers(pods: FakePods, watch: PodWatch) -> None:
    pods.set("other", Status.AVAILABLE)
    pods.set("web", Status.CREATING)
    (seen,) = await take(watch.watch_pod(ALICE, "web"), 1)
    assert isinstance(seen, PodState) and seen.event_id == "web.2"


async def test_watch_pods_sends_every_pod_then_changes_and_deletions(
    pods: FakePods, watch: PodWatch
) -> None:
    pods.set("a", Status.AVAILABLE)
    pods.set("b", Status.REQUESTED)
    stream = watch.watch_pods(ALICE)
    first = await take(stream, 2)
    assert [(e.pod_id, e.status) for e in first if isinstance(e, PodState)] == [
        ("a", "AVAILABLE"),
        ("b", "REQUESTED"),
    ]
    pods.set("b", Status.CREATING)
    pods.delete("a")
    later = await take(stream, 2)
    assert isinstance(later[0], PodState) and later[0].status == "CREATING"
    assert later[1] == PodDeleted("a")
    await stream.aclose()


async def test_a_slow_watcher_is_dropped_and_the_others_keep_going(wakeups: Wakeups) -> None:
    key = PodKey("dev", "web")
    with wakeups.pod(key) as slow, wakeups.pod(key) as fast:
        for _ in range(10):  # more than the queue holds; never blocks
            wakeups.notify(key)
            await fast.next_wake(0.01)
        with pytest.raises(SlowWatcherError):
            await slow.next_wake(0.01)
        assert await fast.next_wake(0.01) is None


async def test_a_closed_stream_leaves_no_watcher_behind(
    pods: FakePods, wakeups: Wakeups, watch: PodWatch
) -> None:
    pods.set("web", Status.AVAILABLE)
    streams = [watch.watch_pod(ALICE, "web"), watch.watch_pods(ALICE)]
    for stream in streams:
        await anext(stream)
    assert wakeups.watchers == 2
    for stream in streams:
        await stream.aclose()
    assert wakeups.watchers == 0


async def test_a_wakeup_is_read_without_waiting_for_the_poll(pods: FakePods) -> None:
    wakeups = Wakeups()
    watch = PodWatch(pods, pods, wakeups, Timing(poll=3600, keepalive=3600))
    key = pods.set("web", Status.REQUESTED)
    stream = watch.watch_pod(ALICE, "web")
    await anext(stream)
    pods.set("web", Status.CREATING)
    wakeups.notify(key)
    assert statuses(await take(stream, 1)) == ["CREATING"]
    await stream.aclose()


async def test_keep_alives_when_nothing_changes(pods: FakePods) -> None:
    watch = PodWatch(pods, pods, Wakeups(), Timing(poll=0.01, keepalive=0.05))
    pods.set("web", Status.AVAILABLE)
    stream = watch.watch_pod(ALICE, "web")
    assert statuses(await take(stream, 2)) == ["AVAILABLE", "None"]
    await stream.aclose()


async def test_logs_come_as_the_output_so_far_then_new_output(
    pods: FakePods, watch: PodWatch
) -> None:
    pods.set("web", Status.AVAILABLE)
    pods.output["web"] = (1, "one\n")
    stream = watch.follow_logs(ALICE, "web")
    assert await take(stream, 1) == [LogChunk(1, 4, "one\n")]
    pods.output["web"] = (1, "one\ntwo\n")
    assert await take(stream, 1) == [LogChunk(1, 8, "two\n")]
    pods.output["web"] = (2, "again\n")
    assert await take(stream, 2) == [LogChunk(2, 0, "", new_run=True), LogChunk(2, 6, "again\n")]
    await stream.aclose()


async def test_logs_start_with_an_empty_chunk_when_there_is_no_output_yet(
    pods: FakePods, watch: PodWatch
) -> None:
    pods.set("web", Status.CREATING)
    assert await take(watch.follow_logs(ALICE, "web"), 1) == [LogChunk(1, 0, "")]


async def test_logs_resume_after_a_cursor_of_the_same_run(pods: FakePods, watch: PodWatch) -> None:
    pods.set("web", Status.AVAILABLE)
    pods.output["web"] = (3, "one\ntwo\n")
    assert await take(watch.follow_logs(ALICE, "web", "3.4"), 1) == [LogChunk(3, 8, "two\n")]
    assert await take(watch.follow_logs(ALICE, "web", "2.4"), 1) == [LogChunk(3, 8, "one\ntwo\n")]
    at_end = watch.follow_logs(ALICE, "web", "3.8")
    assert await take(at_end, 1) == [None]
    await at_end.aclose()


async def test_output_is_read_only_when_its_mark_moves(pods: FakePods, watch: PodWatch) -> None:
    pods.set("web", Status.AVAILABLE)
    pods.output["web"] = (1, "one\n")
    stream = watch.follow_logs(ALICE, "web")
    await take(stream, 1)
    calls: list[str] = []
    real = pods.current_logs

    async def counted(who: Principal, pod_id: str) -> tuple[int, str]:
        calls.append(pod_id)
        return await real(who, pod_id)

    pods.current_logs = counted  # type: ignore[method-assign]
    marks = pods.mark_reads
    pods.output["web"] = (1, "one\ntwo\n")
    assert await take(stream, 1) == [LogChunk(1, 8, "two\n")]
    assert pods.mark_reads > marks and len(calls) == 1
    await stream.aclose()


async def test_watch_pods_sends_every_change_of_a_pod_created_between_two_reads(
    pods: FakePods,
) -> None:
    wakeups = Wakeups()
    watch = PodWatch(pods, pods, wakeups, Timing(poll=3600, keepalive=3600))
    pods.set("old", Status.AVAILABLE)
    stream = watch.watch_pods(ALICE)
    await take(stream, 1)
    pods.set("new", Status.REQUESTED)
    pods.set("new", Status.CREATING)
    key = pods.set("new", Status.AVAILABLE)
    wakeups.notify(key)
    assert statuses(await take(stream, 3)) == ["REQUESTED", "CREATING", "AVAILABLE"]
    await stream.aclose()


async def test_watch_pods_shows_a_pod_shared_since_in_its_current_state(
    pods: FakePods,
) -> None:
    pods.set("shared", Status.AVAILABLE)
    pods.hidden.add("shared")
    pods.set("mine", Status.AVAILABLE)
    wakeups = Wakeups()
    watch = PodWatch(pods, pods, wakeups, Timing(poll=3600, keepalive=3600))
    stream = watch.watch_pods(ALICE)
    assert [e.pod_id for e in await take(stream, 1) if isinstance(e, PodState)] == ["mine"]
    pods.hidden.clear()  # now shared with alice, with no change of its own since
    wakeups.notify(PodKey("dev", "shared"))
    (shown,) = await take(stream, 1)
    assert isinstance(shown, PodState) and (shown.pod_id, shown.status) == ("shared", "AVAILABLE")
    await stream.aclose()


async def test_a_state_coming_back_after_the_resumed_one_is_sent(
    pods: FakePods, watch: PodWatch
) -> None:
    pods.set("web", Status.AVAILABLE)
    (seen,) = await take(watch.watch_pod(ALICE, "web"), 1)
    assert isinstance(seen, PodState)
    resumed = watch.watch_pod(ALICE, "web", seen.event_id)
    assert await take(resumed, 1) == [None]
    pods.set("web", Status.ERROR)
    assert statuses(await take(resumed, 1)) == ["ERROR"]
    pods.set("web", Status.AVAILABLE)  # the resumed state again: a change, so it is sent
    assert statuses(await take(resumed, 1)) == ["AVAILABLE"]
    await resumed.aclose()


async def test_watch_pods_reads_changes_without_listing_the_pods_again(
    pods: FakePods,
) -> None:
    wakeups = Wakeups()
    watch = PodWatch(pods, pods, wakeups, Timing(poll=3600, keepalive=3600))
    pods.set("a", Status.REQUESTED)
    pods.set("b", Status.AVAILABLE)
    stream = watch.watch_pods(ALICE)
    await take(stream, 2)
    listed = pods.listings
    for status in (Status.CREATING, Status.AVAILABLE):
        wakeups.notify(pods.set("a", status))
        (seen,) = await take(stream, 1)
        assert isinstance(seen, PodState) and seen.status == status.value
    assert pods.listings == listed
    await stream.aclose()


async def test_watch_pods_ends_a_pod_whose_permission_was_revoked(pods: FakePods) -> None:
    wakeups = Wakeups()
    watch = PodWatch(pods, pods, wakeups, Timing(poll=3600, keepalive=3600))
    pods.set("shared", Status.AVAILABLE)
    pods.set("mine", Status.AVAILABLE)
    stream = watch.watch_pods(ALICE)
    await take(stream, 2)
    pods.hidden.add("shared")  # revoked: no change of the pod's own
    wakeups.notify(pods.set("mine", Status.STOPPED))
    assert statuses(await take(stream, 2)) == ["STOPPED", repr(PodDeleted("shared"))]
    await stream.aclose()


async def test_watch_pods_lists_again_every_relist_seconds_even_if_the_mark_stays(
    pods: FakePods,
) -> None:
    class StuckMark(FakePods):
        async def readable_mark(self, who: Principal) -> object:
            return 0  # a mark that misses everything: only the periodic relist is left

    stuck = StuckMark()
    stuck.set("a", Status.AVAILABLE)
    stuck.set("b", Status.AVAILABLE)
    wakeups = Wakeups()
    watch = PodWatch(stuck, stuck, wakeups, Timing(poll=0.01, keepalive=3600, relist=0.05))
    stream = watch.watch_pods(ALICE)
    await take(stream, 2)
    stuck.hidden.add("b")
    assert await take(stream, 1) == [PodDeleted("b")]
    await stream.aclose()

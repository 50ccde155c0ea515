"""Watching pods and following their output: the logic of PodsService's streams (WatchPod,
WatchPods, FollowPodLogs) and of their Server-Sent Events twins (PodStreamsService).

A watcher sends the pod's recorded changes (the pod_changes table, written in the same
transaction as each change by services/common/db/change_feed.py), read through domain.pods
after the last one it sent, so every change goes out once, in order, even when several
happen between two reads (REQUESTED, CREATING and AVAILABLE within one poll on a fast
create). WatchPod's reads are authorized exactly like GetPod's, on every read; WatchPods
sends only the pods the caller may read: each read takes the changes after its cursor of the
pods the caller may read now (the permission filter is in the query, so a read costs what
changed, not how many pods there are), and the ids of the readable pods are listed again only
when a cheap mark of that set moves (a grant, a revocation, a pod created or removed) or
every `relist` seconds. A watcher reads when it is woken (all the wake-ups queued by then
at once) and at least every `poll` seconds. `Wakeups` is the in-memory fan-out:
services/api/server.py subscribes once to the pod events health publishes on NATS (an ordered
consumer, `PodChangeFeed` in domain/ports.py) and calls `Wakeups.notify` for each; every
watcher has its own small bounded queue of wake-ups, and one that falls `queue_size`
wake-ups behind is dropped (its stream ends; the client reconnects with its last id) rather
than ever slowing the others. A watcher that ends, for any reason, unregisters at once (and
the count of open watchers is logged, `watchers: N open`, on each change).

Event ids are `<pod_id>.<change number>` and log cursors `<run>.<offset>`, so they survive an
api restart: WatchPod resumed with the id of a change it still keeps sends the changes after
it; any other id starts again from the current state. WatchPods always starts from every
pod's current state (a list must also learn which pods went away meanwhile).

Called by services/api/transport/watch_servicer.py; `Wakeups` is built by services/api/server.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Collection, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from services.api.domain.ports import Closable, PodChangeFeed
from services.api.domain.principal import Principal
from services.api.errors import NotFoundError
from services.common.pods_model import ContainerStatus
from services.common.pods_model import PodChange as Recorded
from services.common.runtime.types import PodKey

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
RELIST_SECONDS = 30.0
POLL_SECONDS = 0.5
LOG_POLL_SECONDS = 0.5
QUEUE_SIZE = 64


class PodReader(Protocol):
    """The reads a watcher makes (domain.pods.Pods): a pod's changes, authorized like
    GetPod; the ids of the caller's pods and a cheap mark of that set; their changes."""

    async def changes(self, who: Principal, pod_id: str, after: int | None) -> list[Recorded]: ...

    async def readable_ids(self, who: Principal) -> set[str]: ...

    async def readable_mark(self, who: Principal) -> object: ...

    async def last_change_id(self, who: Principal) -> int: ...

    async def readable_changes(self, who: Principal, after: int) -> list[Recorded]: ...

    async def changes_of(
        self, who: Principal, readable: Collection[str], after: int
    ) -> list[Recorded]: ...

    async def latest_changes(self, who: Principal, readable: Collection[str]) -> list[Recorded]: ...


class LogReader(Protocol):
    """The pod's current run and its output so far, and a cheap mark of where that output
    stands (domain.pods.Pods.current_logs and log_mark), each authorized like GetPodLogs."""

    async def current_logs(self, who: Principal, pod_id: str) -> tuple[int, str]: ...

    async def log_mark(self, who: Principal, pod_id: str) -> object: ...


class SlowWatcherError(Exception):
    """A watcher fell too far behind its wake-ups and was dropped."""


@dataclass(frozen=True)
class PodState:
    """What a watcher sends about a pod: SSE.md's `data` fields, and the number of the
    recorded change it is."""

    pod_id: str
    status: str
    status_container: ContainerStatus
    status_requested: str
    action_log: str
    time: datetime
    change_id: int = 0

    @classmethod
    def of(cls, change: Recorded) -> PodState:
        return cls(
            pod_id=change.key.pod_id,
            status=change.status.value,
            status_container=change.status_container,
            status_requested=change.status_requested.value,
            action_log=change.action_log,
            time=change.time,
            change_id=change.change_id,
        )

    @property
    def event_id(self) -> str:
        """`<pod_id>.<change number>`."""
        return f"{self.pod_id}.{self.change_id}"

    def same_as(self, other: PodState | None) -> bool:
        """Whether `other` shows the same (time and number aside)."""
        return other is not None and replace(self, time=other.time, change_id=0) == replace(
            other, change_id=0
        )


@dataclass(frozen=True)
class PodDeleted:
    """The pod is gone: the last event of its stream."""

    pod_id: str

    @property
    def event_id(self) -> str:
        return f"{self.pod_id}.deleted"


@dataclass(frozen=True)
class LogChunk:
    """New output of run `run`; `new_run` marks the start of a run (text then empty)."""

    run: int
    offset: int  # characters of the run's output sent up to and including this chunk
    text: str
    new_run: bool = False

    @property
    def event_id(self) -> str:
        return f"{self.run}.{self.offset}"


PodChange = PodState | PodDeleted
# None is a keep-alive: nothing happened for KEEPALIVE_SECONDS.
Watched = PodChange | None
Followed = LogChunk | None


class _Watcher:
    """One stream's bounded queue of wake-ups."""

    def __init__(self, queue_size: int) -> None:
        self.queue: asyncio.Queue[PodKey] = asyncio.Queue(maxsize=queue_size)
        self.dropped = False

    def wake(self, key: PodKey) -> None:
        try:
            self.queue.put_nowait(key)
        except asyncio.QueueFull:
            self.dropped = True

    async def next_wake(self, timeout: float) -> PodKey | None:
        """The next wake-up (those queued behind it are taken too: one read covers them),
        or None after `timeout` seconds without one."""
        if self.dropped:
            raise SlowWatcherError("the watcher fell behind and was dropped; reconnect")
        try:
            key = await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None
        while not self.queue.empty():
            self.queue.get_nowait()
        return key


class Wakeups:
    """The in-memory fan-out of pod events to watchers (one pod's, or a whole tenant's)."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._by_pod: dict[PodKey, set[_Watcher]] = {}
        self._by_tenant: dict[str, set[_Watcher]] = {}

    @property
    def watchers(self) -> int:
        """How many streams are open now."""
        return sum(map(len, self._by_pod.values())) + sum(map(len, self._by_tenant.values()))

    def notify(self, key: PodKey) -> None:
        """A pod changed: wake its watchers and its tenant's. Never blocks."""
        for watcher in (*self._by_pod.get(key, ()), *self._by_tenant.get(key.tenant_id, ())):
            watcher.wake(key)

    async def follow(self, feed: PodChangeFeed) -> Closable:
        """Subscribes once to `feed`; close the result to stop."""
        return await feed.follow_pod_changes(self.notify)

    @contextmanager
    def pod(self, key: PodKey) -> Iterator[_Watcher]:
        with self._registered(self._by_pod, key) as watcher:
            yield watcher

    @contextmanager
    def tenant(self, tenant_id: str) -> Iterator[_Watcher]:
        with self._registered(self._by_tenant, tenant_id) as watcher:
            yield watcher

    @contextmanager
    def _registered(self, table: dict[Any, set[_Watcher]], key: Hashable) -> Iterator[_Watcher]:
        watcher = _Watcher(self._queue_size)
        table.setdefault(key, set()).add(watcher)
        log.info("watchers: %d open", self.watchers)
        try:
            yield watcher
        finally:
            group = table[key]
            group.discard(watcher)
            if not group:
                del table[key]
            log.info("watchers: %d open", self.watchers)


@dataclass(frozen=True)
class Timing:
    """How often a watcher reads without being woken, when it sends a keep-alive, and how
    often WatchPods lists the readable pods' ids again even when their mark did not move."""

    poll: float = POLL_SECONDS
    log_poll: float = LOG_POLL_SECONDS
    keepalive: float = KEEPALIVE_SECONDS
    relist: float = RELIST_SECONDS


class _Quiet:
    """Counts the time since the last event sent, for keep-alives."""

    def __init__(self, clock: Callable[[], float], keepalive: float) -> None:
        self._clock = clock
        self._keepalive = keepalive
        self._since = clock()

    def sent(self) -> None:
        self._since = self._clock()

    def due(self) -> bool:
        if self._clock() - self._since >= self._keepalive:
            self._since = self._clock()
            return True
        return False


class PodWatch:
    """The three streams, as async iterators of events (None for a keep-alive)."""

    def __init__(
        self,
        pods: PodReader,
        logs: LogReader,
        wakeups: Wakeups,
        timing: Timing = Timing(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pods = pods
        self._logs = logs
        self._wakeups = wakeups
        self._timing = timing
        self._clock = clock

    async def watch_pod(
        self, who: Principal, pod_id: str, resume_after: str = ""
    ) -> AsyncGenerator[Watched, None]:
        """The pod's current state (or, resumed with the id of a change still kept, the
        changes after it), then each change; PodDeleted last. Errors before the first event
        (NotFound, PermissionDenied) come out of the first `__anext__`."""
        cursor = _change_number(resume_after, pod_id)
        changes = await self._pods.changes(who, pod_id, cursor)
        quiet = _Quiet(self._clock, self._timing.keepalive)
        last: PodState | None = None
        opened = False
        with self._wakeups.pod(PodKey(who.tenant_id, pod_id)) as watcher:
            while True:
                for change in changes:
                    state = PodState.of(change)
                    cursor = state.change_id
                    if not state.same_as(last):
                        quiet.sent()
                        opened = True
                        yield state
                    last = state
                if not opened:
                    opened = True
                    yield None  # resumed with nothing new: a keep-alive opens the stream
                if quiet.due():
                    yield None
                await watcher.next_wake(self._timing.poll)
                try:
                    changes = await self._pods.changes(who, pod_id, cursor)
                except NotFoundError:
                    yield PodDeleted(pod_id)
                    return

    async def watch_pods(
        self, who: Principal, resume_after: str = ""
    ) -> AsyncGenerator[Watched, None]:
        """Every readable pod's current state, then each change; PodDeleted when one goes
        (or can no longer be read). `resume_after` is accepted and not used: a list starts
        from the present."""
        del resume_after
        quiet = _Quiet(self._clock, self._timing.keepalive)
        sent: dict[str, PodState] = {}
        opened = False
        cursor = await self._pods.last_change_id(who)
        mark = await self._pods.readable_mark(who)
        readable = await self._pods.readable_ids(who)
        relisted = self._clock()
        changes = sorted(await self._pods.latest_changes(who, readable), key=_by_pod)
        with self._wakeups.tenant(who.tenant_id) as watcher:
            while True:
                for change in changes:
                    state = PodState.of(change)
                    earlier = sent.get(state.pod_id)
                    if earlier is not None and earlier.change_id >= state.change_id:
                        continue
                    sent[state.pod_id] = state
                    if not state.same_as(earlier):
                        quiet.sent()
                        opened = True
                        yield state
                for pod_id in sorted(sent.keys() - readable):
                    del sent[pod_id]
                    quiet.sent()
                    opened = True
                    yield PodDeleted(pod_id)
                if not opened:
                    yield None  # nothing to send yet: a keep-alive opens the stream
                opened = True
                if quiet.due():
                    yield None
                await watcher.next_wake(self._timing.poll)
                previous = cursor
                batch = await self._pods.readable_changes(who, cursor)
                cursor = batch[-1].change_id if batch else cursor
                in_batch = {c.key.pod_id for c in batch}  # readable when read
                readable |= in_batch
                new_mark = await self._pods.readable_mark(who)  # before the ids it marks
                if new_mark != mark or self._clock() - relisted >= self._timing.relist:
                    mark, relisted = new_mark, self._clock()
                    readable = await self._pods.readable_ids(who)
                changes = [c for c in batch if c.key.pod_id in readable]
                quiet_new = readable - sent.keys() - in_batch  # shared since, perhaps
                changes += await self._new_pods(who, quiet_new, previous)

    async def _new_pods(self, who: Principal, pod_ids: set[str], after: int) -> list[Recorded]:
        """The changes after `after` of pods the caller can newly read, or, for those with
        none (shared with the caller since), their current state."""
        if not pod_ids:
            return []
        changes = await self._pods.changes_of(who, pod_ids, after)
        quiet = pod_ids - {c.key.pod_id for c in changes}
        return changes + (await self._pods.latest_changes(who, quiet) if quiet else [])

    async def follow_logs(
        self, who: Principal, pod_id: str, resume_after: str = ""
    ) -> AsyncGenerator[Followed, None]:
        """The current run's output so far (after `resume_after`'s offset when it names this
        run), then new output as it is written; a new_run chunk when a new run starts."""
        mark = await self._logs.log_mark(who, pod_id)
        run, text = await self._logs.current_logs(who, pod_id)
        sent = _resumed_offset(resume_after, run, len(text))
        key = PodKey(who.tenant_id, pod_id)
        quiet = _Quiet(self._clock, self._timing.keepalive)
        first = sent is None
        sent = sent or 0
        opened = False
        with self._wakeups.pod(key) as watcher:
            while True:
                if len(text) > sent or first:
                    quiet.sent()
                    yield LogChunk(run, len(text), text[sent:])
                    sent, first, opened = len(text), False, True
                if not opened:
                    opened = True
                    yield None  # resumed with nothing new: a keep-alive opens the stream
                if quiet.due():
                    yield None
                await watcher.next_wake(self._timing.log_poll)
                try:
                    new_mark = await self._logs.log_mark(who, pod_id)
                    if new_mark == mark:
                        continue  # no new output: the output itself is not read
                    mark = new_mark
                    new_run, text = await self._logs.current_logs(who, pod_id)
                except NotFoundError:
                    return
                if new_run != run or len(text) < sent:
                    run, sent, first = new_run, 0, True
                    quiet.sent()
                    yield LogChunk(run, 0, "", new_run=True)


def _by_pod(change: Recorded) -> str:
    return change.key.pod_id


def _change_number(event_id: str, pod_id: str) -> int | None:
    """The change number in `<pod_id>.<number>`, or None if `event_id` is not one of the pod's."""
    prefix, _, number = event_id.rpartition(".")
    return int(number) if prefix == pod_id and number.isdigit() else None


def _resumed_offset(resume_after: str, run: int, length: int) -> int | None:
    """The offset to resume from, when `resume_after` is a cursor of `run` within its
    output; None (send everything) otherwise."""
    run_text, _, offset_text = resume_after.partition(".")
    if not (run_text.isdigit() and offset_text.isdigit()) or int(run_text) != run:
        return None
    offset = int(offset_text)
    return offset if offset <= length else None

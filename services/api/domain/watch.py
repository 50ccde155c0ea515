"""Watching pods and following their output: the logic of PodsService's streams (WatchPod,
WatchPods, FollowPodLogs) and of their Server-Sent Events twins (PodStreamsService).

Level-triggered: a watcher reads the pod's record (through domain.pods, so authorization is
exactly GetPod's and GetPodLogs's, checked on every read) when it is woken and at least every
`poll` seconds, and sends the state only when it differs from the last one it sent, so each
state goes out once, in order, starting with the current one. `Wakeups` is the in-memory
fan-out: services/api/server.py subscribes once to the pod events health publishes on NATS
(an ordered consumer, `PodEventFeed` in domain/ports.py) and calls `Wakeups.notify` for each;
every watcher has its own small bounded queue of wake-ups, and one that falls `queue_size`
wake-ups behind is dropped (its stream ends; the client reconnects with its last id) rather
than ever slowing the others. A watcher that ends, for any reason, unregisters at once (and
the count of open watchers is logged, `watchers: N open`, on each change).

Event ids are derived from the state itself (`<pod_id>.<digest>`) and log cursors from the
run and offset (`<run>.<offset>`), so they survive an api restart: a client resuming with the
id of the state the pod is still in gets nothing until it changes; any other id starts again
from the current state.

Called by services/api/transport/watch_servicer.py; `Wakeups` is built by services/api/server.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from services.api.domain.ports import Closable, PodChangeFeed
from services.api.domain.principal import Principal
from services.api.errors import NotFoundError
from services.common.pods_model import ContainerStatus, PodRecord
from services.common.runtime.types import PodKey

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
POLL_SECONDS = 0.5
LOG_POLL_SECONDS = 0.5
BUSY_POLL_SECONDS = 0.05
BUSY_WINDOW_SECONDS = 30.0
QUEUE_SIZE = 64
# Statuses a pod passes through on its way to another.
PASSING = frozenset({"REQUESTED", "SPAWNER SETUP", "CREATING", "DELETING"})


class PodReader(Protocol):
    """The reads a watcher makes (domain.pods.Pods), each one authorized like GetPod."""

    async def get(self, who: Principal, pod_id: str) -> PodRecord: ...

    async def list_pods(self, who: Principal) -> list[PodRecord]: ...


class LogReader(Protocol):
    """The pod's current run and its output so far, and a cheap mark of where that output
    stands (domain.pods.Pods.current_logs and log_mark), each authorized like GetPodLogs."""

    async def current_logs(self, who: Principal, pod_id: str) -> tuple[int, str]: ...

    async def log_mark(self, who: Principal, pod_id: str) -> object: ...


class SlowWatcherError(Exception):
    """A watcher fell too far behind its wake-ups and was dropped."""


@dataclass(frozen=True)
class PodState:
    """What a watcher sends about a pod: SSE.md's `data` fields."""

    pod_id: str
    status: str
    status_container: ContainerStatus
    status_requested: str
    action_log: str
    time: datetime

    @classmethod
    def of(cls, record: PodRecord) -> PodState:
        return cls(
            pod_id=record.key.pod_id,
            status=record.status.value,
            status_container=record.status_container,
            status_requested=record.status_requested.value,
            action_log=record.action_logs[-1] if record.action_logs else "",
            time=record.update_ts,
        )

    @property
    def event_id(self) -> str:
        """`<pod_id>.<digest of everything but the time>`: equal states, equal ids."""
        fields = asdict(self)
        del fields["time"]
        text = json.dumps(fields, sort_keys=True, default=str)
        return f"{self.pod_id}.{hashlib.sha256(text.encode()).hexdigest()[:16]}"

    def same_as(self, other: PodState | None) -> bool:
        return other is not None and self.event_id == other.event_id


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
        """The next wake-up, or None after `timeout` seconds without one."""
        if self.dropped:
            raise SlowWatcherError("the watcher fell behind and was dropped; reconnect")
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


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
    """How often a watcher reads without being woken, and when it sends a keep-alive."""

    poll: float = POLL_SECONDS
    log_poll: float = LOG_POLL_SECONDS
    keepalive: float = KEEPALIVE_SECONDS
    # While a pod is on its way somewhere (REQUESTED, CREATING, ...) and changed lately, read
    # it this often: the spawner's CREATING publishes no event and may last well under a
    # `poll` before health records AVAILABLE.
    busy_poll: float = BUSY_POLL_SECONDS
    busy_window: float = BUSY_WINDOW_SECONDS

    def poll_for(self, states: Iterable[PodState], quiet_for: float) -> float:
        """The read interval, given the watched states and the seconds since one changed."""
        busy = quiet_for < self.busy_window and any(s.status in PASSING for s in states)
        return self.busy_poll if busy else self.poll


class _Quiet:
    """Counts the time since the last event sent, for keep-alives."""

    def __init__(self, clock: Callable[[], float], keepalive: float) -> None:
        self._clock = clock
        self._keepalive = keepalive
        self._since = self._changed = clock()

    def sent(self) -> None:
        self._since = self._clock()
        self._changed = self._since

    def quiet_for(self) -> float:
        """Seconds since the last event (keep-alives aside)."""
        return self._clock() - self._changed

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
        """The pod's current state (unless it is the one `resume_after` names), then each
        change; PodDeleted last. Errors before the first event (NotFound, PermissionDenied)
        come out of the first `__anext__`."""
        state = PodState.of(await self._pods.get(who, pod_id))
        key = PodKey(who.tenant_id, pod_id)
        quiet = _Quiet(self._clock, self._timing.keepalive)
        last: PodState | None = None
        with self._wakeups.pod(key) as watcher:
            while True:
                if not state.same_as(last) and state.event_id != resume_after:
                    quiet.sent()
                    yield state
                elif last is None:
                    yield None  # resumed with nothing new: a keep-alive opens the stream
                last, resume_after = state, ""  # the cursor counts for the first state only
                if quiet.due():
                    yield None
                await watcher.next_wake(self._timing.poll_for([state], quiet.quiet_for()))
                try:
                    state = PodState.of(await self._pods.get(who, pod_id))
                except NotFoundError:
                    yield PodDeleted(pod_id)
                    return

    async def watch_pods(
        self, who: Principal, resume_after: str = ""
    ) -> AsyncGenerator[Watched, None]:
        """Every readable pod's current state, then each change; PodDeleted when one goes."""
        quiet = _Quiet(self._clock, self._timing.keepalive)
        last: dict[str, PodState] = {}
        opened = False
        with self._wakeups.tenant(who.tenant_id) as watcher:
            while True:
                current = {r.key.pod_id: PodState.of(r) for r in await self._pods.list_pods(who)}
                for pod_id, state in sorted(current.items()):
                    if not state.same_as(last.get(pod_id)) and state.event_id != resume_after:
                        quiet.sent()
                        opened = True
                        yield state
                for pod_id in sorted(last.keys() - current.keys()):
                    quiet.sent()
                    yield PodDeleted(pod_id)
                last, resume_after = current, ""
                if not opened:
                    opened = True
                    yield None  # nothing to send yet: a keep-alive opens the stream
                if quiet.due():
                    yield None
                await watcher.next_wake(self._timing.poll_for(current.values(), quiet.quiet_for()))

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


def _resumed_offset(resume_after: str, run: int, length: int) -> int | None:
    """The offset to resume from, when `resume_after` is a cursor of `run` within its
    output; None (send everything) otherwise."""
    run_text, _, offset_text = resume_after.partition(".")
    if not (run_text.isdigit() and offset_text.isdigit()) or int(run_text) != run:
        return None
    offset = int(offset_text)
    return offset if offset <= length else None

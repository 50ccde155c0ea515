"""PodInformer: an in-memory cache of the deployment's Pods that follows the cluster, so health
reads memory instead of asking the API server about every pod on every resync.

Started by runtime.KubernetesRuntime on the first `watch()` (the health process) and read by
its inspect / list_managed while `synced`. The loop:

1. list the Pods (label selector of the deployment) and replace the cache; after the first
   list, differences to the previous cache are announced as changes (events missed while
   disconnected are not lost);
2. watch from the list's resource version; each event updates the cache and is announced;
   bookmarks only move the resource version; when the server ends the watch (its timeout) the
   next one starts from the last resource version seen;
3. relist after `relist_interval` even when everything works (a safety net against a cache
   that drifted), and at once when the watch says 410 Gone (the version is too old);
4. after any other failure (including a watch the server ends at once, without an event)
   wait with a capped exponential backoff, then relist. The cache is not `synced` (readers go
   to the API) from a failure until the next successful list.

Blocking API calls run in worker threads; an open watch is read by a daemon thread of its own
(it may last minutes, and must not hold a worker of the default executor or delay exit).
Time and sleeping are injected so tests run the loop with a fake clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from services.spawner.platforms.kubernetes.api import (
    Gone,
    KubeApi,
    KubeError,
    WatchEvent,
    WatchStream,
)
from services.spawner.platforms.kubernetes.config import InformerTiming

log = logging.getLogger(__name__)

Obj = dict[str, Any]

CREATE, UPDATE, DESTROY = "create", "update", "destroy"
# A watch the server ends sooner than this without any event counts as a failure, so that a
# misbehaving server or proxy is not asked again in a tight loop. Seconds.
MIN_QUIET_WATCH = 1.0


@dataclass(frozen=True)
class PodChange:
    """A Pod appeared ("create"), changed ("update") or disappeared ("destroy")."""

    action: str
    pod: Obj


def _name(pod: Obj) -> str:
    return str((pod.get("metadata") or {}).get("name", ""))


def _version(pod: Obj) -> str:
    return str((pod.get("metadata") or {}).get("resourceVersion", ""))


class PodInformer:
    """List-then-watch cache of the Pods matching one label selector."""

    def __init__(
        self,
        api: KubeApi,
        selector: str,
        timing: InformerTiming,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._api = api
        self._selector = selector
        self._timing = timing
        self._clock = clock
        self._sleep = sleep
        self._cache: dict[str, Obj] = {}
        self._listed = False
        self._synced = False
        self._progress = False  # a watch worked since the last failure
        self._subscribers: set[asyncio.Queue[PodChange]] = set()

    # -- reading -------------------------------------------------------------------------

    @property
    def synced(self) -> bool:
        """True while the cache follows the cluster (listed, and no failure since)."""
        return self._synced

    def get(self, name: str) -> Obj | None:
        """The cached Pod named `name`, None when there is none."""
        return self._cache.get(name)

    def pods(self) -> list[Obj]:
        """Every cached Pod."""
        return list(self._cache.values())

    def subscribe(self) -> asyncio.Queue[PodChange]:
        """A queue receiving every change from now on."""
        queue: asyncio.Queue[PodChange] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[PodChange]) -> None:
        self._subscribers.discard(queue)

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Follows the cluster until cancelled; never returns otherwise. Once it stops, the
        cache is no longer synced."""
        try:
            await self._follow()
        finally:
            self._synced = False

    async def _follow(self) -> None:
        backoff = self._timing.backoff_initial
        failures = 0
        while True:
            try:
                await self._list_and_watch()
            except Exception as exc:  # every failure is retried; the cache stops serving
                self._synced = False
                if self._progress:  # it worked for a while: start the backoff over
                    backoff, failures = self._timing.backoff_initial, 0
                self._progress = False
                failures += 1
                if isinstance(exc, Gone) and failures == 1:
                    log.info("pod watch expired (%s); listing again", exc.message or exc.reason)
                    continue
                if isinstance(exc, KubeError):
                    log.warning("following pods failed (%s); retrying in %.1fs", exc, backoff)
                else:
                    log.exception("following pods crashed; retrying in %.1fs", backoff)
                await self._sleep(backoff)
                backoff = min(backoff * 2, self._timing.backoff_max)

    async def _list_and_watch(self) -> None:
        """One list, then watches until the relist is due. Raises what the API raised."""
        version = await self._relist()
        relist_at = self._clock() + self._timing.relist_interval
        while (remaining := relist_at - self._clock()) > 0:
            timeout = max(1, min(self._timing.watch_timeout, math.ceil(remaining)))
            version = await self._watch(version, timeout)

    async def _relist(self) -> str:
        listing = await asyncio.to_thread(self._api.list_pods, self._selector)
        fresh = {_name(pod): pod for pod in listing.items}
        if self._listed:
            self._announce_differences(self._cache, fresh)
        self._cache = fresh
        self._listed = self._synced = True
        return listing.resource_version

    def _announce_differences(self, old: dict[str, Obj], new: dict[str, Obj]) -> None:
        for name, pod in new.items():
            before = old.get(name)
            if before is None:
                self._announce(CREATE, pod)
            elif _version(before) != _version(pod):
                self._announce(UPDATE, pod)
        for name, pod in old.items():
            if name not in new:
                self._announce(DESTROY, pod)

    async def _watch(self, version: str, timeout: int) -> str:
        """Follows one watch to its end; returns the last resource version seen."""
        started = self._clock()
        stream = await asyncio.to_thread(self._api.watch_pods, self._selector, version, timeout)
        pump = _StreamPump(stream, asyncio.get_running_loop())
        pump.start()
        events = 0
        try:
            while (event := await pump.next()) is not None:
                version = self._apply(event) or version
                events += 1
                self._progress = True
        finally:
            pump.close()
        if not events and self._clock() - started < MIN_QUIET_WATCH:
            raise KubeError(None, "WatchEndedAtOnce", "the server ended the watch at once")
        self._progress = True  # ended by the server's timeout: a healthy watch
        return version

    def _apply(self, event: WatchEvent) -> str:
        pod = event.object
        name = _name(pod)
        if event.type == "BOOKMARK":
            return _version(pod)
        if event.type == "DELETED":
            self._cache.pop(name, None)
            self._announce(DESTROY, pod)
        elif event.type in ("ADDED", "MODIFIED"):
            existed = name in self._cache
            self._cache[name] = pod
            self._announce(UPDATE if existed else CREATE, pod)
        return _version(pod)

    def _announce(self, action: str, pod: Obj) -> None:
        change = PodChange(action=action, pod=pod)
        for queue in self._subscribers:
            queue.put_nowait(change)


@dataclass(frozen=True)
class _End:
    error: BaseException | None


class _StreamPump:
    """Reads a blocking WatchStream in a daemon thread and hands its events to asyncio."""

    def __init__(self, stream: WatchStream, loop: asyncio.AbstractEventLoop) -> None:
        self._stream = stream
        self._loop = loop
        self._queue: asyncio.Queue[WatchEvent | _End] = asyncio.Queue()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pod-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    async def next(self) -> WatchEvent | None:
        """The next event; None when the server ended the watch; raises what the stream
        raised."""
        item = await self._queue.get()
        if isinstance(item, _End):
            if item.error is not None:
                raise item.error
            return None
        return item

    def close(self) -> None:
        """Closes the stream, which ends the reading thread."""
        self._closing.set()
        with contextlib.suppress(Exception):  # best effort
            self._stream.close()

    def _run(self) -> None:
        end = _End(None)
        try:
            for event in self._stream:
                if self._closing.is_set():
                    return
                self._deliver(event)
        except Exception as exc:  # reported to the reader, which decides
            end = _End(exc)
        if not self._closing.is_set():
            self._deliver(end)

    def _deliver(self, item: WatchEvent | _End) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self._closing.set()

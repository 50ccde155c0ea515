"""HelperPool: started storage helpers kept for a short while after an operation, so that a
user browsing a volume (list, download, list again) pays for starting a helper once.

Used by helper_store.HelperVolumeStore (`_helper`), for both platform stores: helpers with one mount
(the file calls) are pooled; a snapshot copy, which mounts two, gets a helper of its own. Blocking
and thread-safe: called from the stores' worker threads.

A helper is leased to one operation at a time. After a clean operation (or one that failed
on the user's input, a PermanentError) it goes back to the pool; after anything else it is
stopped, so a helper in an unknown state is never reused. On lease, a pooled helper must
still be alive (`alive`, one cheap call: another process may have removed it, as deleting a
volume removes our helpers). Helpers idle longer than `idle_s`, or older than `max_age_s`
(helpers end themselves after HELPER_LIFETIME_S), are stopped by a reaper thread that runs
while the pool holds any.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from services.common.outcomes import PermanentError
from services.spawner.storage.helper_ops import HelperShell

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
H = TypeVar("H")

DEFAULT_IDLE_S = 30.0


@dataclass
class _Pooled(Generic[H]):
    handle: H
    shell: HelperShell
    started: float
    last_used: float


class HelperPool(Generic[K, H]):
    """Helpers by key (what is mounted, how); `start` makes one, `stop` removes it."""

    def __init__(
        self,
        start: Callable[[K], tuple[H, HelperShell]],
        stop: Callable[[H], None],
        alive: Callable[[H], bool],
        *,
        idle_s: float = DEFAULT_IDLE_S,
        max_age_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._start = start
        self._stop = stop
        self._alive = alive
        self.idle_s = idle_s
        self._max_age_s = max_age_s
        self._clock = clock
        self._idle: dict[K, list[_Pooled[H]]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._reaper: threading.Thread | None = None
        self._closed = False

    @contextlib.contextmanager
    def lease(self, key: K) -> Iterator[HelperShell]:
        """A helper for `key`, pooled or new, for the duration of the block."""
        pooled = self._take(key)
        if pooled is None:
            handle, shell = self._start(key)
            now = self._clock()
            pooled = _Pooled(handle, shell, started=now, last_used=now)
        reusable = False
        try:
            yield pooled.shell
            reusable = True
        except PermanentError:  # the request was wrong, not the helper
            reusable = True
            raise
        finally:
            if reusable and self.idle_s > 0:
                self._give_back(key, pooled)
            else:
                self._stop_quietly(pooled.handle)

    @contextlib.contextmanager
    def helper(self, key: K, pooled: bool) -> Iterator[HelperShell]:
        """A leased helper when `pooled`, else one of its own, stopped after the block."""
        if pooled:
            with self.lease(key) as shell:
                yield shell
            return
        handle, shell = self._start(key)
        try:
            yield shell
        finally:
            self._stop_quietly(handle)

    def reap(self) -> int:
        """Stops the helpers idle or old beyond their limits; how many."""
        now = self._clock()
        expired: list[_Pooled[H]] = []
        with self._lock:
            for key in list(self._idle):
                keep: list[_Pooled[H]] = []
                for pooled in self._idle[key]:
                    (expired if self._expired(pooled, now) else keep).append(pooled)
                if keep:
                    self._idle[key] = keep
                else:
                    del self._idle[key]
        for pooled in expired:
            self._stop_quietly(pooled.handle)
        return len(expired)

    def discard(self, wanted: Callable[[K], bool]) -> int:
        """Stops the pooled (idle) helpers whose key `wanted` picks; how many."""
        dropped: list[_Pooled[H]] = []
        with self._lock:
            for key in [k for k in self._idle if wanted(k)]:
                dropped.extend(self._idle.pop(key))
        for pooled in dropped:
            self._stop_quietly(pooled.handle)
        return len(dropped)

    def close(self) -> None:
        """Stops every pooled helper and the reaper; later leases start and stop their own."""
        with self._lock:
            self._closed = True
            pooled = [p for entries in self._idle.values() for p in entries]
            self._idle.clear()
        self._wake.set()
        for entry in pooled:
            self._stop_quietly(entry.handle)

    def pooled_count(self) -> int:
        with self._lock:
            return sum(len(entries) for entries in self._idle.values())

    # --- internals ----------------------------------------------------------------------

    def _expired(self, pooled: _Pooled[H], now: float) -> bool:
        return now - pooled.last_used >= self.idle_s or now - pooled.started >= self._max_age_s

    def _take(self, key: K) -> _Pooled[H] | None:
        while True:
            with self._lock:
                entries = self._idle.get(key) or []
                pooled = entries.pop() if entries else None
                if not entries:
                    self._idle.pop(key, None)
            if pooled is None:
                return None
            if not self._expired(pooled, self._clock()) and self._is_alive(pooled.handle):
                return pooled
            self._stop_quietly(pooled.handle)

    def _give_back(self, key: K, pooled: _Pooled[H]) -> None:
        pooled.last_used = self._clock()
        with self._lock:
            if self._closed:
                closed = True
            else:
                closed = False
                self._idle.setdefault(key, []).append(pooled)
                if self._reaper is None or not self._reaper.is_alive():
                    self._reaper = threading.Thread(
                        target=self._reap_while_pooled, name="storage-helper-reaper", daemon=True
                    )
                    self._reaper.start()
        if closed:
            self._stop_quietly(pooled.handle)

    def _reap_while_pooled(self) -> None:
        while True:
            self._wake.wait(max(self.idle_s / 2, 0.05))
            if self._closed:
                return
            self.reap()
            with self._lock:
                if not self._idle:
                    self._reaper = None
                    return

    def _is_alive(self, handle: H) -> bool:
        try:
            return self._alive(handle)
        except Exception:
            return False

    def _stop_quietly(self, handle: H) -> None:
        try:
            self._stop(handle)
        except Exception as exc:
            log.warning("removing a storage helper failed: %s", exc)

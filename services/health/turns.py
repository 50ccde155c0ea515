"""One pod's observations take turns: one at a time, first come first served, except that an
urgent one (the prober's, recording the probe that has just answered) goes before those still
waiting. It never interrupts the observation in progress, and every observation that was
waiting still runs after it, so whatever they see is recorded last, as before.

Used by watcher.py, one PodTurns per pod while the pod is being observed (forgotten when idle,
so 10,000 pods seen once hold none).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


class PodTurns:
    """A lock whose waiters are served urgent ones first, each kind in arrival order."""

    def __init__(self) -> None:
        self._busy = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()

    @contextlib.asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        """Holds the pod's turn for the block."""
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    @property
    def waiting(self) -> int:
        """Callers waiting for their turn."""
        return sum(not f.done() for f in (*self._urgent, *self._others))

    @property
    def idle(self) -> bool:
        """Nobody holds the turn or waits for it: the watcher may forget this PodTurns."""
        return not self._busy and self.waiting == 0

    async def _acquire(self, urgent: bool) -> None:
        if not self._busy:
            self._busy = True
            return
        queue = self._urgent if urgent else self._others
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # the turn was handed over as the caller was cancelled
            with contextlib.suppress(ValueError):
                queue.remove(future)
            raise

    def _release(self) -> None:
        """Hands the turn to the next waiter (still busy), or frees it."""
        for queue in (self._urgent, self._others):
            while queue:
                future = queue.popleft()
                if not future.done():
                    future.set_result(None)
                    return
        self._busy = False

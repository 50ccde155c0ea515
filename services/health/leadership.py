"""Only one health replica runs the watch and resync loops at a time: the one holding the
`health` lease (a JetStream key-value entry with a TTL, services.common.messaging.nats_bus.Lease).
The others stand by and take over when the lease expires. Called by services/health/server.py.
The loops are idempotent, so the worst case (a short overlap) does no harm, but it doubles
work and pod events, which this avoids."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from services.common.outcomes import TemporaryError

log = logging.getLogger(__name__)


class LeaseHolder(Protocol):
    """What leadership needs of a lease."""

    async def try_hold(self) -> bool: ...

    async def release(self) -> None: ...


async def run_while_leader(
    lease: LeaseHolder, work: Callable[[], Awaitable[None]], renew_every: float
) -> None:
    """Runs `work` while the lease is ours, renewing it every `renew_every` seconds; stops
    the work as soon as a renewal fails, and restarts it if it ends while we still lead."""
    task: asyncio.Task[None] | None = None
    try:
        while True:
            try:
                held = await lease.try_hold()
            except TemporaryError as exc:
                log.warning("cannot renew the health lease (%s); standing by", exc)
                held = False
            if held and (task is None or task.done()):
                log.info("leading: running the health loops")
                task = asyncio.create_task(_run(work))
            elif not held and task is not None:
                log.info("not leading: stopping the health loops")
                await _stop(task)
                task = None
            await asyncio.sleep(renew_every)
    finally:
        if task is not None:
            await _stop(task)
        with contextlib.suppress(TemporaryError):
            await lease.release()


async def _run(work: Callable[[], Awaitable[None]]) -> None:
    try:
        await work()
    except Exception:
        log.exception("the health loops stopped; restarting them while leading")


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

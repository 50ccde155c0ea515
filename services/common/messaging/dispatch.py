"""Delivery of commands to a handler: per-pod ordering, a concurrency bound, keep-alives,
and settlement of each outcome with an exponential retry backoff; transport-free.

Called by the NATS adapter (nats_bus.py `MessageBus.consume_commands`), which feeds it
JetStream messages; the unit tests feed it in-memory deliveries. It knows a delivery only
through the `Delivery` Protocol, and the transport's own errors only as the exception types
the adapter passes in (`delivery_errors`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.common.messaging.messages import CommandHandler, InvalidMessageError, PodCommand
from services.common.outcomes import Done, Failed, Outcome, PermanentError, Retry, TemporaryError
from services.common.runtime.types import PodKey

log = logging.getLogger(__name__)

WAITING_PER_SLOT = 4  # messages in hand at most, per pod that may be worked on at once


def retry_backoff(
    deliveries: int, *, base: float = 1.0, cap: float = 60.0, jitter: float = 1.0
) -> float:
    """Seconds before redelivering a command that failed on delivery `deliveries`: `base`
    doubled for each earlier delivery, at most `cap`, then scaled into its upper half by
    `jitter` (0 to 1) so that commands failing together do not all come back together."""
    exponent = min(max(deliveries - 1, 0), 30)
    delay = float(min(cap, max(base, 0.0) * 2**exponent))
    return delay * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))


class DeliveryInfo(Protocol):
    """How often a message has been delivered (1 the first time)."""

    @property
    def num_delivered(self) -> int: ...


class Delivery(Protocol):
    """What the dispatcher needs of a JetStream message (nats Msg, or a test double)."""

    @property
    def subject(self) -> str: ...

    @property
    def data(self) -> bytes: ...

    @property
    def metadata(self) -> DeliveryInfo: ...

    async def ack(self) -> None: ...

    async def nak(self, delay: float | None = None) -> None: ...

    async def term(self) -> None: ...

    async def in_progress(self) -> None: ...


CommandScope = Callable[[Delivery, PodCommand, int], AbstractContextManager[object]]
"""What runs around the handling of one command (message, command, delivery count): the
adapter's metrics, trace and log context (services/common/command_context.py)."""


def no_scope(_message: Delivery, _command: PodCommand, _deliveries: int) -> nullcontext[None]:
    return nullcontext()


@dataclass
class _KeyLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class _KeyedLocks:
    """One FIFO lock per pod, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[PodKey, _KeyLock] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: PodKey) -> AsyncIterator[None]:
        entry = self._locks.setdefault(key, _KeyLock())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._locks[key]


def _deliveries(message: Delivery, errors: tuple[type[Exception], ...]) -> int:
    try:
        return message.metadata.num_delivered
    except errors:  # not a JetStream message: count it as a first delivery
        return 1


class Dispatcher:
    """Runs the handler for each delivered command and settles the message.

    Commands of at most `concurrency` pods are in hand at once; commands for the same pod run
    one at a time, in arrival order, and those waiting behind their pod's running command do
    not take the place of another pod's (a backlog on one pod never holds up the others). At
    most `concurrency * WAITING_PER_SLOT` messages are in hand in all. A message in hand gets
    in_progress() every `heartbeat` seconds so a long handler (or one waiting for its pod's
    lock) is not redelivered meanwhile.

    `delivery_errors` are the transport's exceptions of a failed ack/nak/term/in_progress
    (and of a message without delivery metadata): they are logged, and the message is then
    redelivered by the transport in due time. `scope` runs around each command's handling
    and settlement."""

    def __init__(
        self,
        handler: CommandHandler,
        *,
        concurrency: int,
        heartbeat: float,
        retry_cap: float = 60.0,
        jitter: Callable[[], float] = random.random,
        delivery_errors: tuple[type[Exception], ...] = (),
        scope: CommandScope = no_scope,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self._handler = handler
        self._retry_cap = retry_cap
        self._jitter = jitter
        self._errors = delivery_errors
        self._scope = scope
        self._concurrency = concurrency
        self._heartbeat = heartbeat
        self._locks = _KeyedLocks()
        self._tasks: dict[asyncio.Task[None], PodKey | None] = {}
        self._pods: Counter[PodKey | None] = Counter()  # messages in hand, by pod
        self._slot_freed = asyncio.Event()

    @property
    def free_slots(self) -> int:
        """How many more messages may be taken now: each may be for a pod not yet in hand."""
        room = self._concurrency * WAITING_PER_SLOT - len(self._tasks)
        return min(self._concurrency - len(self._pods), room)

    async def wait_for_slot(self, stop: asyncio.Event) -> None:
        """Returns when a slot is free or `stop` is set."""
        while self.free_slots <= 0 and not stop.is_set():
            self._slot_freed.clear()
            await _first_of(self._slot_freed, stop)

    def submit(self, message: Delivery) -> None:
        try:
            command: PodCommand | None = PodCommand.decode(message.data)
        except InvalidMessageError as exc:
            log.error("dropping undecodable command on %s: %s", message.subject, exc)
            command = None
        key = None if command is None else command.key
        task = asyncio.create_task(
            self._process(message, command), name=f"command {message.subject}"
        )
        self._tasks[task] = key
        self._pods[key] += 1
        task.add_done_callback(self._finished)

    def abandon(self) -> None:
        """Cancels every handler; their messages stay unacked and will be redelivered."""
        for task in list(self._tasks):
            task.cancel()

    async def drain(self) -> None:
        """Waits for every message in hand to be settled (cancels them if we are cancelled)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _finished(self, task: asyncio.Task[None]) -> None:
        key = self._tasks.pop(task)
        self._pods[key] -= 1
        if self._pods[key] <= 0:
            del self._pods[key]
        self._slot_freed.set()

    async def _process(self, message: Delivery, command: PodCommand | None) -> None:
        keep_alive = asyncio.create_task(self._keep_alive(message))
        try:
            await self._handle(message, command)
        finally:
            await _cancel(keep_alive)

    async def _handle(self, message: Delivery, command: PodCommand | None) -> None:
        if command is None:  # undecodable (logged by submit)
            await self._send_settlement(message.term())
            return
        async with self._locks.hold(command.key):
            deliveries = _deliveries(message, self._errors)
            with self._scope(message, command, deliveries):
                outcome = await self._run(command, deliveries)
                await self._settle(message, command, outcome, deliveries)

    async def _run(self, command: PodCommand, deliveries: int) -> Outcome:
        """The handler's outcome. Our own errors map to outcomes (TemporaryError → Retry with
        its delay as the backoff's base, PermanentError → Failed); any other exception is a
        crash, logged with its traceback and retried with backoff from 1 s."""
        try:
            outcome = await self._handler(command)
        except TemporaryError as exc:
            return Retry(reason=str(exc), delay=exc.delay)
        except PermanentError as exc:
            return Failed(reason=str(exc))
        except Exception:
            log.exception("%s crashed (delivery %d)", command, deliveries)
            return Retry(reason="handler crashed", delay=1.0)
        if not isinstance(outcome, Done | Retry | Failed):
            log.error("%s: handler returned %r, not an Outcome", command, outcome)
            return Retry(reason="handler returned no outcome", delay=1.0)
        return outcome

    async def _settle(
        self, message: Delivery, command: PodCommand, outcome: Outcome, deliveries: int
    ) -> None:
        match outcome:
            case Done(detail=detail):
                log.debug("%s done: %s", command, detail)
                await self._send_settlement(message.ack())
            case Retry(reason=reason, delay=base):
                delay = retry_backoff(
                    deliveries, base=base, cap=self._retry_cap, jitter=self._jitter()
                )
                log.info("%s retry in %.1fs (delivery %d): %s", command, delay, deliveries, reason)
                await self._send_settlement(message.nak(delay=delay))
            case Failed(reason=reason):
                log.warning("%s failed for good: %s", command, reason)
                await self._send_settlement(message.term())

    async def _keep_alive(self, message: Delivery) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            try:
                await message.in_progress()
            except self._errors as exc:
                log.debug("in_progress for %s failed: %s", message.subject, exc)

    async def _send_settlement(self, action: Awaitable[None]) -> None:
        """Sends an ack/nak/term; if that fails the message is simply redelivered later."""
        try:
            await action
        except self._errors as exc:
            log.warning("could not settle a command (it will be redelivered): %s", exc)


async def _first_of(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            await _cancel(waiter)


async def _cancel(task: asyncio.Task[Any]) -> None:
    """Cancels `task` and waits for it, without swallowing our own cancellation."""
    task.cancel()
    await asyncio.wait([task])

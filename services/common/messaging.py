"""Pod commands and pod events over NATS JetStream; the only module of ours that imports nats.

Callers: services/api publishes a `PodCommand` after writing desired state to the database;
services/spawner runs `MessageBus.consume_commands` and acks a command only once the runtime
change is applied; services/health publishes `PodEvent`s when a pod's observed status changes
(and may publish commands again to heal drift); the gateway control plane subscribes to events.

Commands are level-triggered ("reconcile pod X"), so a redelivered or duplicated command is
harmless; that is what makes ack-after-apply crash-safe. Per deployment D (see `Names`):

    stream PODS_D_COMMANDS  subjects pods.D.commands.<tenant>.<pod>  work queue, durable pull
                            consumer "spawner" (explicit ack, unlimited redelivery)
    stream PODS_D_EVENTS    subjects pods.D.events.<tenant>.<pod>    limits, kept for 1 hour

Errors leave this module as outcomes.TemporaryError (NATS unavailable, timeouts),
outcomes.PermanentError (JetStream rejected a request, e.g. an incompatible stream change) or
InvalidMessageError (a payload that breaks the wire contract), never as nats exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    Header,
    PubAck,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from services.common.outcomes import (
    Done,
    Failed,
    Outcome,
    PermanentError,
    PodsError,
    Retry,
    TemporaryError,
)
from services.common.runtime.types import PodKey
from services.common.settings import Settings, SettingsError

log = logging.getLogger(__name__)

WIRE_VERSION = 1
SPAWNER_CONSUMER = "spawner"

COMMANDS_MAX_AGE = 24 * 3600.0  # seconds; health re-publishes commands for anything older
COMMANDS_MAX_PER_POD = 100  # backlog bound per pod subject (oldest dropped first)
COMMANDS_DUPLICATE_WINDOW = 120.0  # seconds; applies to publishes that carry a msg_id
COMMANDS_MAX_ACK_PENDING = 1000  # commands handed out and not yet settled, all spawners
EVENTS_MAX_AGE = 3600.0  # seconds

_TOKEN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_DEPLOYMENT_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?")  # a slug, as runtime naming
_TEXT_MAX = 200
_FETCH_WAIT = 1.0  # seconds one pull request waits for commands; bounds stop latency
_FETCH_ERROR_PAUSE = 0.5
_SETUP_RETRY_PAUSE = 1.0
_MIN_HEARTBEAT = 0.1  # seconds between in_progress() of a command in hand, at least
_EVENTS_HEARTBEAT = 1.0  # seconds; two missed heartbeats make a subscription resume
_SETTLE_FLUSH_WAIT = 2  # seconds (nats-py wants an int)


class InvalidMessageError(PermanentError, ValueError):
    """A message, or a value meant for one, that breaks the wire contract."""


# ---------------------------------------------------------------- wire format


def _token(what: str, value: object) -> str:
    """A subject-safe identifier (tenant or pod id)."""
    if not isinstance(value, str) or not _TOKEN_RE.fullmatch(value):
        raise InvalidMessageError(f"{what} must match {_TOKEN_RE.pattern}, got {value!r}")
    return value


def _text(what: str, value: object) -> str:
    """A short, non-empty, printable string (reason, status)."""
    if not isinstance(value, str) or not value or len(value) > _TEXT_MAX:
        raise InvalidMessageError(f"{what} must be 1-{_TEXT_MAX} characters, got {value!r}")
    if not value.isprintable():
        raise InvalidMessageError(f"{what} must be printable, got {value!r}")
    return value


def _count(what: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidMessageError(f"{what} must be a non-negative integer, got {value!r}")
    return value


def _encode(fields: dict[str, object]) -> bytes:
    return json.dumps({"v": WIRE_VERSION, **fields}, separators=(",", ":")).encode()


def _decode(data: bytes, kind: str) -> dict[str, Any]:
    """The JSON object of a message, checked for our wire version."""
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidMessageError(f"{kind} is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidMessageError(f"{kind} must be a JSON object, got {type(obj).__name__}")
    if obj.get("v") != WIRE_VERSION:
        raise InvalidMessageError(f"{kind} has unsupported version {obj.get('v')!r}")
    return obj


@dataclass(frozen=True)
class PodCommand:
    """ "Reconcile this pod": published by api and health, consumed by the spawner.

    `reason` ("create", "delete", "resync", ...) is for logs; the handler reads the desired
    state from the database, so any command for a pod makes it converge."""

    tenant_id: str
    pod_id: str
    reason: str

    def __post_init__(self) -> None:
        _token("tenant_id", self.tenant_id)
        _token("pod_id", self.pod_id)
        _text("reason", self.reason)

    @property
    def key(self) -> PodKey:
        return PodKey(self.tenant_id, self.pod_id)

    def encode(self) -> bytes:
        return _encode({"tenant_id": self.tenant_id, "pod_id": self.pod_id, "reason": self.reason})

    @classmethod
    def decode(cls, data: bytes) -> PodCommand:
        """Raises InvalidMessageError for anything but a valid encoded command."""
        obj = _decode(data, "command")
        return cls(
            tenant_id=_token("tenant_id", obj.get("tenant_id")),
            pod_id=_token("pod_id", obj.get("pod_id")),
            reason=_text("reason", obj.get("reason")),
        )


@dataclass(frozen=True)
class PodEvent:
    """A pod's observed status changed: published by health, read by the gateway and others.

    `generation` is the pod's spec generation the status was observed for."""

    tenant_id: str
    pod_id: str
    status: str
    generation: int

    def __post_init__(self) -> None:
        _token("tenant_id", self.tenant_id)
        _token("pod_id", self.pod_id)
        _text("status", self.status)
        _count("generation", self.generation)

    @property
    def key(self) -> PodKey:
        return PodKey(self.tenant_id, self.pod_id)

    def encode(self) -> bytes:
        return _encode(
            {
                "tenant_id": self.tenant_id,
                "pod_id": self.pod_id,
                "status": self.status,
                "generation": self.generation,
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> PodEvent:
        """Raises InvalidMessageError for anything but a valid encoded event."""
        obj = _decode(data, "event")
        return cls(
            tenant_id=_token("tenant_id", obj.get("tenant_id")),
            pod_id=_token("pod_id", obj.get("pod_id")),
            status=_text("status", obj.get("status")),
            generation=_count("generation", obj.get("generation")),
        )


# ---------------------------------------------------------------- naming


@dataclass(frozen=True)
class Names:
    """Stream names and subjects of one deployment.

    Deployment ids are slugs (lowercase letters, digits, inner '-'; as in runtime naming);
    stream names upper-case them and turn '-' into '_', which cannot collide because ids
    never contain '_' or upper-case letters."""

    deployment_id: str

    def __post_init__(self) -> None:
        if not _DEPLOYMENT_RE.fullmatch(self.deployment_id):
            raise SettingsError(
                "PODS_DEPLOYMENT_ID must be lowercase letters, digits and inner '-' "
                "(at most 100 characters), "
                f"got {self.deployment_id!r}"
            )

    @property
    def _stream_prefix(self) -> str:
        return "PODS_" + self.deployment_id.upper().replace("-", "_")

    @property
    def commands_stream(self) -> str:
        return f"{self._stream_prefix}_COMMANDS"

    @property
    def events_stream(self) -> str:
        return f"{self._stream_prefix}_EVENTS"

    @property
    def commands_subjects(self) -> str:
        return f"pods.{self.deployment_id}.commands.>"

    @property
    def events_subjects(self) -> str:
        return f"pods.{self.deployment_id}.events.>"

    def command_subject(self, key: PodKey) -> str:
        return f"pods.{self.deployment_id}.commands.{key.tenant_id}.{key.pod_id}"

    def event_subject(self, key: PodKey) -> str:
        return f"pods.{self.deployment_id}.events.{key.tenant_id}.{key.pod_id}"


def retry_backoff(
    deliveries: int, *, base: float = 1.0, cap: float = 60.0, jitter: float = 1.0
) -> float:
    """Seconds before redelivering a command that failed on delivery `deliveries`: `base`
    doubled for each earlier delivery, at most `cap`, then scaled into its upper half by
    `jitter` (0 to 1) so that commands failing together do not all come back together."""
    exponent = min(max(deliveries - 1, 0), 30)
    delay = float(min(cap, max(base, 0.0) * 2**exponent))
    return delay * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))


# ---------------------------------------------------------------- consuming (transport-free)

CommandHandler = Callable[[PodCommand], Awaitable[Outcome]]
EventHandler = Callable[[PodEvent], Awaitable[None]]


class _DeliveryInfo(Protocol):
    @property
    def num_delivered(self) -> int: ...


class _Delivery(Protocol):
    """What the dispatcher needs of a JetStream message (nats Msg, or a test double)."""

    @property
    def subject(self) -> str: ...

    @property
    def data(self) -> bytes: ...

    @property
    def metadata(self) -> _DeliveryInfo: ...

    async def ack(self) -> None: ...

    async def nak(self, delay: float | None = None) -> None: ...

    async def term(self) -> None: ...

    async def in_progress(self) -> None: ...


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


def _deliveries(message: _Delivery) -> int:
    try:
        return message.metadata.num_delivered
    except nats.errors.Error:  # not a JetStream message: count it as a first delivery
        return 1


class _Dispatcher:
    """Runs the handler for each delivered command and settles the message.

    At most `concurrency` messages are in hand; commands for the same pod run one at a time,
    in arrival order. A message in hand gets in_progress() every `heartbeat` seconds so a long
    handler (or one waiting for its pod's lock) is not redelivered meanwhile."""

    def __init__(
        self,
        handler: CommandHandler,
        *,
        concurrency: int,
        heartbeat: float,
        retry_cap: float = 60.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self._handler = handler
        self._retry_cap = retry_cap
        self._jitter = jitter
        self._concurrency = concurrency
        self._heartbeat = heartbeat
        self._locks = _KeyedLocks()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()

    @property
    def free_slots(self) -> int:
        return self._concurrency - len(self._tasks)

    async def wait_for_slot(self, stop: asyncio.Event) -> None:
        """Returns when a slot is free or `stop` is set."""
        while self.free_slots <= 0 and not stop.is_set():
            self._slot_freed.clear()
            await _first_of(self._slot_freed, stop)

    def submit(self, message: _Delivery) -> None:
        task = asyncio.create_task(self._process(message), name=f"command {message.subject}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def abandon(self) -> None:
        """Cancels every handler; their messages stay unacked and will be redelivered."""
        for task in self._tasks:
            task.cancel()

    async def drain(self) -> None:
        """Waits for every message in hand to be settled (cancels them if we are cancelled)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slot_freed.set()

    async def _process(self, message: _Delivery) -> None:
        keep_alive = asyncio.create_task(self._keep_alive(message))
        try:
            await self._handle(message)
        finally:
            await _cancel(keep_alive)

    async def _handle(self, message: _Delivery) -> None:
        try:
            command = PodCommand.decode(message.data)
        except InvalidMessageError as exc:
            log.error("dropping undecodable command on %s: %s", message.subject, exc)
            await _send_settlement(message.term())
            return
        async with self._locks.hold(command.key):
            deliveries = _deliveries(message)
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
        self, message: _Delivery, command: PodCommand, outcome: Outcome, deliveries: int
    ) -> None:
        match outcome:
            case Done(detail=detail):
                log.debug("%s done: %s", command, detail)
                await _send_settlement(message.ack())
            case Retry(reason=reason, delay=base):
                delay = retry_backoff(
                    deliveries, base=base, cap=self._retry_cap, jitter=self._jitter()
                )
                log.info("%s retry in %.1fs (delivery %d): %s", command, delay, deliveries, reason)
                await _send_settlement(message.nak(delay=delay))
            case Failed(reason=reason):
                log.warning("%s failed for good: %s", command, reason)
                await _send_settlement(message.term())

    async def _keep_alive(self, message: _Delivery) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            try:
                await message.in_progress()
            except nats.errors.Error as exc:
                log.debug("in_progress for %s failed: %s", message.subject, exc)


async def _send_settlement(action: Awaitable[None]) -> None:
    """Sends an ack/nak/term; if that fails the message is simply redelivered later."""
    try:
        await action
    except nats.errors.Error as exc:
        log.warning("could not settle a command (it will be redelivered): %s", exc)


async def _first_of(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            await _cancel(waiter)


async def _wait_for(event: asyncio.Event, seconds: float) -> None:
    """Returns when `event` is set or after `seconds`, whichever comes first."""
    with suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


async def _cancel(task: asyncio.Task[Any]) -> None:
    """Cancels `task` and waits for it, without swallowing our own cancellation."""
    task.cancel()
    await asyncio.wait([task])


# ---------------------------------------------------------------- events


class EventSubscription:
    """A live subscription to pod events; `close()` ends it."""

    def __init__(self, subscription: JetStreamContext.PushSubscription) -> None:
        self._subscription = subscription

    async def close(self) -> None:
        with suppress(nats.errors.Error):
            await self._subscription.unsubscribe()


class _EventQueue:
    """Async iterator over events put by a subscription callback."""

    def __init__(self, queue: asyncio.Queue[PodEvent]) -> None:
        self._queue = queue

    def __aiter__(self) -> _EventQueue:
        return self

    async def __anext__(self) -> PodEvent:
        return await self._queue.get()


def _event_callback(handler: EventHandler) -> Callable[[Msg], Awaitable[None]]:
    async def on_message(message: Msg) -> None:
        try:
            event = PodEvent.decode(message.data)
        except InvalidMessageError as exc:
            log.warning("ignoring undecodable event on %s: %s", message.subject, exc)
            return
        try:
            await handler(event)
        except Exception:
            log.exception("event handler failed for %s", event)

    return on_message


# ---------------------------------------------------------------- the bus


class Lease:
    """A lease (leader election) in a JetStream key-value bucket with a TTL: whoever creates
    the key holds it, renews it by compare-and-set on its revision, and loses it when another
    holder's create succeeds after it expired."""

    def __init__(self, kv: Any, name: str, holder: str) -> None:
        self._kv = kv
        self._name = name
        self._holder = holder
        self._revision: int | None = None

    @property
    def held(self) -> bool:
        return self._revision is not None

    async def try_hold(self) -> bool:
        """Acquires the lease if it is free, or renews it if held; True while it is ours."""
        try:
            if self._revision is None:
                self._revision = await self._kv.create(self._name, self._holder.encode())
            else:
                self._revision = await self._kv.update(
                    self._name, self._holder.encode(), last=self._revision
                )
        except nats.js.errors.KeyWrongLastSequenceError:
            self._revision = None  # someone else holds it (or took it over after expiry)
        except (nats.errors.Error, TimeoutError) as exc:
            self._revision = None
            raise _translate(f"holding lease {self._name}", exc) from exc
        return self._revision is not None

    async def release(self) -> None:
        """Gives the lease up at once (on a clean shutdown), if it is ours."""
        if self._revision is None:
            return
        with contextlib.suppress(nats.errors.Error, TimeoutError):
            await self._kv.delete(self._name, last=self._revision)
        self._revision = None


class MessageBus:
    """One NATS connection of a process, with the deployment's streams and subjects."""

    def __init__(self, settings: Settings, *, publish_wait: float = 5.0) -> None:
        """Use `MessageBus.connect(settings)`; this only prepares names and the client."""
        self.names = Names(settings.deployment_id)
        self._settings = settings
        self._publish_wait = publish_wait
        self._nc = Client()
        self._js: JetStreamContext | None = None
        self._streams_ensured = False
        self._recheck_streams = False

    @classmethod
    async def connect(
        cls, settings: Settings, *, connect_within: float = 10.0, publish_wait: float = 5.0
    ) -> MessageBus:
        """Connects to settings.nats_url, reconnecting forever once connected.

        Raises TemporaryError when no connection is made within `connect_within` seconds."""
        bus = cls(settings, publish_wait=publish_wait)
        await bus._open(connect_within)
        return bus

    async def close(self) -> None:
        """Flushes pending acks and publishes, then closes the connection."""
        if self._nc.is_closed:
            return
        with suppress(nats.errors.Error, TimeoutError):
            await self._nc.flush(timeout=_SETTLE_FLUSH_WAIT)
        await self._nc.close()

    async def __aenter__(self) -> MessageBus:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return bool(self._nc.is_connected)

    # -- leases

    async def lease(self, name: str, holder: str, ttl: float) -> Lease:
        """A lease named `name` in this deployment's lease bucket, held for `holder`; an
        unrenewed lease expires after `ttl` seconds."""
        bucket = f"PODS_{self.names.deployment_id.upper().replace('-', '_')}_LEASES"
        try:
            kv = await self._jetstream.create_key_value(
                bucket=bucket,
                ttl=ttl,
                history=1,
                replicas=self._settings.nats_stream_replicas,
            )
        except nats.js.errors.BadRequestError:
            kv = await self._jetstream.key_value(bucket)  # exists with other options
        except (nats.errors.Error, TimeoutError) as exc:
            raise _translate("opening the lease bucket", exc) from exc
        return Lease(kv, name, holder)

    # -- set-up

    async def ensure_streams(self) -> None:
        """Creates or updates both streams and the spawner consumer; safe to call any time."""
        try:
            await self._create_or_update_stream(self._commands_stream_config())
            await self._create_or_update_stream(self._events_stream_config())
            await self._jetstream.add_consumer(
                self.names.commands_stream, config=self._spawner_consumer_config()
            )
        except (nats.errors.Error, TimeoutError) as exc:
            raise _translate("ensuring streams", exc) from exc
        self._streams_ensured = True
        self._recheck_streams = False

    async def command_backlog(self) -> int:
        """Commands stored and not yet acked (waiting or in hand)."""
        try:
            info = await self._jetstream.stream_info(self.names.commands_stream)
        except (nats.errors.Error, TimeoutError) as exc:
            raise _translate("reading the command stream", exc) from exc
        return int(info.state.messages)

    # -- commands

    async def publish_command(self, command: PodCommand, *, msg_id: str | None = None) -> int:
        """Publishes and waits for JetStream to store it; returns the stream sequence.

        TemporaryError means "not confirmed": while reconnecting, NATS buffers the publish and
        may still store it later. That is harmless for level-triggered commands; a caller that
        retries can pass the same `msg_id`, so a publish repeated within the duplicate window
        is stored once. Without `msg_id` every publish is a new command."""
        headers = {Header.MSG_ID.value: msg_id} if msg_id else None
        ack = await self._publish(
            self.names.command_subject(command.key),
            command.encode(),
            self.names.commands_stream,
            headers,
        )
        return int(ack.seq)

    async def consume_commands(
        self, handler: CommandHandler, *, stop: asyncio.Event, concurrency: int = 8
    ) -> None:
        """Feeds commands to `handler` until `stop` is set; see `_Dispatcher` for the rules.

        Settlement: Done → ack, Retry → nak after an exponential backoff by delivery count
        from its delay (jittered, capped at settings.retry_backoff_max), Failed → term, a
        raised TemporaryError → as Retry from its delay, PermanentError → term, any other
        crash → as Retry from 1 s, undecodable → term. On `stop` no more commands are fetched
        and the ones in hand are finished and settled before returning. If the calling task is
        cancelled, the handlers are cancelled and their commands redelivered after ack_wait
        (crash-safety). While NATS is unreachable (at start or later) it waits and retries."""
        heartbeat = max(self._settings.ack_wait / 2, _MIN_HEARTBEAT)
        dispatcher = _Dispatcher(
            handler,
            concurrency=concurrency,
            heartbeat=heartbeat,
            retry_cap=self._settings.retry_backoff_max,
        )
        subscription = await self._prepare_spawner(stop)
        if subscription is None:
            return
        try:
            await self._pull_until(stop, subscription, dispatcher)
        except asyncio.CancelledError:
            dispatcher.abandon()
            raise
        finally:
            await dispatcher.drain()
            await self._release(subscription)

    # -- events

    async def publish_event(self, event: PodEvent) -> None:
        """Publishes a pod event and waits for JetStream to store it."""
        await self._publish(
            self.names.event_subject(event.key), event.encode(), self.names.events_stream, None
        )

    async def subscribe_events(
        self, handler: EventHandler, *, deliver_all: bool = False
    ) -> EventSubscription:
        """Calls `handler` for each event, in order, from now on (or from the oldest kept
        event with `deliver_all`). Handler errors and undecodable events are logged.

        An ordered consumer: after a reconnect or a gap it resumes from the last event seen
        (within about two heartbeats), so events are neither skipped nor repeated."""
        policy = DeliverPolicy.ALL if deliver_all else DeliverPolicy.NEW
        try:
            subscription = await self._jetstream.subscribe(
                self.names.events_subjects,
                stream=self.names.events_stream,
                cb=_event_callback(handler),
                ordered_consumer=True,
                idle_heartbeat=_EVENTS_HEARTBEAT,
                deliver_policy=policy,
            )
        except (nats.errors.Error, TimeoutError) as exc:
            raise _translate("subscribing to events", exc) from exc
        return EventSubscription(subscription)

    @asynccontextmanager
    async def events(
        self, *, deliver_all: bool = False, buffer: int = 1000
    ) -> AsyncIterator[AsyncIterator[PodEvent]]:
        """`async with bus.events() as events: async for event in events: ...`"""
        queue: asyncio.Queue[PodEvent] = asyncio.Queue(maxsize=buffer)
        subscription = await self.subscribe_events(queue.put, deliver_all=deliver_all)
        try:
            yield _EventQueue(queue)
        finally:
            await subscription.close()

    # -- internals

    @property
    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise TemporaryError("the message bus is not connected")
        return self._js

    async def _open(self, connect_within: float) -> None:
        try:
            await asyncio.wait_for(
                self._nc.connect(
                    servers=[self._settings.nats_url],
                    name=f"pods-{self._settings.deployment_id}",
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=1,
                    connect_timeout=2,
                    ping_interval=10,
                    max_outstanding_pings=3,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                ),
                timeout=connect_within,
            )
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            await self._nc.close()
            raise TemporaryError(f"cannot connect to NATS at {self._settings.nats_url}") from exc
        self._js = self._nc.jetstream()

    async def _on_error(self, exc: Exception) -> None:
        log.warning("NATS: %s", exc or type(exc).__name__)

    async def _on_disconnected(self) -> None:
        if not self._nc.is_closed:
            log.warning("NATS connection lost; reconnecting to %s", self._settings.nats_url)

    async def _on_reconnected(self) -> None:
        log.info("NATS reconnected to %s", self._settings.nats_url)
        self._recheck_streams = True  # a restarted server may have lost them

    async def _recheck_streams_after_reconnect(self) -> None:
        if self._streams_ensured and self._recheck_streams:
            await self.ensure_streams()

    async def _create_or_update_stream(self, config: StreamConfig) -> None:
        try:
            await self._jetstream.add_stream(config)
        except nats.js.errors.BadRequestError as exc:
            if exc.err_code != _STREAM_NAME_IN_USE:
                raise
            await self._jetstream.update_stream(config)

    def _commands_stream_config(self) -> StreamConfig:
        return StreamConfig(
            name=self.names.commands_stream,
            description=f"Pod commands of deployment {self.names.deployment_id}",
            subjects=[self.names.commands_subjects],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=COMMANDS_MAX_AGE,
            max_msgs_per_subject=COMMANDS_MAX_PER_POD,
            duplicate_window=COMMANDS_DUPLICATE_WINDOW,
            num_replicas=self._settings.nats_stream_replicas,
        )

    def _events_stream_config(self) -> StreamConfig:
        return StreamConfig(
            name=self.names.events_stream,
            description=f"Pod events of deployment {self.names.deployment_id}",
            subjects=[self.names.events_subjects],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=EVENTS_MAX_AGE,
            num_replicas=self._settings.nats_stream_replicas,
        )

    def _spawner_consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            name=SPAWNER_CONSUMER,
            durable_name=SPAWNER_CONSUMER,
            description="The spawners' command queue",
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._settings.ack_wait,
            max_deliver=-1,
            max_ack_pending=COMMANDS_MAX_ACK_PENDING,
            filter_subject=self.names.commands_subjects,
        )

    async def _publish(
        self, subject: str, payload: bytes, stream: str, headers: dict[str, str] | None
    ) -> PubAck:
        try:
            await self._recheck_streams_after_reconnect()
            return await self._jetstream.publish(
                subject, payload, timeout=self._publish_wait, stream=stream, headers=headers
            )
        except (nats.errors.Error, TimeoutError) as exc:
            raise _translate(f"publishing to {subject}", exc) from exc

    async def _prepare_spawner(
        self, stop: asyncio.Event
    ) -> JetStreamContext.PullSubscription | None:
        """Ensures the streams and binds to the spawner consumer; None if stopped first."""
        while not stop.is_set():
            try:
                await self.ensure_streams()
                return await self._jetstream.pull_subscribe_bind(
                    durable=SPAWNER_CONSUMER, stream=self.names.commands_stream
                )
            except (TemporaryError, nats.errors.Error, TimeoutError) as exc:
                log.warning("command consumer not ready, trying again: %s", exc)
                await _wait_for(stop, _SETUP_RETRY_PAUSE)
        return None

    async def _pull_until(
        self,
        stop: asyncio.Event,
        subscription: JetStreamContext.PullSubscription,
        dispatcher: _Dispatcher,
    ) -> None:
        while not stop.is_set():
            await dispatcher.wait_for_slot(stop)
            if stop.is_set():
                return
            for message in await self._fetch(subscription, dispatcher.free_slots):
                dispatcher.submit(message)

    async def _fetch(
        self, subscription: JetStreamContext.PullSubscription, batch: int
    ) -> list[Msg]:
        """Up to `batch` commands; none after _FETCH_WAIT, or while NATS is unreachable."""
        try:
            await self._recheck_streams_after_reconnect()
            return await subscription.fetch(batch=batch, timeout=_FETCH_WAIT)
        except TimeoutError:
            return []
        except nats.errors.ConnectionClosedError as exc:
            raise TemporaryError("the NATS connection was closed") from exc
        except (nats.errors.Error, PodsError) as exc:
            log.warning("fetching commands failed: %s", exc)
            await asyncio.sleep(_FETCH_ERROR_PAUSE)
            return []

    async def _release(self, subscription: JetStreamContext.PullSubscription) -> None:
        """Unsubscribes and pushes the last acks out before returning."""
        with suppress(nats.errors.Error, TimeoutError):
            await subscription.unsubscribe()
        if not self._nc.is_closed:
            with suppress(nats.errors.Error, TimeoutError):
                await self._nc.flush(timeout=_SETTLE_FLUSH_WAIT)


_STREAM_NAME_IN_USE = 10058  # JetStream API error code: stream exists with another config


def _translate(doing: str, exc: BaseException) -> PodsError:
    """A nats failure as our error: a rejected request is permanent, the rest temporary."""
    message = f"NATS failed while {doing}: {type(exc).__name__}: {exc}"
    if isinstance(exc, nats.js.errors.BadRequestError):
        return PermanentError(message)
    return TemporaryError(message)

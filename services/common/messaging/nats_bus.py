"""The NATS JetStream adapter of pod commands and pod events (with nats_streams.py, the only
modules of ours that import nats).

Process wiring imports it: services/api/server.py (publishes a `PodCommand` after writing
desired state to the database, and follows pod changes for its watchers),
services/spawner/server.py (runs `MessageBus.consume_commands` and acks a command only once
the runtime change is applied), services/health/server.py (publishes `PodEvent`s when a pod's
observed status changes, may publish commands again to heal drift, and holds the `health`
lease) and gateway/pod_router.py (subscribes to events). Domain code depends on the Protocols
in ports.py instead.

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
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from types import TracebackType
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy, Header, PubAck, StreamConfig

from services.common.command_context import command_scope, request_headers
from services.common.messaging.dispatch import Dispatcher
from services.common.messaging.messages import (
    CommandHandler,
    EventHandler,
    InvalidMessageError,
    PodCommand,
    PodEvent,
)
from services.common.messaging.names import SPAWNER_CONSUMER, Names
from services.common.messaging.nats_streams import (
    STREAM_NAME_IN_USE,
    commands_stream,
    events_stream,
    spawner_consumer,
)
from services.common.outcomes import PermanentError, PodsError, TemporaryError
from services.common.runtime.types import PodKey
from services.common.settings import Settings

log = logging.getLogger(__name__)

_FETCH_WAIT = 1.0  # seconds one pull request waits for commands; bounds stop latency
_FETCH_ERROR_PAUSE = 0.5
_SETUP_RETRY_PAUSE = 1.0
_MIN_HEARTBEAT = 0.1  # seconds between in_progress() of a command in hand, at least
_EVENTS_HEARTBEAT = 1.0  # seconds; two missed heartbeats make a subscription resume
_SETTLE_FLUSH_WAIT = 2  # seconds (nats-py wants an int)


async def _wait_for(event: asyncio.Event, seconds: float) -> None:
    """Returns when `event` is set or after `seconds`, whichever comes first."""
    with suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


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
        bucket = self.names.leases_bucket
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
            replicas = self._settings.nats_stream_replicas
            await self._create_or_update_stream(commands_stream(self.names, replicas))
            await self._create_or_update_stream(events_stream(self.names, replicas))
            await self._jetstream.add_consumer(
                self.names.commands_stream,
                config=spawner_consumer(self.names, self._settings.ack_wait),
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
        """Feeds commands to `handler` until `stop` is set; see `Dispatcher` for the rules.

        Settlement: Done → ack, Retry → nak after an exponential backoff by delivery count
        from its delay (jittered, capped at settings.retry_backoff_max), Failed → term, a
        raised TemporaryError → as Retry from its delay, PermanentError → term, any other
        crash → as Retry from 1 s, undecodable → term. On `stop` no more commands are fetched
        and the ones in hand are finished and settled before returning. If the calling task is
        cancelled, the handlers are cancelled and their commands redelivered after ack_wait
        (crash-safety). While NATS is unreachable (at start or later) it waits and retries."""
        heartbeat = max(self._settings.ack_wait / 2, _MIN_HEARTBEAT)
        dispatcher = Dispatcher(
            handler,
            concurrency=concurrency,
            heartbeat=heartbeat,
            retry_cap=self._settings.retry_backoff_max,
            delivery_errors=(nats.errors.Error,),
            scope=command_scope,
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

    async def follow_pod_changes(self, on_change: Callable[[PodKey], None]) -> EventSubscription:
        """Calls `on_change(key)` for each pod event from now on (the api's watchers:
        services/api/domain/ports.py:PodChangeFeed). `on_change` must not block."""

        async def changed(event: PodEvent) -> None:
            on_change(event.key)

        return await self.subscribe_events(changed)

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
            if exc.err_code != STREAM_NAME_IN_USE:
                raise
            await self._jetstream.update_stream(config)

    async def _publish(
        self, subject: str, payload: bytes, stream: str, headers: dict[str, str] | None
    ) -> PubAck:
        try:
            await self._recheck_streams_after_reconnect()
            return await self._jetstream.publish(
                subject,
                payload,
                timeout=self._publish_wait,
                stream=stream,
                headers=request_headers(headers),  # request id and trace context
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
        dispatcher: Dispatcher,
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


def _translate(doing: str, exc: BaseException) -> PodsError:
    """A nats failure as our error: a rejected request is permanent, the rest temporary."""
    message = f"NATS failed while {doing}: {type(exc).__name__}: {exc}"
    if isinstance(exc, nats.js.errors.BadRequestError):
        return PermanentError(message)
    return TemporaryError(message)

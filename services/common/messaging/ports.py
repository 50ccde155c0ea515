"""The Protocols that code outside the adapter depends on to send and receive pod commands
and events; `nats_bus.MessageBus` implements all of them, and tests pass in-memory doubles.

Callers: services/api (publishing a command after a change of desired state),
services/health (publishing commands and events, holding its lease), services/spawner
(consuming commands), the gateway's pod router (subscribing to events); each names the one
Protocol it uses so that its logic never imports nats.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from services.common.messaging.messages import CommandHandler, EventHandler, PodCommand, PodEvent


class CommandPublisher(Protocol):
    """Publishes "reconcile this pod" commands."""

    async def publish_command(self, command: PodCommand, *, msg_id: str | None = None) -> int:
        """Stores the command; returns its sequence. TemporaryError: not confirmed."""
        ...


class EventPublisher(Protocol):
    """Publishes a pod's observed status changes."""

    async def publish_event(self, event: PodEvent) -> None: ...


class Subscription(Protocol):
    """A live subscription; `close()` ends it."""

    async def close(self) -> None: ...


class EventSubscriber(Protocol):
    """Calls a handler for each pod event, in order."""

    async def subscribe_events(
        self, handler: EventHandler, *, deliver_all: bool = False
    ) -> Subscription: ...


class CommandConsumer(Protocol):
    """Feeds commands to a handler, settling each by its outcome, until `stop` is set."""

    async def consume_commands(
        self, handler: CommandHandler, *, stop: asyncio.Event, concurrency: int = 8
    ) -> None: ...


class Lease(Protocol):
    """A lease for leader election: held while `try_hold()` keeps returning True."""

    @property
    def held(self) -> bool: ...

    async def try_hold(self) -> bool: ...

    async def release(self) -> None: ...

"""What the pod router needs from outside the gateway, as Protocols of the few methods it calls.

`PodRecordSource` is where pod records come from (the database: services.common.db.store.Store
implements it); `PodEventSource` is the pod events health publishes (services.common.messaging.
MessageBus implements it). The route keeper (gateway/route_keeper.py) depends only on these;
the process wiring (gateway/pod_router.py) passes the concrete Store and MessageBus, and tests
may pass in-memory doubles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from services.common.pods_model import PodRecord

# Called for each pod event. The gateway only wakes up on one, so any event type will do.
EventHandler = Callable[[object], Awaitable[None]]


class PodRecordSource(Protocol):
    """The pods whose routes the gateway publishes."""

    async def list_all_pods(self) -> list[PodRecord]:
        """Every pod record of every tenant, including pods being deleted."""
        ...


class Subscription(Protocol):
    """A live subscription; `close()` ends it."""

    async def close(self) -> None: ...


class PodEventSource(Protocol):
    """Pod events: a pod's observed status changed."""

    async def subscribe_events(self, handler: EventHandler) -> Subscription:
        """Calls `handler` for each event from now on, until the subscription is closed."""
        ...


class RouteReporter(Protocol):
    """Told the route table's size and how long building and publishing it took (the pod
    router passes services/common/metrics.py's `RouteMetrics`)."""

    def published(self, routes: int, serving: int, seconds: float) -> None: ...

"""Pod commands and pod events between the processes: the messages and their codec
(messages.py), stream and subject names (names.py), the transport-free command dispatcher
(dispatch.py), the Protocols other code depends on (ports.py), and the NATS JetStream adapter
(nats_bus.py, nats_streams.py: the only modules here that import nats).

This package re-exports only the pure parts, so importing it never imports nats; process
wiring (the `server.py` files, gateway/pod_router.py, tests) imports
`services.common.messaging.nats_bus.MessageBus` explicitly.
"""

from services.common.messaging.dispatch import retry_backoff
from services.common.messaging.messages import (
    WIRE_VERSION,
    CommandHandler,
    EventHandler,
    InvalidMessageError,
    PodCommand,
    PodEvent,
)
from services.common.messaging.names import SPAWNER_CONSUMER, Names
from services.common.messaging.ports import (
    CommandConsumer,
    CommandPublisher,
    EventPublisher,
    EventSubscriber,
    Lease,
    Subscription,
)

__all__ = [
    "SPAWNER_CONSUMER",
    "WIRE_VERSION",
    "CommandConsumer",
    "CommandHandler",
    "CommandPublisher",
    "EventHandler",
    "EventPublisher",
    "EventSubscriber",
    "InvalidMessageError",
    "Lease",
    "Names",
    "PodCommand",
    "PodEvent",
    "Subscription",
    "retry_backoff",
]

"""What the command consumer does around each command it hands to the spawner's reconciler:
counts a redelivery (`pods_command_redeliveries`), continues the trace the publisher put in
the message's headers (services/common/tracing.py) and sets the log context (tenant, pod,
the request id the publisher sent, the trace id) for the handler's log lines.

The NATS adapter (services/common/messaging/nats_bus.py) passes `command_scope` to the
transport-free Dispatcher (services/common/messaging/dispatch.py) as its `scope` hook; the
publishing side (`request_headers`) carries the request id of the call being served.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from services.common import metrics, tracing
from services.common.log_setup import REQUEST_ID, log_context
from services.common.messaging.messages import PodCommand

REQUEST_ID_HEADER = "Pods-Request-Id"


def request_headers(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """`headers` plus the current request id (when set) and trace context."""
    carrier = dict(headers or {})
    if REQUEST_ID.get():
        carrier[REQUEST_ID_HEADER] = REQUEST_ID.get()
    return tracing.with_trace_headers(carrier)


@contextmanager
def command_scope(message: Any, command: PodCommand, deliveries: int) -> Iterator[None]:
    """The context of handling `command`, delivered for the `deliveries`th time."""
    metrics.count_delivery(deliveries)
    headers: Mapping[str, str] = getattr(message, "headers", None) or {}
    request_id = headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
    with (
        tracing.consumer_span(f"reconcile {command.reason}", headers) as trace_id,
        log_context(
            tenant=command.tenant_id, pod=command.pod_id, request_id=request_id, trace_id=trace_id
        ),
    ):
        yield

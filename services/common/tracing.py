"""OpenTelemetry traces, off unless PODS_OTLP_ENDPOINT names an OTLP/HTTP collector.

`setup_tracing(process, endpoint)` is called once by each process's wiring (services/api,
services/spawner, services/health, gateway/pod_router.py); `shutdown_tracing()` flushes the
last spans at exit. The trace crosses processes in three ways: Envoy passes a `traceparent`
header on to the api as gRPC metadata, OpenTelemetry's gRPC server interceptor
(`server_interceptors`, used by services/common/grpc_observability.py) continues it, and the
NATS adapter (services/common/messaging/nats_bus.py) writes the current context into every
message's headers (`with_trace_headers`) which the command consumer's hook
(services/common/command_context.py) continues (`consumer_span`). So one create is one trace:
api → NATS → spawner.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

log = logging.getLogger(__name__)
_provider: TracerProvider | None = None
EXPORT_DELAY_MS = 500  # spans are sent within about half a second


def setup_tracing(process: str, endpoint: str) -> None:
    """Exports this process's spans (service.name `pods-<process>`) to `endpoint`'s
    `/v1/traces`; nothing when `endpoint` is empty."""
    global _provider
    if not endpoint:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"pods-{process}"}))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=EXPORT_DELAY_MS))
    trace.set_tracer_provider(provider)
    _provider = provider
    log.info("tracing to %s", endpoint)


def shutdown_tracing() -> None:
    """Sends the spans still buffered; a no-op when tracing is off."""
    if _provider is not None:
        _provider.shutdown()


def enabled() -> bool:
    return _provider is not None


def server_interceptors() -> list[Any]:
    """OpenTelemetry's gRPC server interceptor while tracing is on, else none."""
    if _provider is None:
        return []
    return [aio_server_interceptor(tracer_provider=_provider)]  # type: ignore[no-untyped-call]


def current_trace_id() -> str:
    """The current trace id in hex, or "" outside a recorded trace."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def current_traceparent() -> str:
    """The current trace context as a W3C `traceparent` value, "" outside a trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent", "")


def with_trace_headers(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """`headers` plus the current trace context (`traceparent`), None when both are empty."""
    carrier = dict(headers or {})
    propagate.inject(carrier)
    return carrier or None


@contextmanager
def consumer_span(name: str, headers: Mapping[str, str] | None) -> Iterator[str]:
    """A span continuing the trace in a message's `headers` (a new trace without one); yields
    its trace id ("" when tracing is off)."""
    if _provider is None:
        yield ""
        return
    parent = propagate.extract(dict(headers or {}))
    tracer = trace.get_tracer("pods")
    with tracer.start_as_current_span(name, context=parent, kind=trace.SpanKind.CONSUMER):
        yield current_trace_id()

"""The Prometheus adapter: every metric the processes export, and the `/metrics` server.

The only module of ours that imports prometheus_client. Process wiring calls
`serve_metrics` (services/api/server.py, services/spawner/server.py, services/health/server.py,
gateway/pod_router.py) and records what it sees directly; domain code reports through a
Protocol that an object here implements (`RouteMetrics` for gateway/route_keeper.py's
`RouteReporter`). The database session helper (services/common/db/sessions.py), the NATS
adapter (services/common/messaging/nats_bus.py, through the dispatcher's hook) and the gRPC
interceptor (services/common/grpc_observability.py) record theirs here too. README's
"Metrics" lists them all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from services.common.outcomes import Done, Failed, Outcome

log = logging.getLogger(__name__)

PODS_BY_STATUS = Gauge(
    "pods_by_status", "Pods by their observed status (counted by health)", ["status"]
)
CREATE_TO_AVAILABLE = Histogram(
    "pods_create_to_available_seconds",
    "Seconds from a pod's creation to its first AVAILABLE (observed by health)",
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
)
RECONCILE_OUTCOMES = Counter(
    "pods_reconcile_outcomes", "Reconcile outcomes of the spawner", ["kind"]
)
COMMAND_REDELIVERIES = Counter(
    "pods_command_redeliveries", "Commands delivered again by NATS (delivery count above 1)"
)
EXEC_IN_FLIGHT = Gauge("pods_exec_in_flight", "Commands running in pods now (spawner)")
ROUTE_TABLE_SIZE = Gauge(
    "pods_route_table_size", "Routes the pod router publishes to Envoy", ["state"]
)
ROUTE_PUBLISH = Histogram(
    "pods_route_publish_seconds", "Seconds to build and publish the route table (pod router)"
)
DB_SESSION = Histogram(
    "pods_db_session_seconds",
    "Seconds a database session or transaction was open",
    ["kind"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GRPC_STARTED = Counter(
    "grpc_server_started", "gRPC calls started on the server", ["grpc_service", "grpc_method"]
)
GRPC_HANDLED = Counter(
    "grpc_server_handled",
    "gRPC calls completed on the server, by status code",
    ["grpc_service", "grpc_method", "grpc_code"],
)
GRPC_HANDLING = Histogram(
    "grpc_server_handling_seconds",
    "Seconds the server took for a gRPC call",
    ["grpc_service", "grpc_method"],
)


def serve_metrics(port: int, address: str = "127.0.0.1") -> None:
    """Serves `/metrics` on address:`port` from a daemon thread; nothing when `port` is 0."""
    if port:
        start_http_server(port, addr=address)
        log.info("metrics on http://%s:%d/metrics", address, port)


def outcome_kind(outcome: Outcome) -> str:
    """done, retry or failed: the label of `pods_reconcile_outcomes`."""
    if isinstance(outcome, Done):
        return "done"
    if isinstance(outcome, Failed):
        return "failed"
    return "retry"


def count_outcome(kind: str) -> None:
    RECONCILE_OUTCOMES.labels(kind=kind).inc()


def count_delivery(deliveries: int) -> None:
    """Counts a redelivery when a command comes for the second time or later."""
    if deliveries > 1:
        COMMAND_REDELIVERIES.inc()


@contextmanager
def exec_in_flight() -> Iterator[None]:
    with EXEC_IN_FLIGHT.track_inprogress():
        yield


@contextmanager
def db_timed(kind: str) -> Iterator[None]:
    """Observes the seconds the block took in `pods_db_session_seconds{kind}`."""
    start = time.perf_counter()
    try:
        yield
    finally:
        DB_SESSION.labels(kind=kind).observe(time.perf_counter() - start)


def set_pods_by_status(counts: dict[str, int], statuses: tuple[str, ...]) -> None:
    """Sets the gauge for every status in `statuses` (0 when absent) and any other counted."""
    for status in {*statuses, *counts}:
        PODS_BY_STATUS.labels(status=status).set(counts.get(status, 0))


def observe_available(seconds: float) -> None:
    CREATE_TO_AVAILABLE.observe(max(seconds, 0.0))


class RouteMetrics:
    """`pods_route_table_size` and `pods_route_publish_seconds` for the route keeper."""

    def published(self, routes: int, serving: int, seconds: float) -> None:
        ROUTE_TABLE_SIZE.labels(state="all").set(routes)
        ROUTE_TABLE_SIZE.labels(state="serving").set(serving)
        ROUTE_PUBLISH.observe(seconds)

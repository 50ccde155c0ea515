"""Composes the health process: the watcher loop and HealthService on one event loop.
Run by `python -m services.health`."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

import grpc

from services.common import metrics, tracing
from services.common.db.database import Repositories
from services.common.db.repositories.pods import PodRepository
from services.common.dependency_health import DependencyHealth, connected
from services.common.generated.pods.v1 import health_service_pb2 as pb
from services.common.generated.pods.v1 import health_service_pb2_grpc as pb_grpc
from services.common.generated.pods.v1 import pod_pb2
from services.common.grpc_server import new_server, serve_until_stopped, stop_event
from services.common.log_setup import setup_logging
from services.common.messaging import PodCommand, PodEvent
from services.common.messaging.nats_bus import MessageBus
from services.common.observability import start_observability
from services.common.outcomes import PodsError
from services.common.pods_model import PodRecord, Status
from services.common.runtime.types import PodKey
from services.common.settings import Settings
from services.common.tracing import shutdown_tracing
from services.health.leadership import run_while_leader
from services.health.remote_runtime import RemoteRuntimeObserver
from services.health.watcher import Watcher

log = logging.getLogger(__name__)
LEASE_TTL = 9.0  # seconds without renewal before another replica takes over
Context = grpc.aio.ServicerContext[Any, Any]


def now() -> datetime:
    return datetime.now(UTC)


class BusNotifier:
    """Publishes reconcile commands and pod events on NATS; failures are logged, not fatal
    (the next resync publishes again)."""

    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    async def request_reconcile(self, key: PodKey, reason: str) -> None:
        try:
            await self._bus.publish_command(PodCommand(key.tenant_id, key.pod_id, reason))
        except PodsError as exc:
            log.warning("could not publish reconcile for %s: %s", key, exc)

    async def status_changed(self, record: PodRecord, status: Status) -> None:
        if status is Status.AVAILABLE and record.run <= 1 and record.restart_count == 0:
            metrics.observe_available((now() - record.creation_ts).total_seconds())
        event = PodEvent(record.key.tenant_id, record.key.pod_id, status.value, record.generation)
        # In the trace of the call that asked for this state, so one create is one trace.
        with tracing.consumer_span(f"pod {status.value}", {"traceparent": record.trace_parent}):
            try:
                await self._bus.publish_event(event)
            except PodsError as exc:
                log.warning("could not publish event for %s: %s", record.key, exc)


class HealthServicer(pb_grpc.HealthServiceServicer):
    """Operator access to the watcher."""

    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    async def ObservePod(
        self, request: pb.ObservePodRequest, context: Context
    ) -> pb.ObservePodResponse:
        observation = await self._watcher.observe_pod(PodKey(request.tenant_id, request.pod_id))
        if observation is None:
            return pb.ObservePodResponse()
        c = observation.container
        return pb.ObservePodResponse(
            status=observation.status.value,
            status_container=pod_pb2.StatusContainer(
                phase=c.phase, message=c.message, exit_code=c.exit_code or 0, ready=c.ready
            ),
        )

    async def Resync(self, request: pb.ResyncRequest, context: Context) -> pb.ResyncResponse:
        return pb.ResyncResponse(pods_observed=await self._watcher.resync())


async def count_pods(pods: PodRepository, interval: float) -> None:
    """Sets `pods_by_status` from the database every `interval` seconds, forever."""
    statuses = tuple(status.value for status in Status)
    while True:
        try:
            metrics.set_pods_by_status(await pods.count_by_status(), statuses)
        except PodsError as exc:
            log.debug("could not count pods: %s", exc)
        await asyncio.sleep(interval)


async def run(settings: Settings) -> None:
    store = Repositories.open(settings.effective_database_url)
    observer = RemoteRuntimeObserver(settings.spawner_address)  # the runtime, via the spawner
    bus = await MessageBus.connect(settings)
    await bus.ensure_streams()
    watcher = Watcher(
        store=store,
        runtime=observer,
        notifier=BusNotifier(bus),
        clock=now,
        resync_interval=settings.resync_interval,
        full_resync_interval=settings.resync_full_interval,
        probe_interval=settings.probe_interval,
        probe_interval_max=settings.probe_interval_max,
        probe_fast_window=settings.probe_fast_window,
        drift_grace=settings.drift_grace,
        log_limit_bytes=settings.log_limit_bytes,
        restart_policy=settings.restart_policy,
    )

    def register(server: grpc.aio.Server) -> None:
        pb_grpc.add_HealthServiceServicer_to_server(HealthServicer(watcher), server)

    health = DependencyHealth(
        ["pods.v1.HealthService"],
        {
            "database": store.ping,
            "nats": connected(lambda: bus.connected, "NATS"),
            "spawner": observer.list_managed,  # and, through it, the runtime
        },
    )
    server = new_server(settings.health_port, register, health, settings.bind_address)
    log.info("health listening on %s:%d", settings.bind_address, settings.health_port)
    try:
        lease = await bus.lease(
            "health", holder=f"{socket.gethostname()}-{os.getpid()}", ttl=LEASE_TTL
        )
        await serve_until_stopped(
            server,
            stop_event(),
            run_while_leader(lease, watcher.run, renew_every=LEASE_TTL / 3),
            health.run(),
            count_pods(store.pods, settings.metrics_refresh),
        )
    finally:
        await bus.close()
        await store.close()
        await observer.close()


def main() -> None:
    setup_logging("health")
    settings = Settings.from_env()
    start_observability("health", settings, settings.health_metrics_port)
    try:
        asyncio.run(run(settings))
    finally:
        shutdown_tracing()

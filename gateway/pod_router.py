"""The gateway's control plane process: keeps the pod routes current and serves classic
PostgreSQL clients. Run by the local stack (services/devstack) and the cluster's gateway
Deployment as `python -m gateway.pod_router` next to Envoy.

This module is the process wiring: it opens the database (Repositories) and the message bus and
hands them to the route keeper (gateway/route_keeper.py) behind the Protocols of
gateway/ports.py. The keeper rebuilds the route table whenever health publishes a pod event
(so a pod is routed or unrouted within milliseconds of its status change) and at least every
PODS_ROUTE_REFRESH seconds (so a lost event, or a restarted Envoy, is caught up), publishes
it to Envoy as LDS/CDS files (gateway/xds_files.py), and the STARTTLS router
(gateway/starttls_router.py) reads the same table. On one machine pods are reached on the
loopback ports Docker published; in a cluster (PODS_RUNTIME=kubernetes) through their
Services, with the cluster gateway's listener options (gateway/cluster.py).

Like the api, spawner and health, it answers grpc.health.v1 (PODS_ROUTER_HEALTH_PORT) SERVING
while its database and NATS answer (services/common/dependency_health.py).
"""

from __future__ import annotations

import asyncio
import logging

from gateway.cluster import cluster_options, in_cluster, service_upstream
from gateway.route_keeper import RouteKeeper, keep_routes, wake_on_events
from gateway.route_source import published_upstream
from gateway.starttls_router import StartTlsRouter
from gateway.xds_files import local_options, xds_directory
from services.common.db.database import Repositories
from services.common.dependency_health import DependencyHealth, connected
from services.common.grpc_server import new_server, serve_until_stopped, stop_event
from services.common.log_setup import setup_logging
from services.common.messaging.nats_bus import MessageBus
from services.common.metrics import RouteMetrics
from services.common.observability import start_observability
from services.common.settings import Settings
from services.common.tracing import shutdown_tracing

log = logging.getLogger(__name__)
ROUTER_SERVICE = "pods.v1.PodRouter"  # the health service name of this process


async def run(settings: Settings) -> None:
    clustered = in_cluster(settings)
    options = cluster_options(settings) if clustered else local_options(settings)
    upstream = service_upstream(settings) if clustered else published_upstream
    repos = Repositories.open(settings.effective_database_url)
    keeper = RouteKeeper(
        repos.pods,
        settings.pod_domain,
        xds_directory(settings.data_dir),
        options,
        upstream,
        RouteMetrics(),
    )
    router = StartTlsRouter(keeper.current, options.tls, handoff=options.handoff_path)
    bus = await MessageBus.connect(settings)
    await bus.ensure_streams()
    wake = asyncio.Event()
    subscription = await wake_on_events(bus, wake)
    await router.start("127.0.0.1", settings.router_port)
    health = DependencyHealth(
        [ROUTER_SERVICE],
        {"database": repos.ping, "nats": connected(lambda: bus.connected, "NATS")},
    )
    server = new_server(
        settings.router_health_port, lambda _server: None, health, settings.bind_address
    )
    log.info("pod router: routes every %.1fs and on pod events", settings.route_refresh)
    try:
        await serve_until_stopped(
            server,
            stop_event(),
            keep_routes(keeper, wake, settings.route_refresh),
            health.run(),
        )
    finally:
        await router.stop()
        await subscription.close()
        await bus.close()
        await repos.close()


def main() -> None:
    setup_logging("router")
    settings = Settings.from_env()
    start_observability("router", settings, settings.router_metrics_port)
    try:
        asyncio.run(run(settings))
    finally:
        shutdown_tracing()


if __name__ == "__main__":
    main()

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
from services.common.grpc_server import stop_event
from services.common.messaging.nats_bus import MessageBus
from services.common.settings import Settings

log = logging.getLogger(__name__)


async def run(settings: Settings) -> None:
    clustered = in_cluster(settings)
    options = cluster_options(settings) if clustered else local_options(settings)
    upstream = service_upstream(settings) if clustered else published_upstream
    repos = Repositories.open(settings.effective_database_url)
    keeper = RouteKeeper(
        repos.pods, settings.pod_domain, xds_directory(settings.data_dir), options, upstream
    )
    router = StartTlsRouter(keeper.current, options.tls)
    bus = await MessageBus.connect(settings)
    await bus.ensure_streams()
    wake = asyncio.Event()
    subscription = await wake_on_events(bus, wake)
    await router.start("127.0.0.1", settings.router_port)
    refresher = asyncio.create_task(keep_routes(keeper, wake, settings.route_refresh))
    log.info("pod router: routes every %.1fs and on pod events", settings.route_refresh)
    try:
        await stop_event().wait()
    finally:
        refresher.cancel()
        await asyncio.gather(refresher, return_exceptions=True)
        await router.stop()
        await subscription.close()
        await bus.close()
        await repos.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s router %(levelname)s %(message)s")
    asyncio.run(run(Settings.from_env()))


if __name__ == "__main__":
    main()

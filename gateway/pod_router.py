"""The gateway's control plane: keeps the pod routes current and serves classic PostgreSQL
clients. Run by the local stack as `python -m gateway.pod_router` next to Envoy.

It rebuilds the route table from the database whenever health publishes a pod event (so a
pod is routed or unrouted within milliseconds of its status change) and at least every
PODS_ROUTE_REFRESH seconds (so a lost event, or a restarted Envoy, is caught up), publishes
it to Envoy as LDS/CDS files (gateway/xds_files.py, which refuses invalid snapshots), and
hands the same table to the STARTTLS router (gateway/starttls_router.py). On one machine pods
are reached on the loopback ports Docker published; in a cluster (PODS_RUNTIME=kubernetes)
through their Services, with the cluster gateway's listener options (gateway/cluster.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from gateway.cluster import cluster_options, service_upstream
from gateway.pods_listener import PodsListenerOptions
from gateway.route_source import Upstream, published_upstream, routes_for
from gateway.routes import RouteTable
from gateway.starttls_router import StartTlsRouter
from gateway.xds_files import local_options, publish, xds_directory
from services.common.db.database import Repositories
from services.common.db.repositories.pods import PodRepository
from services.common.grpc_server import stop_event
from services.common.messaging import MessageBus, PodEvent
from services.common.outcomes import PodsError
from services.common.runtime.factory import KUBERNETES
from services.common.settings import Settings

log = logging.getLogger(__name__)


class RouteKeeper:
    """Builds the route table from the database and publishes it."""

    def __init__(
        self,
        store: PodRepository,
        pod_domain: str,
        xds_dir: Path,
        options: PodsListenerOptions,
        upstream: Upstream = published_upstream,
    ) -> None:
        self._upstream = upstream
        self._store = store
        self._pod_domain = pod_domain
        self._xds_dir = xds_dir
        self._options = options
        self._table = RouteTable(routes={})

    def current(self) -> RouteTable:
        return self._table

    async def refresh(self) -> None:
        records = await self._store.list_all_pods()
        table = RouteTable.build(routes_for(records, self._pod_domain, self._upstream))
        for reason in table.rejected:
            log.warning("route not published: %s", reason)
        result = await asyncio.to_thread(publish, self._xds_dir, table, self._options)
        if result.published:
            serving = sum(1 for r in table.routes.values() if r.serving)
            log.info("routes: %d (%d serving)", len(table.routes), serving)
        self._table = table


COALESCE = 0.05  # seconds: a pod's status changes come in bursts (CREATING, AVAILABLE)


async def keep_routes(keeper: RouteKeeper, wake: asyncio.Event, interval: float) -> None:
    """Refreshes on every wake-up (after COALESCE seconds, so that a burst of events makes
    one Envoy update) and at least every `interval` seconds, forever."""
    while True:
        wake.clear()
        try:
            await keeper.refresh()
        except (PodsError, OSError) as exc:
            log.warning("route refresh failed, will retry: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), interval)
            await asyncio.sleep(COALESCE)


async def run(settings: Settings) -> None:
    in_cluster = settings.runtime == KUBERNETES
    options = cluster_options(settings) if in_cluster else local_options(settings)
    upstream = service_upstream(settings) if in_cluster else published_upstream
    repos = Repositories.open(settings.effective_database_url)
    keeper = RouteKeeper(
        repos.pods, settings.pod_domain, xds_directory(settings.data_dir), options, upstream
    )
    router = StartTlsRouter(keeper.current, options.tls)
    bus = await MessageBus.connect(settings)
    await bus.ensure_streams()
    wake = asyncio.Event()

    async def on_event(event: PodEvent) -> None:
        wake.set()

    subscription = await bus.subscribe_events(on_event)
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

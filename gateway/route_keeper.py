"""Keeps the pod routes current: rebuilds the route table from the pod records and publishes it
to Envoy, on every pod event and at least every refresh interval.

Called by the pod router process (gateway/pod_router.py), which passes the concrete database
and message bus behind the Protocols of gateway/ports.py; the STARTTLS router reads the table
the keeper holds (`RouteKeeper.current`). Publishing is gateway/xds_files.py (which refuses
invalid snapshots); records become routes in gateway/route_source.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from gateway.pods_listener import PodsListenerOptions
from gateway.ports import PodEventSource, PodRecordSource, RouteReporter, Subscription
from gateway.route_source import Upstream, published_upstream, routes_for
from gateway.routes import RouteTable
from gateway.xds_files import Publisher
from services.common.outcomes import PodsError

log = logging.getLogger(__name__)

COALESCE = 0.01  # seconds: events of one burst (a pod's CREATING then AVAILABLE) make one refresh


class RouteKeeper:
    """Builds the route table from the pod records and publishes it. Logs the number of routes
    when it changes (not at every refresh), and tells `reporter` (if any) every publication."""

    def __init__(
        self,
        pods: PodRecordSource,
        pod_domain: str,
        xds_dir: Path,
        options: PodsListenerOptions,
        upstream: Upstream = published_upstream,
        reporter: RouteReporter | None = None,
    ) -> None:
        self._reporter = reporter
        self._upstream = upstream
        self._pods = pods
        self._pod_domain = pod_domain
        self._publisher = Publisher(xds_dir, options)
        self._table = RouteTable(routes={})
        self._counted: tuple[int, int] | None = None  # (routes, serving) last logged

    def current(self) -> RouteTable:
        return self._table

    async def refresh(self) -> None:
        start = time.monotonic()
        records = await self._pods.list_all_pods()
        table = RouteTable.build(routes_for(records, self._pod_domain, self._upstream))
        for reason in table.rejected:
            log.warning("route not published: %s", reason)
        result = await asyncio.to_thread(self._publisher.publish, table)
        if result.published:
            serving = sum(1 for r in table.routes.values() if r.serving)
            counted = (len(table.routes), serving)
            if self._reporter is not None:
                self._reporter.published(*counted, time.monotonic() - start)
            if counted != self._counted:
                log.info("routes: %d (%d serving)", *counted)
                self._counted = counted
        self._table = table


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


async def wake_on_events(events: PodEventSource, wake: asyncio.Event) -> Subscription:
    """Sets `wake` on every pod event; close the returned subscription to stop."""

    async def on_event(_event: object) -> None:
        wake.set()

    return await events.subscribe_events(on_event)

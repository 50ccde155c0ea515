"""Turns pod records into the routes the gateway publishes. Pure; called by the route keeper
(gateway/route_keeper.py) on every refresh, and by gateway/cluster.py for the `Upstream` type."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gateway.routes import ROUTED_PROTOCOLS, PodRoute
from services.common.pods_model import PodRecord, pod_host

# Where the gateway reaches a pod's container port: (host, port); port 0 for nowhere yet.
Upstream = Callable[[PodRecord, int], tuple[str, int]]


def published_upstream(record: PodRecord, port: int) -> tuple[str, int]:
    """On one machine: the loopback port Docker published for the container port."""
    return "127.0.0.1", record.status_container.published.get(port, 0)


def routes_for(
    records: Iterable[PodRecord], pod_domain: str, upstream: Upstream = published_upstream
) -> list[PodRoute]:
    """One route per routed networking stanza of every pod that is not being deleted,
    reaching the pod where `upstream` says (a route whose port is 0 does not serve)."""
    routes: list[PodRoute] = []
    for record in records:
        if record.deletion_requested:
            continue
        for stanza, net in record.spec.networking.items():
            if net.protocol not in ROUTED_PROTOCOLS:
                continue  # local_only: no route
            host, port = upstream(record, net.port)
            routes.append(
                PodRoute(
                    host=pod_host(record.key.pod_id, stanza, pod_domain),
                    protocol=net.protocol,
                    tenant_id=record.key.tenant_id,
                    pod_id=record.key.pod_id,
                    stanza=stanza,
                    status=record.status.value,
                    upstream_host=host,
                    upstream_port=port,
                    tapis_auth=net.protocol == "http" and net.auth.enabled,
                    options=net.options,
                )
            )
    return routes

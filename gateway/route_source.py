"""Turns pod records into the routes the gateway publishes. Pure; called by the pod router
(gateway/pod_router.py) on every refresh."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.routes import ROUTED_PROTOCOLS, PodRoute
from services.common.pods_model import PodRecord, pod_host


def routes_for(
    records: Iterable[PodRecord], pod_domain: str, upstream_host: str = "127.0.0.1"
) -> list[PodRoute]:
    """One route per routed networking stanza of every pod that is not being deleted. The
    upstream port is the one the runtime published for that stanza's container port (0 while
    there is none, which makes the route non-serving)."""
    routes: list[PodRoute] = []
    for record in records:
        if record.deletion_requested:
            continue
        published = record.status_container.published
        for stanza, net in record.spec.networking.items():
            if net.protocol not in ROUTED_PROTOCOLS:
                continue  # local_only: no route
            routes.append(
                PodRoute(
                    host=pod_host(record.key.pod_id, stanza, pod_domain),
                    protocol=net.protocol,
                    tenant_id=record.key.tenant_id,
                    pod_id=record.key.pod_id,
                    stanza=stanza,
                    status=record.status.value,
                    upstream_host=upstream_host,
                    upstream_port=published.get(net.port, 0),
                )
            )
    return routes

"""Envoy's statistics as Prometheus text on their own port (PODS_GATEWAY_METRICS_PORT), like
every other process of ours: a listener whose only route, `GET /metrics`, is rewritten to
`/stats/prometheus` on the admin interface (which stays on loopback, since it can change
Envoy's state). JSON-ready dicts, no I/O; added to the bootstrap by gateway/envoy_config.py.
"""

from __future__ import annotations

from gateway.envoy_parts import HCM_TYPE, listener, router_filter, upstream_cluster
from gateway.hardening import JsonObject

METRICS_LISTENER = "metrics"
ADMIN_CLUSTER = "envoy_admin"


def metrics_listener(address: str, port: int) -> JsonObject:
    """The listener serving `/metrics` from the admin cluster's `/stats/prometheus`."""
    route: JsonObject = {
        "match": {"path": "/metrics"},
        "route": {"cluster": ADMIN_CLUSTER, "prefix_rewrite": "/stats/prometheus"},
    }
    hcm: JsonObject = {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": HCM_TYPE,
            "stat_prefix": METRICS_LISTENER,
            "route_config": {
                "name": METRICS_LISTENER,
                "virtual_hosts": [{"name": METRICS_LISTENER, "domains": ["*"], "routes": [route]}],
            },
            "http_filters": [router_filter()],
        },
    }
    return listener(METRICS_LISTENER, address, port, [hcm])


def admin_cluster(admin_port: int) -> JsonObject:
    """Envoy's own admin interface as an upstream (HTTP/1.1 on loopback)."""
    return upstream_cluster(ADMIN_CLUSTER, "127.0.0.1", admin_port)

"""Routes and listener options shared by the pods listener's unit tests
(test_pods_listener.py, test_xds_publish.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.certs import TlsFiles
from gateway.pods_listener import PodsListenerOptions
from gateway.routes import PodRoute, RouteTable

TLS = TlsFiles(cert=Path("/tls/pods.pem"), key=Path("/tls/pods-key.pem"), ca=Path("/tls/ca.pem"))
OPTIONS = PodsListenerOptions(port=8443, tls=TLS, router_port=50054)
DOMAIN = "pods.example.org"
# The gateway's options: plain HTTP pods share one chain whose routes come by RDS.
SHARED = PodsListenerOptions(
    port=8443, tls=TLS, router_port=50054, pod_domain=DOMAIN, rds_path="/xds/rds.json"
)


def route(
    name: str,
    protocol: str = "http",
    *,
    status: str = "AVAILABLE",
    upstream_host: str = "127.0.0.1",
    upstream_port: int = 5000,
) -> PodRoute:
    return PodRoute(
        host=f"{name}.{DOMAIN}",
        protocol=protocol,
        tenant_id="dev",
        pod_id=name,
        stanza="default",
        status=status,
        upstream_host=upstream_host,
        upstream_port=upstream_port,
    )


def table(*routes: PodRoute) -> RouteTable:
    built = RouteTable.build(routes)
    assert not built.rejected
    return built


def plain(value: Any) -> Any:
    """A JSON round trip: plain dicts and lists, and proof that it serializes."""
    return json.loads(json.dumps(value))

"""Builds the Envoy v3 bootstrap of the gateway as plain JSON-ready dicts (no I/O).

Called by `python -m gateway` (gateway/__main__.py), which writes the result to a file, by
gateway/cluster.py, gateway/xds_files.py and the gateway tests. `gateway_bootstrap` is the
admin interface, the overload manager (gateway/hardening.py), the static REST/gRPC listener
(gateway/rest_listener.py) in front of the `api` cluster, and `dynamic_resources` naming the
LDS/CDS files (`<xds_dir>/lds.json`, `cds.json`: compact JSON, which Envoy parses faster
than YAML; the pods listener itself names `rds.json` for its shared HTTP routes) through
which the pods listener, its routes and its clusters change without restarting Envoy
(gateway/xds_files.py writes them).
`cluster_bootstrap` is the same for a Kubernetes deployment (deploy/). What clients observe
(status, content-type and body of rejected requests, measured on Envoy 1.40) is in
gateway/README.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gateway import hardening
from gateway.api_docs import DocsFiles
from gateway.envoy_parts import grpc_cluster, socket_address
from gateway.hardening import DEFAULT_LIMITS, JsonObject, Limits
from gateway.metrics_listener import admin_cluster, metrics_listener
from gateway.rest_listener import RestTls, rest_listener
from gateway.rest_routes import API_CLUSTER

# The xDS files in the directory Envoy watches (gateway/xds_files.py writes them).
LDS_FILE = "lds.json"
CDS_FILE = "cds.json"
RDS_FILE = "rds.json"  # the shared HTTP chain's routes, named by the LDS file itself


def admin(port: int, address: str = "127.0.0.1") -> JsonObject:
    """The admin interface (stats, /ready); it can change Envoy's state, so keep it local.
    It does not count towards the global connection limit (said explicitly; Envoy 1.40
    already leaves it out), so probes and operators reach it when clients used the limit up."""
    return {"address": socket_address(address, port), "ignore_global_conn_limit": True}


def path_config_source(path: Path) -> JsonObject:
    """A ConfigSource reading xDS resources from a file, reloaded whenever a file is renamed
    onto that path (so writers must replace it atomically, see gateway/xds_files.py). No
    `watched_directory`: with one, every rename in the directory would reload every file in
    it, so a route change (RDS) would make Envoy re-read the listener and the clusters."""
    return {"path_config_source": {"path": str(path)}, "resource_api_version": "V3"}


def dynamic_resources(xds_dir: Path) -> JsonObject:
    """Listeners and clusters from `<xds_dir>/lds.json` and `<xds_dir>/cds.json`."""
    return {
        "lds_config": path_config_source(xds_dir / LDS_FILE),
        "cds_config": path_config_source(xds_dir / CDS_FILE),
    }


def bootstrap(
    *,
    admin_port: int | None,
    listeners: Sequence[JsonObject],
    clusters: Sequence[JsonObject],
    node_id: str = "pods-gateway",
    xds_dir: Path | None = None,
    limits: Limits | None = None,
) -> JsonObject:
    """A complete bootstrap from static listeners and clusters, plus file-based LDS/CDS from
    `xds_dir` when given. No admin interface when `admin_port` is None; an overload manager
    (global connection limit, heap thresholds) when `limits` are given."""
    config: JsonObject = {"node": {"id": node_id, "cluster": node_id}}
    if admin_port is not None:
        config["admin"] = admin(admin_port)
    config["static_resources"] = {"listeners": list(listeners), "clusters": list(clusters)}
    if xds_dir is not None:
        config["dynamic_resources"] = dynamic_resources(xds_dir)
    if limits is not None:
        config["overload_manager"] = hardening.overload_manager(limits)
    return config


@dataclass(frozen=True)
class GatewayOptions:
    """What the gateway needs; `python -m gateway` fills it from Settings. With `xds_dir`,
    Envoy also serves the listeners and clusters published there (the pods listener)."""

    descriptor_path: Path
    port: int
    admin_port: int
    api_port: int
    bind_address: str = "127.0.0.1"
    api_host: str = "127.0.0.1"
    connect_timeout: float = 5.0
    rest_timeout: float = 60.0
    xds_dir: Path | None = None
    limits: Limits = field(default_factory=Limits)
    tls: RestTls | None = None  # None: plain HTTP (the local stack)
    metrics_port: int = 0  # Envoy's stats as Prometheus `/metrics` here (0: none)
    metrics_address: str = "127.0.0.1"  # where that listener binds (PODS_BIND_ADDRESS)
    docs: DocsFiles | None = None  # None: no /v3/pods/openapi.json, no /docs/
    cors_origins: frozenset[str] = frozenset()  # empty: CORS off


def gateway_bootstrap(options: GatewayOptions) -> JsonObject:
    """The gateway's bootstrap: the REST/gRPC listener in front of the `api` cluster, the
    metrics listener (gateway/metrics_listener.py) when `options.metrics_port` is set, and the
    dynamic resources of `options.xds_dir`."""
    listeners = [
        rest_listener(
            options.descriptor_path,
            options.port,
            address=options.bind_address,
            rest_timeout=options.rest_timeout,
            limits=options.limits,
            tls=options.tls,
            docs=options.docs,
            cors_origins=options.cors_origins,
        )
    ]
    clusters = [
        grpc_cluster(
            API_CLUSTER, options.api_host, options.api_port, connect_timeout=options.connect_timeout
        )
    ]
    if options.metrics_port:
        listeners.append(metrics_listener(options.metrics_address, options.metrics_port))
        clusters.append(admin_cluster(options.admin_port))
    return bootstrap(
        admin_port=options.admin_port,
        listeners=listeners,
        clusters=clusters,
        xds_dir=options.xds_dir,
        limits=options.limits,
    )


@dataclass(frozen=True)
class ClusterGateway:
    """The gateway of a Kubernetes deployment (deploy/): listeners on every address, the API
    and the STARTTLS router reached through their Services' DNS names, the pods' TLS
    certificate and key mounted from a Secret, LDS/CDS files in a volume shared with the
    route publisher. Pod upstreams are DNS names too (their routes' upstream_host)."""

    descriptor_path: Path = Path("/etc/pods-gateway/pods.pb")
    xds_dir: Path = Path("/var/run/pods-gateway/xds")
    tls_cert: Path = Path("/etc/pods-gateway/tls/tls.crt")
    tls_key: Path = Path("/etc/pods-gateway/tls/tls.key")
    api_host: str = "pods-api"
    api_port: int = 50051
    router_host: str = "pods-router"
    router_port: int = 50054
    router_handoff: bool = False  # PODS_ROUTER_HANDOFF: Envoy's pods_handoff listener
    port: int = 8080
    pods_port: int = 443
    admin_port: int = 9901
    bind_address: str = "0.0.0.0"  # noqa: S104 - a cluster gateway serves the pod network
    limits: Limits = DEFAULT_LIMITS
    api_tls: RestTls | None = None  # TLS on the REST/gRPC port (PODS_GATEWAY_TLS)
    metrics_port: int = 0  # Envoy's stats as Prometheus `/metrics` (PODS_GATEWAY_METRICS_PORT)
    docs: DocsFiles | None = None  # the API description and /docs/ (gateway/api_docs.py)
    cors_origins: frozenset[str] = frozenset()  # PODS_CORS_ORIGINS; empty: CORS off
    pod_domain: str = ""  # PODS_POD_DOMAIN: plain HTTP pods share one chain under it


def cluster_bootstrap(options: ClusterGateway) -> JsonObject:
    """The bootstrap of a cluster gateway; the pods listener itself comes from the LDS file
    (gateway.pods_listener.cluster_listener_options gives its options)."""
    return gateway_bootstrap(
        GatewayOptions(
            descriptor_path=options.descriptor_path,
            port=options.port,
            admin_port=options.admin_port,
            api_port=options.api_port,
            bind_address=options.bind_address,
            api_host=options.api_host,
            xds_dir=options.xds_dir,
            limits=options.limits,
            tls=options.api_tls,
            metrics_port=options.metrics_port,
            metrics_address=options.bind_address,
            docs=options.docs,
            cors_origins=options.cors_origins,
        )
    )

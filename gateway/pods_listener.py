"""Renders a RouteTable into the pods listener and its clusters (Envoy LDS/CDS resources).

Pure functions, no I/O. Called by gateway/xds_files.py (which writes the resources into the
files Envoy watches), and through it by `python -m gateway` (the initial, empty snapshot) and
the route keeper (gateway/route_keeper.py, every route change); the gateway tests compare the
output to literal fragments.

One TLS listener serves every pod by name. The `tls_inspector` listener filter reads the SNI
and ALPN of the ClientHello, and Envoy picks the filter chain whose match names that host
(an exact name wins over the wildcard):

- `http` route (gateway/pods_http.py): TLS terminated with the pods certificate (ALPN h2,
  http/1.1), an HTTP connection manager forwarding to the pod's cluster, or answering 503
  ("pod 'x' is CREATING") while the pod does not serve. With `pod_domain` set (the gateway's
  case), plain HTTP pods share ONE chain matched by `*.<pod_domain>`, whose routes (a virtual
  host per pod, a 404 for unknown names) come from the RDS file `rds_path`: their changes
  leave this listener byte for byte. A pod with access policies or a login (tapis_auth) keeps
  a chain of its own, whose connection manager carries its filters and answers 421 for other
  hosts; its cluster is published with the others. A plain pod at an IP address uses the
  shared direct cluster (gateway/pods_http.py) and has no cluster of its own.
- `tcp` route (Neo4j bolt+s): TLS terminated, bytes proxied to the pod in plain TCP.
- `postgres` route (libpq `sslnegotiation=direct`): TLS with ALPN `postgresql`, proxied.
- Plaintext (classic libpq sends an SSLRequest before any TLS): proxied untouched to the
  STARTTLS router (gateway/starttls_router.py), which answers it and routes by SNI itself.

With `handoff_path` a second listener, on that Unix socket, takes the TLS streams the
STARTTLS router hands off (gateway/tls_handoff.py): one chain per serving postgres route
without an ip_allow_list, matched by SNI alone (libpq before 17 sends no ALPN), TLS terminated
with ALPN `postgresql` offered, bytes to the pod. Only the router reaches the socket (a file in
the gateway's private directory), and it has decided the SNI already.

A tcp or postgres route that is not serving is refused: Envoy closes the connection right
after the ClientHello (no chain matches, or, under the shared chain's wildcard, a chain of its
own without filters). So is TLS without SNI or with a name outside `pod_domain`, and an unknown
name under it asking for ALPN `postgresql`. An unknown name under `pod_domain` without that
ALPN completes the handshake on the shared chain (a bolt client sends none either, like some
HTTP clients): HTTP gets the 404; a bolt client's bytes are no HTTP request line, so it waits
for the request header timeout (Envoy's 408, then the connection is closed). Every chain is
named after its host and rendered deterministically, so an update that adds or removes other
pods leaves it (and its open connections) alone: Envoy updates filter chains in place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway import pod_policies
from gateway.certs import TlsFiles
from gateway.envoy_config import RDS_FILE, ClusterGateway
from gateway.envoy_parts import (
    downstream_tls,
    socket_address,
    tls_inspector,
    upstream_cluster,
)
from gateway.hardening import JsonObject, Limits, duration
from gateway.pod_login import login_cluster, needs_login
from gateway.pods_http import (
    direct_cluster,
    http_chain,
    is_direct,
    is_shared,
    shared_http_chain,
    shared_route_config,
    shared_virtual_host,
)
from gateway.routes import PodRoute, RouteTable
from services.common.settings import Settings

PODS_LISTENER = "pods"
HANDOFF_LISTENER = "pods_handoff"
HANDOFF_SOCKET = "handoff.sock"
ROUTER_CLUSTER = "starttls_router"
STARTTLS_CHAIN = "starttls"
REFUSED_POSTGRES_CHAIN = "pods_refused_postgresql"
POSTGRES_ALPN = "postgresql"
# Stat prefixes are shared by all pods of a kind, so stats do not pile up as pods come and go
# (HTTP's is in gateway/pods_http.py).
TCP_STATS = "pods_tcp"
ROUTER_STATS = "pods_starttls"

_T = "type.googleapis.com/"
LISTENER_TYPE = _T + "envoy.config.listener.v3.Listener"
CLUSTER_TYPE = _T + "envoy.config.cluster.v3.Cluster"
TCP_PROXY_TYPE = _T + "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"


@dataclass(frozen=True)
class PodsListenerOptions:
    """Where the pods listener binds, what it serves, where the STARTTLS router is."""

    port: int
    tls: TlsFiles
    router_port: int
    router_host: str = "127.0.0.1"
    bind_address: str = "127.0.0.1"
    connect_timeout: float = 2.0  # to a pod or the router
    # A client must send its first bytes (ClientHello or SSLRequest) within this time.
    handshake_timeout: float = 5.0
    # A proxied TCP connection (bolt, PostgreSQL) idle this long is closed.
    tcp_idle_timeout: float = 3600.0
    limits: Limits = field(default_factory=Limits)
    # The api's gRPC port, for the login check of pods with tapis_auth (gateway/pod_login.py).
    api_host: str = "127.0.0.1"
    api_port: int = 50051
    # Envoy's listener for the STARTTLS router's hand-offs (None: the router terminates TLS).
    handoff_path: str | None = None
    # Plain HTTP pods under this domain share one chain whose routes come from the RDS file
    # `rds_path` (gateway/pods_http.py); empty: every pod has a chain of its own.
    pod_domain: str = ""
    rds_path: str = ""

    @classmethod
    def from_settings(
        cls, settings: Settings, tls: TlsFiles, *, bind_address: str = "127.0.0.1"
    ) -> PodsListenerOptions:
        """The local stack's pods listener: `pods_port`, the router on loopback."""
        return cls(
            port=settings.pods_port,
            tls=tls,
            router_port=settings.router_port,
            bind_address=bind_address,
            api_port=settings.api_port,
            pod_domain=settings.pod_domain,
            rds_path=str((settings.data_dir / "gateway" / "xds" / RDS_FILE).resolve()),
            handoff_path=(
                str((settings.data_dir / "gateway" / HANDOFF_SOCKET).resolve())
                if settings.router_handoff
                else None
            ),
        )


def cluster_listener_options(gateway: ClusterGateway) -> PodsListenerOptions:
    """The pods listener of a Kubernetes deployment (port 443, certificate from a Secret,
    the router through its Service's DNS name)."""
    return PodsListenerOptions(
        port=gateway.pods_port,
        tls=TlsFiles(cert=gateway.tls_cert, key=gateway.tls_key, ca=None),
        router_port=gateway.router_port,
        router_host=gateway.router_host,
        bind_address=gateway.bind_address,
        api_host=gateway.api_host,
        api_port=gateway.api_port,
        handoff_path=str(gateway.xds_dir / HANDOFF_SOCKET) if gateway.router_handoff else None,
        pod_domain=gateway.pod_domain,
        rds_path=str(gateway.xds_dir / RDS_FILE),
    )


@dataclass(frozen=True)
class Snapshot:
    """Everything published at once: the LDS, CDS and RDS resources, each with its `@type`
    (no RDS resource without a `pod_domain`)."""

    listeners: tuple[JsonObject, ...]
    clusters: tuple[JsonObject, ...]
    routes: tuple[JsonObject, ...] = ()


def build_snapshot(table: RouteTable, options: PodsListenerOptions) -> Snapshot:
    """The pods listener, the clusters and the shared routes it needs for `table`."""
    handoff = handoff_listener(table, options)
    return Snapshot(
        listeners=(pods_listener(table, options), *([handoff] if handoff else [])),
        clusters=tuple(pods_clusters(table, options)),
        routes=(shared_routes(table, options),) if options.pod_domain else (),
    )


# --- listener ------------------------------------------------------------------------------------


def pods_listener(table: RouteTable, options: PodsListenerOptions) -> JsonObject:
    """The TLS listener: a filter chain per host that needs its own, the shared chains, and
    the plaintext chain."""
    chains = [
        chain for route in _sorted(table.routes.values()) if (chain := pod_chain(route, options))
    ]
    return {**listener_shell(options), "filter_chains": [*chains, *fixed_chains(options)]}


def fixed_chains(options: PodsListenerOptions) -> list[JsonObject]:
    """The chains that do not depend on the routes (they come after the routes' own): with a
    `pod_domain`, the shared HTTP chain and the refusal of unknown names asking for
    PostgreSQL; always the plaintext chain."""
    shared: list[JsonObject] = []
    if options.pod_domain:
        wildcard = f"*.{options.pod_domain}"
        shared = [
            shared_http_chain(options.tls, options.pod_domain, options.rds_path, options.limits),
            refused_chain(REFUSED_POSTGRES_CHAIN, wildcard, alpn=POSTGRES_ALPN),
        ]
    return [*shared, starttls_chain(options)]


def shared_routes(table: RouteTable, options: PodsListenerOptions) -> JsonObject:
    """The shared chain's RouteConfiguration for `table` (gateway/pods_http.py)."""
    return shared_route_config(
        [
            vhost
            for route in _sorted(table.routes.values())
            if (vhost := shared_virtual_host(route, options.pod_domain))
        ]
    )


def listener_shell(options: PodsListenerOptions) -> JsonObject:
    """The listener without its filter chains (which come last: gateway/xds_text.py appends
    them to this part's text)."""
    return {
        "@type": LISTENER_TYPE,
        "name": PODS_LISTENER,
        "address": socket_address(options.bind_address, options.port),
        "listener_filters": [tls_inspector()],
        "listener_filters_timeout": duration(options.handshake_timeout),
    }


def handoff_listener(table: RouteTable, options: PodsListenerOptions) -> JsonObject | None:
    """The listener of the router's hand-offs; None without a path or a route to serve."""
    if options.handoff_path is None:
        return None
    chains = [
        handoff_chain(route, options)
        for route in _sorted(table.routes.values())
        if route.protocol == "postgres" and route.serving and not route.options.ip_allow_list
    ]
    if not chains:
        return None
    return {
        "@type": LISTENER_TYPE,
        "name": HANDOFF_LISTENER,
        "address": {"pipe": {"path": options.handoff_path}},
        "listener_filters": [tls_inspector()],
        "listener_filters_timeout": duration(options.handshake_timeout),
        "filter_chains": chains,
    }


def handoff_chain(route: PodRoute, options: PodsListenerOptions) -> JsonObject:
    """A postgres route's chain on the hand-off listener: matched by SNI only."""
    return {
        "name": route.host,
        "filter_chain_match": {"server_names": [route.host], "transport_protocol": "tls"},
        "transport_socket": downstream_tls(options.tls, (POSTGRES_ALPN,)),
        "filters": [tcp_proxy(TCP_STATS, route.cluster_name, options.tcp_idle_timeout)],
    }


def pod_chain(route: PodRoute, options: PodsListenerOptions) -> JsonObject | None:
    """The filter chain of one route; None when the shared chain serves it, or when nothing
    may reach it (unknown name then). A tcp or postgres route that does not serve is refused
    by a chain of its own when there is a shared chain (whose wildcard would match it)."""
    if route.protocol == "http":
        if is_shared(route, options.pod_domain):
            return None
        return http_chain(route, options.tls, options.limits)
    if not route.serving:
        if options.pod_domain and route.protocol in ("tcp", "postgres"):
            return refused_chain(route.host, route.host)
        return None
    if route.protocol == "tcp":
        return tcp_chain(route, options)
    if route.protocol == "postgres":
        return tcp_chain(route, options, alpn=POSTGRES_ALPN)
    raise ValueError(f"protocol {route.protocol!r} of {route.host} is not routable")


def tcp_chain(
    route: PodRoute, options: PodsListenerOptions, *, alpn: str | None = None
) -> JsonObject:
    """TLS terminated for `route.host` (requiring ALPN `alpn` when given), bytes to the pod."""
    match: JsonObject = {"server_names": [route.host], "transport_protocol": "tls"}
    if alpn:
        match["application_protocols"] = [alpn]
    return {
        "name": route.host,
        "filter_chain_match": match,
        "transport_socket": downstream_tls(options.tls, (alpn,) if alpn else ()),
        "filters": [
            *pod_policies.network_filters(route),
            tcp_proxy(TCP_STATS, route.cluster_name, options.tcp_idle_timeout),
        ],
    }


def refused_chain(name: str, server_name: str, *, alpn: str | None = None) -> JsonObject:
    """A chain without filters: Envoy closes the connection right after the ClientHello, as
    when no chain matches (an exact name or a more specific ALPN wins over the shared chain)."""
    match: JsonObject = {"server_names": [server_name], "transport_protocol": "tls"}
    if alpn:
        match["application_protocols"] = [alpn]
    return {"name": name, "filter_chain_match": match, "filters": []}


def starttls_chain(options: PodsListenerOptions) -> JsonObject:
    """Connections that do not start with a TLS ClientHello go to the STARTTLS router."""
    return {
        "name": STARTTLS_CHAIN,
        "filter_chain_match": {"transport_protocol": "raw_buffer"},
        "filters": [tcp_proxy(ROUTER_STATS, ROUTER_CLUSTER, options.tcp_idle_timeout)],
    }


def tcp_proxy(stat_prefix: str, cluster: str, idle_timeout: float) -> JsonObject:
    """The network filter copying bytes both ways to `cluster`."""
    return {
        "name": "envoy.filters.network.tcp_proxy",
        "typed_config": {
            "@type": TCP_PROXY_TYPE,
            "stat_prefix": stat_prefix,
            "cluster": cluster,
            "idle_timeout": duration(idle_timeout),
        },
    }


# --- clusters ------------------------------------------------------------------------------------


def pods_clusters(table: RouteTable, options: PodsListenerOptions) -> list[JsonObject]:
    """The base clusters, then one per serving route that needs its own (`has_own_cluster`),
    named `route.cluster_name`."""
    return [
        *base_clusters(table, options),
        *(
            pod_cluster(route, options)
            for route in _sorted(table.routes.values())
            if has_own_cluster(route, options)
        ),
    ]


def has_own_cluster(route: PodRoute, options: PodsListenerOptions) -> bool:
    """A serving route gets a cluster of its own unless the shared direct cluster serves it
    (gateway/pods_http.py `is_direct`: a plain HTTP pod at an IP address)."""
    return route.serving and not is_direct(route, options.pod_domain)


def base_clusters(table: RouteTable, options: PodsListenerOptions) -> list[JsonObject]:
    """The clusters that are not a pod's: the router's, the shared HTTP chain's direct cluster
    (with a `pod_domain`), then the login check's while a serving route has tapis_auth."""
    clusters = [_typed_cluster(ROUTER_CLUSTER, options.router_host, options.router_port, options)]
    if options.pod_domain:  # the shared HTTP chain's direct cluster: always there, never changes
        clusters.append(
            {"@type": CLUSTER_TYPE, **direct_cluster(duration(options.connect_timeout))}
        )
    if any(needs_login(route) for route in table.routes.values()):
        cluster = login_cluster(
            options.api_host, options.api_port, connect_timeout=options.connect_timeout
        )
        clusters.append({"@type": CLUSTER_TYPE, **cluster})
    return clusters


def pod_cluster(route: PodRoute, options: PodsListenerOptions) -> JsonObject:
    """The cluster of a serving route, named `route.cluster_name`."""
    return _typed_cluster(route.cluster_name, route.upstream_host, route.upstream_port, options)


def _typed_cluster(name: str, host: str, port: int, options: PodsListenerOptions) -> JsonObject:
    return {
        "@type": CLUSTER_TYPE,
        **upstream_cluster(name, host, port, connect_timeout=options.connect_timeout),
    }


def _sorted(routes: Iterable[PodRoute]) -> list[PodRoute]:
    return sorted(routes, key=lambda route: route.host)

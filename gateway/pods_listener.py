"""Renders a RouteTable into the pods listener and its clusters (Envoy LDS/CDS resources).

Pure functions, no I/O. Called by gateway/xds_files.py (which writes the resources into the
files Envoy watches), and through it by `python -m gateway` (the initial, empty snapshot) and
the route keeper (gateway/route_keeper.py, every route change); the gateway tests compare the
output to literal fragments.

One TLS listener serves every pod by name. The `tls_inspector` listener filter reads the SNI
and ALPN of the ClientHello, and Envoy picks the filter chain whose match names that host:

- `http` route: TLS terminated with the pods certificate (ALPN h2, http/1.1), an HTTP
  connection manager forwarding to the pod's cluster, or answering 503 ("pod 'x' is
  CREATING") while the pod does not serve. Requests naming another host on the same
  connection (HTTP/2 connection reuse under a wildcard certificate) get 421.
  A serving route with `tapis_auth` also gets the login check (gateway/pod_login.py) before
  the router, and its cluster is published with the others.
- `tcp` route (Neo4j bolt+s): TLS terminated, bytes proxied to the pod in plain TCP.
- `postgres` route (libpq `sslnegotiation=direct`): TLS with ALPN `postgresql`, proxied.
- Plaintext (classic libpq sends an SSLRequest before any TLS): proxied untouched to the
  STARTTLS router (gateway/starttls_router.py), which answers it and routes by SNI itself.

With `handoff_path` a second listener, on that Unix socket, takes the TLS streams the
STARTTLS router hands off (gateway/tls_handoff.py): one chain per serving postgres route
without an ip_allow_list, matched by SNI alone (libpq before 17 sends no ALPN), TLS terminated
with ALPN `postgresql` offered, bytes to the pod. Only the router reaches the socket (a file in
the gateway's private directory), and it has decided the SNI already.

A tcp or postgres route that is not serving has no chain, and neither has an unknown name:
Envoy then closes the connection during the handshake. Every chain is named after its host and
rendered deterministically, so an update that adds or removes other pods leaves it (and its
open connections) alone: Envoy updates filter chains in place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway import hardening, pod_policies
from gateway.certs import TlsFiles
from gateway.envoy_config import ClusterGateway
from gateway.envoy_parts import (
    HCM_TYPE,
    HTTP_ALPN,
    downstream_tls,
    router_filter,
    socket_address,
    stdout_access_log,
    tls_inspector,
    upstream_cluster,
)
from gateway.hardening import DEFAULT_LIMITS, JsonObject, Limits, duration
from gateway.pod_login import (
    login_cluster,
    needs_login,
    pod_login_filters,
    pod_login_route_config,
)
from gateway.routes import PodRoute, RouteTable
from services.common.settings import Settings

PODS_LISTENER = "pods"
HANDOFF_LISTENER = "pods_handoff"
HANDOFF_SOCKET = "handoff.sock"
ROUTER_CLUSTER = "starttls_router"
STARTTLS_CHAIN = "starttls"
POSTGRES_ALPN = "postgresql"
# Stat prefixes are shared by all pods of a kind, so stats do not pile up as pods come and go.
HTTP_STATS = "pods_http"
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
    )


@dataclass(frozen=True)
class Snapshot:
    """Everything published at once: the LDS and CDS resources, each with its `@type`."""

    listeners: tuple[JsonObject, ...]
    clusters: tuple[JsonObject, ...]


def build_snapshot(table: RouteTable, options: PodsListenerOptions) -> Snapshot:
    """The pods listener and the clusters it needs for `table`."""
    handoff = handoff_listener(table, options)
    return Snapshot(
        listeners=(pods_listener(table, options), *([handoff] if handoff else [])),
        clusters=tuple(pods_clusters(table, options)),
    )


# --- listener ------------------------------------------------------------------------------------


def pods_listener(table: RouteTable, options: PodsListenerOptions) -> JsonObject:
    """The TLS listener: one filter chain per routable host, plus the plaintext chain."""
    chains = [
        chain for route in _sorted(table.routes.values()) if (chain := pod_chain(route, options))
    ]
    return {**listener_shell(options), "filter_chains": [*chains, starttls_chain(options)]}


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
    """The filter chain of one route; None when nothing may reach it (unknown name then)."""
    if route.protocol == "http":
        return http_chain(route, options.tls, options.limits)
    if not route.serving:
        return None
    if route.protocol == "tcp":
        return tcp_chain(route, options)
    if route.protocol == "postgres":
        return tcp_chain(route, options, alpn=POSTGRES_ALPN)
    raise ValueError(f"protocol {route.protocol!r} of {route.host} is not routable")


def http_chain(route: PodRoute, tls: TlsFiles, limits: Limits = DEFAULT_LIMITS) -> JsonObject:
    """TLS (h2 or http/1.1) terminated for `route.host`, then HTTP to the pod (or a 503)."""
    return {
        "name": route.host,
        "filter_chain_match": {"server_names": [route.host], "transport_protocol": "tls"},
        "transport_socket": downstream_tls(tls, HTTP_ALPN),
        "filters": [pod_http_connection_manager(route, limits)],
    }


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


def pod_http_connection_manager(route: PodRoute, limits: Limits = DEFAULT_LIMITS) -> JsonObject:
    """HTTP/1.1 or HTTP/2 from the client (codec AUTO), HTTP/1.1 to the pod.

    The Host header is forwarded as the client sent it; X-Forwarded-Proto says https and
    X-Forwarded-For carries the client's address. No route timeout (pods may stream), and
    WebSocket upgrades pass through. Header size and count, HTTP/2 streams and the time to
    send headers are held to `limits`; header names with underscores pass (the pod's own
    business).
    """
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": HCM_TYPE,
            "stat_prefix": HTTP_STATS,
            "codec_type": "AUTO",
            "use_remote_address": True,
            "xff_num_trusted_hops": 0,
            **_pod_limits(limits),
            "upgrade_configs": [{"upgrade_type": "websocket"}],
            "access_log": [stdout_access_log()],
            "route_config": pod_route_config(route),
            "http_filters": [
                *pod_policies.http_filters(route),  # who may connect, CORS: before any login
                *pod_login_filters(route),
                router_filter(),
            ],
        },
    }


def _pod_limits(limits: Limits) -> JsonObject:
    """The hardening of a pod's connection manager, without the whole-request timeout: a pod
    may take long uploads or stream (WebSockets), so only idle streams are cut."""
    fields = hardening.connection_manager_limits(limits, reject_underscores=False)
    del fields["request_timeout"]
    return fields


def pod_route_config(route: PodRoute) -> JsonObject:
    """One virtual host for the route's host (with or without a port in Host), and 421 for
    any other host asked on this connection: a browser reusing an HTTP/2 connection for
    another pod (the wildcard certificate allows it) then opens a new one."""
    host = route.host
    return {
        "name": host,
        # The pod's cluster may be published a moment after this listener: never reject the
        # listener for it (a request in that moment gets a 503 instead).
        "validate_clusters": False,
        "request_headers_to_add": [
            {
                "header": {"key": "x-forwarded-proto", "value": "https"},
                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
            }
        ],
        "virtual_hosts": [
            {
                "name": host,
                "domains": [host, f"{host}:*"],
                "routes": [_pod_route(route)],
                **pod_policies.virtual_host_fields(route),
            },
            {
                "name": "misdirected",
                "domains": ["*"],
                "routes": [
                    {
                        "name": "misdirected",
                        "match": {"prefix": "/"},
                        "direct_response": {
                            "status": 421,
                            "body": {"inline_string": f"this connection serves {host} only\n"},
                        },
                    }
                ],
            },
        ],
    }


def _pod_route(route: PodRoute) -> JsonObject:
    if route.serving:
        served: JsonObject = {
            "name": route.host,
            "match": {"prefix": "/"},
            "route": {"cluster": route.cluster_name, "timeout": "0s"},
        }
        if login := pod_login_route_config(route):
            served["typed_per_filter_config"] = login
        return served
    return {
        "name": route.host,
        "match": {"prefix": "/"},
        "direct_response": {"status": 503, "body": {"inline_string": unavailable_text(route)}},
    }


def unavailable_text(route: PodRoute) -> str:
    """What an HTTP client reads while the pod does not serve."""
    if route.status == "AVAILABLE":
        return f"pod '{route.pod_id}' is AVAILABLE but has no reachable port yet\n"
    return f"pod '{route.pod_id}' is {route.status}\n"


# --- clusters ------------------------------------------------------------------------------------


def pods_clusters(table: RouteTable, options: PodsListenerOptions) -> list[JsonObject]:
    """The router's cluster, one per serving route, named `route.cluster_name`, and the
    login check's while a serving route has tapis_auth."""
    return [
        *base_clusters(table, options),
        *(pod_cluster(route, options) for route in _sorted(table.routes.values()) if route.serving),
    ]


def base_clusters(table: RouteTable, options: PodsListenerOptions) -> list[JsonObject]:
    """The clusters that are not a pod's: the router's, then the login check's while a serving
    route has tapis_auth."""
    clusters = [_typed_cluster(ROUTER_CLUSTER, options.router_host, options.router_port, options)]
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

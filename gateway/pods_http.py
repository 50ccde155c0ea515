"""HTTP pods on the pods listener (gateway/pods_listener.py): their filter chains, connection
managers and route configurations, as JSON-ready dicts (no I/O).

Two ways to serve an HTTP pod:

- Shared (`is_shared`): a plain HTTP pod (no ip_allow_list, no CORS from
  gateway/pod_policies.py, no tapis_auth login from gateway/pod_login.py) is served by ONE
  filter chain for all of them, matched by the wildcard name `*.<pod_domain>`. Its connection
  manager takes its routes by RDS from a file of their own (`shared_route_config`: one virtual
  host per HTTP pod, then a catch-all), so a pod that comes, goes or changes status rewrites
  that file but never the listener: Envoy neither re-reads the other pods' chains nor drains
  a connection. A shared pod served at an IP address (the local stack's published ports) has
  no cluster of its own either: its route sends it to DIRECT_CLUSTER, an ORIGINAL_DST cluster
  that connects where the route's UPSTREAM_HEADER says (the route overwrites any value the
  client sent; the pod sees the header). A pod reached by a name (a Kubernetes Service)
  keeps a cluster of its own. One connection may carry requests for several plain
  pods (HTTP/2 connection reuse under the wildcard certificate): each is routed by its Host.
  A pod with its own chain answers 421 on this chain (the client opens a new connection, whose
  SNI reaches that chain and its policies), and an unknown name gets 404.
- Dedicated (`http_chain`): a pod with policies or a login keeps a chain matched by its exact
  name (exact names win over the wildcard), whose connection manager carries the pod's filters
  and route inline and answers 421 for any other host: such a connection serves that pod only.

Called by gateway/pods_listener.py (chains) and gateway/xds_text.py (the route file, rendered
one virtual host at a time).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gateway import hardening, pod_policies
from gateway.certs import TlsFiles
from gateway.envoy_config import path_config_source
from gateway.envoy_parts import (
    HCM_TYPE,
    HTTP_ALPN,
    TYPE_URL,
    downstream_tls,
    is_ip,
    router_filter,
    stdout_access_log,
)
from gateway.hardening import DEFAULT_LIMITS, JsonObject, Limits
from gateway.pod_login import pod_login_filters, pod_login_route_config
from gateway.routes import PodRoute

HTTP_STATS = "pods_http"  # shared by all pods, so stats do not pile up as pods come and go
SHARED_CHAIN = "pods_http_shared"
ROUTE_CONFIG = "pods_http"  # the shared chain's RouteConfiguration (RDS resource name)
ROUTE_CONFIG_TYPE = TYPE_URL + "envoy.config.route.v3.RouteConfiguration"
CATCH_ALL = "unknown_host"
# Plain pods reached at an address (the local stack's published ports) share one ORIGINAL_DST
# cluster: their route sets this header to the address, so a pod's change touches no cluster.
DIRECT_CLUSTER = "pods_http_direct"
UPSTREAM_HEADER = "x-pods-upstream"
DIRECT_CLUSTER_LIMIT = 100_000  # connections, requests: the shared cluster's circuit breakers
UNKNOWN_HOST_TEXT = "no pod is published under this name\n"


def is_shared(route: PodRoute, pod_domain: str) -> bool:
    """Whether `route` is served by the shared chain: an HTTP route under `pod_domain` without
    access policies or a login (those need filters of their own)."""
    return (
        bool(pod_domain)
        and route.protocol == "http"
        and route.host.endswith("." + pod_domain)
        and not route.tapis_auth
        and not route.options.ip_allow_list
        and not route.options.cors
    )


def is_direct(route: PodRoute, pod_domain: str) -> bool:
    """Whether `route` is served through the shared DIRECT_CLUSTER: a shared route that serves
    at an IP address (a name, such as a Kubernetes Service's, needs a cluster of its own)."""
    return is_shared(route, pod_domain) and route.serving and is_ip(route.upstream_host)


def direct_cluster(connect_timeout: JsonObject | str) -> JsonObject:
    """The cluster of every direct route: Envoy connects to the address the route's
    UPSTREAM_HEADER names (set by the route, overwriting any the client sent)."""
    limit = DIRECT_CLUSTER_LIMIT
    return {
        "name": DIRECT_CLUSTER,
        "type": "ORIGINAL_DST",
        "lb_policy": "CLUSTER_PROVIDED",
        "connect_timeout": connect_timeout,
        "original_dst_lb_config": {"use_http_header": True, "http_header_name": UPSTREAM_HEADER},
        "circuit_breakers": {
            "thresholds": [
                {"max_connections": limit, "max_pending_requests": limit, "max_requests": limit}
            ]
        },
    }


# --- chains --------------------------------------------------------------------------------------


def http_chain(route: PodRoute, tls: TlsFiles, limits: Limits = DEFAULT_LIMITS) -> JsonObject:
    """A dedicated chain: TLS (h2 or http/1.1) terminated for `route.host` alone, then HTTP to
    the pod (or a 503)."""
    return {
        "name": route.host,
        "filter_chain_match": {"server_names": [route.host], "transport_protocol": "tls"},
        "transport_socket": downstream_tls(tls, HTTP_ALPN),
        "filters": [pod_http_connection_manager(route, limits)],
    }


def shared_http_chain(
    tls: TlsFiles, pod_domain: str, rds_path: str, limits: Limits = DEFAULT_LIMITS
) -> JsonObject:
    """The chain of every plain HTTP pod: any name under `pod_domain` without a chain of its
    own, TLS (h2 or http/1.1) terminated, routes from the RDS file `rds_path`. It does not
    depend on the routes, so publishing a route change leaves it byte for byte."""
    if not rds_path:
        raise ValueError("the shared HTTP chain needs the path of its route file")
    rds: JsonObject = {
        "config_source": path_config_source(Path(rds_path)),
        "route_config_name": ROUTE_CONFIG,
    }
    return {
        "name": SHARED_CHAIN,
        "filter_chain_match": {
            "server_names": [f"*.{pod_domain}"],
            "transport_protocol": "tls",
        },
        "transport_socket": downstream_tls(tls, HTTP_ALPN),
        "filters": [http_connection_manager({"rds": rds}, [router_filter()], limits)],
    }


def pod_http_connection_manager(route: PodRoute, limits: Limits = DEFAULT_LIMITS) -> JsonObject:
    """A dedicated chain's connection manager: the pod's policies and login before the router,
    its route inline."""
    filters = [
        *pod_policies.http_filters(route),  # who may connect, CORS: before any login
        *pod_login_filters(route),
        router_filter(),
    ]
    return http_connection_manager({"route_config": pod_route_config(route)}, filters, limits)


def http_connection_manager(
    routing: JsonObject, filters: Sequence[JsonObject], limits: Limits = DEFAULT_LIMITS
) -> JsonObject:
    """HTTP/1.1 or HTTP/2 from the client (codec AUTO), HTTP/1.1 to the pod; `routing` is
    `route_config` (inline) or `rds`.

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
            **routing,
            "http_filters": list(filters),
        },
    }


def _pod_limits(limits: Limits) -> JsonObject:
    """The hardening of a pod's connection manager, without the whole-request timeout: a pod
    may take long uploads or stream (WebSockets), so only idle streams are cut."""
    fields = hardening.connection_manager_limits(limits, reject_underscores=False)
    del fields["request_timeout"]
    return fields


# --- route configurations ------------------------------------------------------------------------


def route_config_shell(name: str) -> JsonObject:
    """A route configuration without its virtual hosts (they come last: gateway/xds_text.py
    appends them to this part's text)."""
    return {
        "name": name,
        # The pod's cluster may be published a moment after its route: never reject the
        # routes for it (a request in that moment gets a 503 instead).
        "validate_clusters": False,
        "request_headers_to_add": [
            {
                "header": {"key": "x-forwarded-proto", "value": "https"},
                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
            }
        ],
    }


def pod_route_config(route: PodRoute) -> JsonObject:
    """A dedicated chain's routes: one virtual host for the route's host (with or without a
    port in Host), and 421 for any other host asked on this connection: a browser reusing an
    HTTP/2 connection for another pod (the wildcard certificate allows it) then opens a new
    one, which reaches that pod's own chain."""
    host = route.host
    return {
        **route_config_shell(host),
        "virtual_hosts": [
            {
                "name": host,
                "domains": [host, f"{host}:*"],
                "routes": [_pod_route(route)],
                **pod_policies.virtual_host_fields(route),
            },
            _direct_host("misdirected", ["*"], 421, f"this connection serves {host} only\n"),
        ],
    }


def shared_route_config(virtual_hosts: Sequence[JsonObject]) -> JsonObject:
    """The shared chain's RouteConfiguration (an RDS resource): `virtual_hosts` (from
    `shared_virtual_host`, in host order), then the catch-all for unknown names."""
    return {
        "@type": ROUTE_CONFIG_TYPE,
        **route_config_shell(ROUTE_CONFIG),
        "virtual_hosts": [*virtual_hosts, catch_all_virtual_host()],
    }


def shared_virtual_host(route: PodRoute, pod_domain: str) -> JsonObject | None:
    """The route's virtual host on the shared chain: a shared pod's route to its cluster (or
    its 503); for an HTTP pod with its own chain, 421 (a new connection reaches that chain,
    and its policies); None for other protocols (their names are unknown to HTTP)."""
    host = route.host
    domains = [host, f"{host}:*"]
    if is_shared(route, pod_domain):
        direct = is_direct(route, pod_domain)
        return {"name": host, "domains": domains, "routes": [_pod_route(route, direct=direct)]}
    if route.protocol == "http":
        return _direct_host(host, domains, 421, f"this connection does not serve {host}\n")
    return None


def catch_all_virtual_host() -> JsonObject:
    """Any host that no HTTP pod has: 404 with a plain explanation."""
    return _direct_host(CATCH_ALL, ["*"], 404, UNKNOWN_HOST_TEXT)


def _direct_host(name: str, domains: list[str], status: int, text: str) -> JsonObject:
    return {
        "name": name,
        "domains": domains,
        "routes": [
            {
                "name": name,
                "match": {"prefix": "/"},
                "direct_response": {"status": status, "body": {"inline_string": text}},
            }
        ],
    }


def _pod_route(route: PodRoute, *, direct: bool = False) -> JsonObject:
    if route.serving and direct:
        return {
            "name": route.host,
            "match": {"prefix": "/"},
            "route": {"cluster": DIRECT_CLUSTER, "timeout": "0s"},
            "request_headers_to_add": [
                {
                    "header": {"key": UPSTREAM_HEADER, "value": _address(route)},
                    "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                }
            ],
        }
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


def _address(route: PodRoute) -> str:
    host = route.upstream_host
    return f"[{host}]:{route.upstream_port}" if ":" in host else f"{host}:{route.upstream_port}"


def unavailable_text(route: PodRoute) -> str:
    """What an HTTP client reads while the pod does not serve."""
    if route.status == "AVAILABLE":
        return f"pod '{route.pod_id}' is AVAILABLE but has no reachable port yet\n"
    return f"pod '{route.pod_id}' is {route.status}\n"

"""A pod port's access policies as Envoy configuration: who may connect (the stanza's
`ip_allow_list`, Envoy's RBAC filters) and which browser origins may call it (its `cors_*`
fields, Envoy's CORS filter). Pure functions, no I/O.

Called by gateway/pods_listener.py for each route's filter chain: `http_filters` go before the
router of an HTTP chain (RBAC first, so a refused address gets 403 even for a preflight),
`virtual_host_fields` on the pod's virtual host (where the CORS policy lives), and
`network_filters` before the tcp_proxy of a tcp or postgres chain (a refused address's
connection is closed right after the TLS handshake). A route without options gets nothing.

The client address is Envoy's `remote_ip`: the downstream peer, or the address from
X-Forwarded-For where the connection manager trusts hops (the pods listener trusts none).
"""

from __future__ import annotations

import ipaddress

from gateway.api_docs import cors_filter
from gateway.envoy_parts import TYPE_URL
from gateway.hardening import JsonObject
from gateway.routes import PodRoute
from services.common.stanza_options import StanzaOptions

HTTP_RBAC_FILTER = "envoy.filters.http.rbac"
NETWORK_RBAC_FILTER = "envoy.filters.network.rbac"
CORS_FILTER = "envoy.filters.http.cors"
RBAC_STATS = "pods_ip_allow_list"
POLICY_NAME = "ip_allow_list"


def http_filters(route: PodRoute) -> list[JsonObject]:
    """The HTTP filters a pod port's options need, in order (before the router)."""
    filters: list[JsonObject] = []
    if route.options.ip_allow_list:
        filters.append(
            {
                "name": HTTP_RBAC_FILTER,
                "typed_config": {
                    "@type": TYPE_URL + "envoy.extensions.filters.http.rbac.v3.RBAC",
                    "rules": allow_rules(route.options.ip_allow_list),
                },
            }
        )
    if route.options.cors:
        filters.append(cors_filter())
    return filters


def virtual_host_fields(route: PodRoute) -> JsonObject:
    """Fields of the pod's virtual host: its CORS policy, when the stanza has one."""
    if not route.options.cors:
        return {}
    return {"typed_per_filter_config": {CORS_FILTER: cors_policy(route.options)}}


def network_filters(route: PodRoute) -> list[JsonObject]:
    """The network filters before a tcp or postgres chain's proxy: RBAC on the address."""
    if not route.options.ip_allow_list:
        return []
    return [
        {
            "name": NETWORK_RBAC_FILTER,
            "typed_config": {
                "@type": TYPE_URL + "envoy.extensions.filters.network.rbac.v3.RBAC",
                "stat_prefix": RBAC_STATS,
                "rules": allow_rules(route.options.ip_allow_list),
            },
        }
    ]


def allow_rules(ip_allow_list: tuple[str, ...]) -> JsonObject:
    """RBAC rules allowing only clients whose address is in one of the ranges."""
    return {
        "action": "ALLOW",
        "policies": {
            POLICY_NAME: {
                "permissions": [{"any": True}],
                "principals": [{"remote_ip": cidr_range(entry)} for entry in ip_allow_list],
            }
        },
    }


def cidr_range(entry: str) -> JsonObject:
    """Envoy's CidrRange for an address ("10.0.0.7": that one) or a range ("10.0.0.0/8";
    host bits set are ignored, as Tapis does)."""
    network = ipaddress.ip_network(entry.strip(), strict=False)
    return {
        "address_prefix": str(network.network_address),
        "prefix_len": network.prefixlen,
    }


def cors_policy(options: StanzaOptions) -> JsonObject:
    """The stanza's CORS policy: its origins ("*" matches any), methods, headers, credentials
    and preflight cache time. Envoy answers preflights of allowed origins itself and adds the
    CORS headers to their responses."""
    origins: list[JsonObject] = [
        {"safe_regex": {"regex": ".*"}} if origin == "*" else {"exact": origin}
        for origin in options.cors_allow_origins
    ]
    policy: JsonObject = {
        "@type": TYPE_URL + "envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": origins,
        "allow_credentials": options.cors_allow_credentials,
        "max_age": str(options.cors_max_age),
    }
    if options.cors_allow_methods:
        policy["allow_methods"] = ",".join(options.cors_allow_methods)
    if options.cors_allow_headers:
        policy["allow_headers"] = ",".join(options.cors_allow_headers)
    return policy

"""Envoy building blocks shared by the gateway's listeners, as JSON-ready dicts (no I/O):
addresses, upstream clusters, plain TCP listeners, the TLS inspector and a downstream TLS
socket, the router filter and the access log.

Called by the REST listener (gateway/rest_listener.py), the bootstrap
(gateway/envoy_config.py), the pods listener (gateway/pods_listener.py) and their tests.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from gateway import hardening
from gateway.certs import TlsFiles
from gateway.hardening import JsonObject, duration

TYPE_URL = "type.googleapis.com/"
HCM_TYPE = (
    TYPE_URL + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
)
ROUTER_TYPE = TYPE_URL + "envoy.extensions.filters.http.router.v3.Router"
TLS_INSPECTOR_TYPE = TYPE_URL + "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"
DOWNSTREAM_TLS_TYPE = TYPE_URL + "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
HTTP_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
HTTP_OPTIONS_TYPE = TYPE_URL + HTTP_OPTIONS_KEY

HTTP_ALPN: tuple[str, ...] = ("h2", "http/1.1")


def socket_address(address: str, port: int) -> JsonObject:
    """An Envoy Address for a TCP host and port."""
    if not 0 < port <= 65535:
        raise ValueError(f"port out of range: {port}")
    return {"socket_address": {"address": address, "port_value": port}}


def is_ip(host: str) -> bool:
    """Whether `host` is an IPv4 or IPv6 literal."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def upstream_cluster(
    name: str, host: str, port: int, *, connect_timeout: float = 5.0
) -> JsonObject:
    """A cluster of one upstream host and port (plain TCP, or HTTP/1.1 for HTTP filters).

    An IP literal makes a STATIC cluster; a name is resolved with STRICT_DNS (a Kubernetes
    Service, for example).
    """
    return {
        "name": name,
        "type": "STATIC" if is_ip(host) else "STRICT_DNS",
        "connect_timeout": duration(connect_timeout),
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {"lb_endpoints": [{"endpoint": {"address": socket_address(host, port)}}]}
            ],
        },
    }


def grpc_cluster(name: str, host: str, port: int, *, connect_timeout: float = 5.0) -> JsonObject:
    """An upstream cluster speaking HTTP/2 cleartext (gRPC) to one host (see upstream_cluster)."""
    return {
        **upstream_cluster(name, host, port, connect_timeout=connect_timeout),
        "typed_extension_protocol_options": {
            HTTP_OPTIONS_KEY: {
                "@type": HTTP_OPTIONS_TYPE,
                "explicit_http_config": {
                    "http2_protocol_options": {
                        # Notice a dead upstream connection instead of hanging on it.
                        "connection_keepalive": {"interval": "30s", "timeout": "5s"},
                    }
                },
            }
        },
    }


def router_filter() -> JsonObject:
    """The terminal HTTP filter that forwards to the route's cluster."""
    return {"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER_TYPE}}


def stdout_access_log() -> JsonObject:
    """One JSON line per request on Envoy's stdout, without tokens or query strings."""
    return hardening.json_access_log()


def listener(
    name: str, address: str, port: int, network_filters: Sequence[JsonObject]
) -> JsonObject:
    """A plain TCP listener with one filter chain."""
    return {
        "name": name,
        "address": socket_address(address, port),
        "filter_chains": [{"filters": list(network_filters)}],
    }


def tls_inspector() -> JsonObject:
    """The listener filter that reads a ClientHello's SNI and ALPN (or sees there is none)."""
    return {
        "name": "envoy.filters.listener.tls_inspector",
        "typed_config": {"@type": TLS_INSPECTOR_TYPE},
    }


def downstream_tls(tls: TlsFiles, alpn: Sequence[str]) -> JsonObject:
    """A TLS server transport socket with `tls`'s certificate, offering `alpn`, holding
    clients to TLS 1.2 or newer with forward-secret AEAD ciphers."""
    common: JsonObject = {
        "tls_params": hardening.tls_parameters(),
        "tls_certificates": [
            {
                "certificate_chain": {"filename": str(tls.cert)},
                "private_key": {"filename": str(tls.key)},
            }
        ],
    }
    if alpn:
        common["alpn_protocols"] = list(alpn)
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {"@type": DOWNSTREAM_TLS_TYPE, "common_tls_context": common},
    }

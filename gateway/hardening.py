"""Envoy hardening shared by the gateway's listeners: limits, timeouts, TLS parameters, the
overload manager and the JSON access log (pure functions returning JSON-ready dicts).

Called by gateway/rest_listener.py (the REST/gRPC listener), gateway/envoy_config.py (the
bootstrap's overload manager), gateway/envoy_parts.py (TLS parameters, the access log) and
gateway/pods_listener.py (the pods listener's HTTP connection managers and TLS contexts).
The numbers are in `Limits`; `Limits.from_settings` takes the few an operator tunes
(PODS_GATEWAY_MAX_CONNECTIONS, PODS_GATEWAY_MAX_HEAP_MB) and keeps the rest at values that
suit the API (bodies of at most 4 MiB, unary calls, exec up to an hour).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.settings import Settings

JsonObject = dict[str, object]

_T = "type.googleapis.com/"
FIXED_HEAP_TYPE = _T + "envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig"
DOWNSTREAM_CONNECTIONS_TYPE = (
    _T + "envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig"
)
STDOUT_LOG_TYPE = _T + "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog"
FIXED_HEAP = "envoy.resource_monitors.fixed_heap"
GLOBAL_CONNECTIONS = "envoy.resource_monitors.global_downstream_max_connections"

# TLS 1.2 suites with forward secrecy (ECDHE) and authenticated encryption (AEAD) only; TLS 1.3
# suites are all AEAD and not configurable in BoringSSL. ECDSA first: our certificates are EC.
CIPHER_SUITES: tuple[str, ...] = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-RSA-AES256-GCM-SHA384",
)
TLS_MINIMUM_VERSION = "TLSv1_2"
# Measured: an idle gateway (descriptor, routes, no pods) holds a heap of 14 MiB.
MIN_HEAP_MB = 64

# The access log: one JSON object per line. It names no request header but the user agent
# and request id, so tokens (X-Tapis-Token, Authorization) never reach it, and the path is
# logged without its query string, which may carry secrets (`?token=` of a notebook in a pod).
# `path` is the one the client sent (the transcoder rewrites REST paths to gRPC ones).
ACCESS_LOG_FIELDS: dict[str, str] = {
    "time": "%START_TIME%",
    "method": "%REQ(X-ENVOY-ORIGINAL-METHOD?:METHOD)%",
    "path": "%PATH(NQ:ORIG_OR_PATH)%",
    "protocol": "%PROTOCOL%",
    "authority": "%REQ(:AUTHORITY)%",
    "status": "%RESPONSE_CODE%",
    "grpc_status": "%GRPC_STATUS_NUMBER%",
    "flags": "%RESPONSE_FLAGS%",
    "details": "%RESPONSE_CODE_DETAILS%",
    "route": "%ROUTE_NAME%",
    "bytes_in": "%BYTES_RECEIVED%",
    "bytes_out": "%BYTES_SENT%",
    "duration_ms": "%DURATION%",
    "client": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
    "tls": "%DOWNSTREAM_TLS_VERSION%",
    "user_agent": "%REQ(USER-AGENT)%",
    "request_id": "%REQ(X-REQUEST-ID)%",
    "upstream": "%UPSTREAM_HOST%",
}


@dataclass(frozen=True)
class Limits:
    """Every limit the gateway sets; times in seconds, sizes in bytes unless named."""

    # Open client connections over all listeners (the overload manager refuses more).
    max_connections: int = 10000
    # Envoy's heap: above 95 % it frees memory, above 98 % it stops accepting requests.
    max_heap_bytes: int = 1024 * 1024 * 1024
    max_request_headers_kb: int = 32
    max_headers_count: int = 64
    # A client must send all request headers within this time (slowloris).
    request_headers_timeout: float = 10.0
    # ... and the whole request (an upload of 4 MiB) within this time.
    request_timeout: float = 300.0
    # A request with no bytes moving either way for this long is reset (long routes override it).
    stream_idle_timeout: float = 300.0
    # A connection without requests for this long is closed.
    connection_idle_timeout: float = 300.0
    # HTTP/2: streams at once per connection and flow-control windows.
    max_concurrent_streams: int = 100
    initial_stream_window_size: int = 64 * 1024
    initial_connection_window_size: int = 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The operator's connection and heap limits, the rest as defined here; raises
        ValueError naming the variable when one is too small to run on."""
        if settings.gateway_max_connections < 1:
            raise ValueError(
                "PODS_GATEWAY_MAX_CONNECTIONS must be at least 1, "
                f"got {settings.gateway_max_connections}"
            )
        if settings.gateway_max_heap_mb < MIN_HEAP_MB:
            raise ValueError(
                f"PODS_GATEWAY_MAX_HEAP_MB must be at least {MIN_HEAP_MB}, "
                f"got {settings.gateway_max_heap_mb}"
            )
        return cls(
            max_connections=settings.gateway_max_connections,
            max_heap_bytes=settings.gateway_max_heap_mb * 1024 * 1024,
        )


DEFAULT_LIMITS = Limits()


def duration(seconds: float) -> str:
    """A protobuf Duration in its JSON form ("5s", "0.250s")."""
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {seconds}")
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{seconds:.3f}s"


def http_protocol_options(limits: Limits, *, reject_underscores: bool) -> JsonObject:
    """`common_http_protocol_options` of a connection manager.

    With `reject_underscores`, a request header with an underscore in its name is answered
    400: some upstreams treat `x_tapis_token` like `x-tapis-token`, which would let a client
    smuggle a second value past Envoy's view of the headers.
    """
    options: JsonObject = {
        "idle_timeout": duration(limits.connection_idle_timeout),
        "max_headers_count": limits.max_headers_count,
    }
    if reject_underscores:
        options["headers_with_underscores_action"] = "REJECT_REQUEST"
    return options


def http2_options(limits: Limits) -> JsonObject:
    """`http2_protocol_options` for clients (HTTP/2 and gRPC)."""
    return {
        "max_concurrent_streams": limits.max_concurrent_streams,
        "initial_stream_window_size": limits.initial_stream_window_size,
        "initial_connection_window_size": limits.initial_connection_window_size,
    }


def connection_manager_limits(limits: Limits, *, reject_underscores: bool) -> JsonObject:
    """The fields a hardened HttpConnectionManager adds to its typed_config."""
    return {
        "max_request_headers_kb": limits.max_request_headers_kb,
        "request_headers_timeout": duration(limits.request_headers_timeout),
        "request_timeout": duration(limits.request_timeout),
        "stream_idle_timeout": duration(limits.stream_idle_timeout),
        "common_http_protocol_options": http_protocol_options(
            limits, reject_underscores=reject_underscores
        ),
        "http2_protocol_options": http2_options(limits),
    }


def tls_parameters() -> JsonObject:
    """`tls_params` of a server TLS context: TLS 1.2 or newer, ECDHE with AEAD only."""
    return {
        "tls_minimum_protocol_version": TLS_MINIMUM_VERSION,
        "cipher_suites": list(CIPHER_SUITES),
    }


def json_access_log() -> JsonObject:
    """One JSON object per request on Envoy's stdout (fields: ACCESS_LOG_FIELDS)."""
    return {
        "name": "envoy.access_loggers.stdout",
        "typed_config": {
            "@type": STDOUT_LOG_TYPE,
            "log_format": {"json_format": dict(ACCESS_LOG_FIELDS)},
        },
    }


def overload_manager(limits: Limits) -> JsonObject:
    """The bootstrap's overload manager: a global cap on client connections, and heap
    thresholds at which Envoy first returns memory to the system, then stops taking
    requests (answering 503) rather than being killed for running out of memory."""
    return {
        "refresh_interval": "0.25s",
        "resource_monitors": [
            {
                "name": FIXED_HEAP,
                "typed_config": {
                    "@type": FIXED_HEAP_TYPE,
                    "max_heap_size_bytes": limits.max_heap_bytes,
                },
            },
            {
                "name": GLOBAL_CONNECTIONS,
                "typed_config": {
                    "@type": DOWNSTREAM_CONNECTIONS_TYPE,
                    "max_active_downstream_connections": limits.max_connections,
                },
            },
        ],
        "actions": [
            _heap_action("envoy.overload_actions.shrink_heap", 0.95),
            _heap_action("envoy.overload_actions.stop_accepting_requests", 0.98),
        ],
    }


def _heap_action(name: str, threshold: float) -> JsonObject:
    return {"name": name, "triggers": [{"name": FIXED_HEAP, "threshold": {"value": threshold}}]}

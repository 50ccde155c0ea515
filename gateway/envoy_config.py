"""Builds the Envoy v3 bootstrap of the gateway as plain JSON-ready dicts (no I/O).

Called by `python -m gateway` (gateway/__main__.py), which writes the result to a file, by
gateway/pods_listener.py (which reuses the small builders for the pods listener and clusters)
and by the gateway tests. Small builders (a cluster, the transcoder filter, the routes, an HTTP
connection manager, a listener) compose into `gateway_bootstrap`: the static REST/gRPC listener
plus `dynamic_resources` naming the LDS/CDS files (`<xds_dir>/lds.yaml`, `cds.yaml`) through
which the pods listener and its clusters change without restarting Envoy (gateway/xds_files.py
writes them). `cluster_bootstrap` is the same for a Kubernetes deployment (deploy/). What
clients observe (status, content-type and body of rejected requests, measured on Envoy 1.40) is
in gateway/README.md.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gateway import hardening
from gateway.certs import TlsFiles
from gateway.hardening import DEFAULT_LIMITS as DEFAULT_LIMITS
from gateway.hardening import JsonObject as JsonObject
from gateway.hardening import Limits as Limits
from gateway.hardening import duration as duration

API_CLUSTER = "api"
REST_LISTENER = "rest"
REST_PREFIX = "/v3/"
# The xDS files in the directory Envoy watches (gateway/xds_files.py writes them).
LDS_FILE = "lds.yaml"
CDS_FILE = "cds.yaml"
# gRPC services reachable from outside, natively and as REST. The spawner and health services
# are internal: no route leads to them.
PUBLIC_SERVICES: tuple[str, ...] = (
    "pods.v1.PodsService",
    "pods.v1.TemplatesService",
    "pods.v1.VolumesService",
    "pods.v1.SnapshotsService",
    "pods.v1.IdentityService",
)

_T = "type.googleapis.com/"
HCM_TYPE = _T + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
TRANSCODER_TYPE = _T + "envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder"
ROUTER_TYPE = _T + "envoy.extensions.filters.http.router.v3.Router"
TLS_INSPECTOR_TYPE = _T + "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"
DOWNSTREAM_TLS_TYPE = _T + "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
HTTP_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
HTTP_OPTIONS_TYPE = _T + HTTP_OPTIONS_KEY

HTTP_ALPN: tuple[str, ...] = ("h2", "http/1.1")

# HTTP status of Envoy's own replies -> the gRPC code put in their JSON body, so that they
# read like the transcoder's errors. (Envoy's built-in HTTP-to-gRPC mapping would say INTERNAL
# for 400 and UNIMPLEMENTED for 404, which misleads.)
LOCAL_REPLY_CODES: tuple[tuple[int, int], ...] = (
    (400, 3),  # INVALID_ARGUMENT: malformed JSON, wrong field type, unknown query parameter
    (404, 5),  # NOT_FOUND: no such path or method
    (413, 8),  # RESOURCE_EXHAUSTED: body too large
    (429, 8),
    (431, 8),
    (500, 13),  # INTERNAL
    (502, 14),  # UNAVAILABLE: the API is down or reset the call
    (503, 14),
    (504, 4),  # DEADLINE_EXCEEDED: the route timeout fired
)
UNKNOWN_CODE = 2

# The transcoder buffers whole bodies; Envoy's default limit (1 MiB) would fail pod logs
# (PODS_LOG_LIMIT_BYTES is 10 MiB before JSON escaping) with a 500.
MAX_REQUEST_BODY_BYTES = 4 * 1024 * 1024
MAX_RESPONSE_BODY_BYTES = 64 * 1024 * 1024
BODY_ERROR_PREFIX = "Invalid request body: "

# The longest call: ExecPod runs commands for up to MAX_TOTAL_TIMEOUT (an hour, in
# services/api/domain/execution.py; a unit test keeps the two in step), plus a minute.
LONG_CALL_TIMEOUT = 3600.0 + 60.0
EXEC_REST_REGEX = r"^/v3/pods/[^/]+/exec/?$"
EXEC_GRPC_PATH = "/pods.v1.PodsService/ExecPod"
# Downloads stream files of any size: they may run up to LONG_CALL_TIMEOUT as long as bytes
# keep moving (the idle timeout is the REST timeout).
DOWNLOAD_REST_REGEX = r"^/v3/pods/(volumes|snapshots)/[^/]+/contents/.*$"
DOWNLOAD_GRPC_PATHS = (
    "/pods.v1.VolumesService/GetVolumeContents",
    "/pods.v1.SnapshotsService/GetSnapshotContents",
)


def socket_address(address: str, port: int) -> JsonObject:
    """An Envoy Address for a TCP host and port."""
    if not 0 < port <= 65535:
        raise ValueError(f"port out of range: {port}")
    return {"socket_address": {"address": address, "port_value": port}}


def admin(port: int, address: str = "127.0.0.1") -> JsonObject:
    """The admin interface (stats, /ready); it can change Envoy's state, so keep it local.
    It does not count towards the global connection limit (said explicitly; Envoy 1.40
    already leaves it out), so probes and operators reach it when clients used the limit up."""
    return {"address": socket_address(address, port), "ignore_global_conn_limit": True}


def _is_ip(host: str) -> bool:
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
        "type": "STATIC" if _is_ip(host) else "STRICT_DNS",
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


def transcoder_filter(
    descriptor_path: Path | str,
    services: Sequence[str] = PUBLIC_SERVICES,
    *,
    reject_unknown_query_parameters: bool = True,
    max_request_body_bytes: int = MAX_REQUEST_BODY_BYTES,
    max_response_body_bytes: int = MAX_RESPONSE_BODY_BYTES,
) -> JsonObject:
    """The gRPC-JSON transcoder: REST (the protos' google.api.http bindings) to gRPC.

    JSON keeps proto field names (snake_case, as Tapis clients expect) and prints zero values;
    gRPC errors become an HTTP status and a JSON `{code, message, details}` body. A request
    matching no binding is rejected with 404 instead of being forwarded untranscoded, and so
    is (with 400) one with a query parameter that names no field; left alone, Envoy forwards
    such a request untranscoded and the client gets a confusing 503. Native gRPC requests
    pass through untouched. Routing uses the incoming REST path, so REST calls take the
    `rest` route (and its timeout) rather than the route of the gRPC path they become.
    """
    return {
        "name": "envoy.filters.http.grpc_json_transcoder",
        "typed_config": {
            "@type": TRANSCODER_TYPE,
            "proto_descriptor": str(descriptor_path),
            "services": list(services),
            "print_options": {
                "add_whitespace": False,
                "always_print_primitive_fields": True,
                "always_print_enums_as_ints": False,
                "preserve_proto_field_names": True,
            },
            "convert_grpc_status": True,
            "match_incoming_request_route": True,
            "max_request_body_size": max_request_body_bytes,
            "max_response_body_size": max_response_body_bytes,
            "request_validation_options": {
                "reject_unknown_method": True,
                "reject_unknown_query_parameters": reject_unknown_query_parameters,
            },
        },
    }


def router_filter() -> JsonObject:
    """The terminal HTTP filter that forwards to the route's cluster."""
    return {"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER_TYPE}}


def stdout_access_log() -> JsonObject:
    """One JSON line per request on Envoy's stdout, without tokens or query strings."""
    return hardening.json_access_log()


def _status_is(status: int) -> JsonObject:
    return {
        "status_code_filter": {
            "comparison": {
                "op": "EQ",
                "value": {"default_value": status, "runtime_key": f"gateway.local_reply.{status}"},
            }
        }
    }


def _was_transcoded() -> JsonObject:
    # The transcoder records the original path when it rewrites a REST request to gRPC.
    return {"header_filter": {"header": {"name": "x-envoy-original-path", "present_match": True}}}


def _not_native_grpc() -> JsonObject:
    """Matches REST requests, before or after transcoding, and not native gRPC ones.

    The transcoder rewrites a REST request's content-type to application/grpc, so a request
    counts as REST when its content-type is not gRPC (or absent, as for a GET) or when it was
    transcoded.
    """
    return {
        "or_filter": {
            "filters": [
                {
                    "header_filter": {
                        "header": {
                            "name": "content-type",
                            "string_match": {"prefix": "application/grpc"},
                            "invert_match": True,
                            "treat_missing_header_as_empty": True,
                        }
                    }
                },
                _was_transcoded(),
            ]
        }
    }


def json_error_body(code: int, prefix: str = "") -> JsonObject:
    """A local reply body shaped like the transcoder's errors: {code, message, details}."""
    return {
        "json_format": {"code": code, "message": f"{prefix}%LOCAL_REPLY_BODY%", "details": []},
        "content_type": "application/json",
    }


def local_reply_config() -> JsonObject:
    """Turns Envoy's own replies to REST requests into JSON errors with a `message`.

    Envoy answers some requests itself (unknown path, malformed JSON, wrong field type, API
    unreachable), by default with a text/plain body. Tapis clients read `message` from a JSON
    body, so REST requests get `{"code", "message", "details"}` as application/json, the same
    shape as a transcoded gRPC error. The first matching mapper wins. Native gRPC requests keep
    Envoy's gRPC replies (grpc-status and grpc-message).
    """
    body_error: JsonObject = {
        # The transcoder could not turn the body into the request message. It has rewritten
        # the request by then, which tells these 400s apart from those about the path or query.
        "filter": {"and_filter": {"filters": [_status_is(400), _was_transcoded()]}},
        "body_format_override": json_error_body(3, BODY_ERROR_PREFIX),
    }
    by_status: list[JsonObject] = [
        {
            "filter": {"and_filter": {"filters": [_status_is(status), _not_native_grpc()]}},
            "body_format_override": json_error_body(code),
        }
        for status, code in LOCAL_REPLY_CODES
    ]
    other: JsonObject = {
        "filter": _not_native_grpc(),
        "body_format_override": json_error_body(UNKNOWN_CODE),
    }
    return {"mappers": [body_error, *by_status, other]}


def not_found_route(services: Sequence[str] = PUBLIC_SERVICES) -> JsonObject:
    """The catch-all: anything not routed explicitly is answered 404 by Envoy itself.

    REST requests rarely get here (the transcoder rejects unknown paths first); native gRPC
    calls to other services do, and see UNIMPLEMENTED with this text.
    """
    text = "No such service here; public services: " + ", ".join(services)
    return {
        "name": "not-found",
        "match": {"prefix": "/"},
        "direct_response": {"status": 404, "body": {"inline_string": text}},
    }


def api_routes(
    *,
    cluster: str = API_CLUSTER,
    services: Sequence[str] = PUBLIC_SERVICES,
    rest_prefix: str = REST_PREFIX,
    rest_timeout: float = 60.0,
    long_timeout: float = LONG_CALL_TIMEOUT,
) -> list[JsonObject]:
    """Routes to the API: REST under `rest_prefix`, and native gRPC of `services`.

    Every route has a timeout. Calls get `rest_timeout` (from the end of the request to the
    end of the response); native gRPC calls get their own deadline (grpc-timeout) instead,
    up to `long_timeout`. Exec (REST and gRPC) runs commands for up to an hour, so it gets
    `long_timeout` both as its timeout and as its idle timeout (it sends nothing meanwhile).
    Downloads (REST and gRPC) stream files of any size: `long_timeout` in all, but cut after
    `rest_timeout` without a byte moving.
    """
    long_route: JsonObject = {
        "cluster": cluster,
        "timeout": duration(long_timeout),
        "idle_timeout": duration(long_timeout),
    }

    def grpc_limit(default: float) -> JsonObject:
        # With max_stream_duration Envoy ignores `timeout` for gRPC: the stream's limit is the
        # client's grpc-timeout (up to long_timeout), else `default`.
        return {
            "max_stream_duration": duration(default),
            "grpc_timeout_header_max": duration(long_timeout),
        }

    download_route: JsonObject = {
        "cluster": cluster,
        "timeout": duration(long_timeout),
        "idle_timeout": duration(rest_timeout),
    }
    routes: list[JsonObject] = [
        {
            "name": "rest-exec",
            "match": {"safe_regex": {"regex": EXEC_REST_REGEX}},
            "route": long_route,
        },
        {
            "name": "rest-download",
            "match": {"safe_regex": {"regex": DOWNLOAD_REST_REGEX}},
            "route": download_route,
        },
        {
            "name": "rest",
            "match": {"prefix": rest_prefix},
            "route": {"cluster": cluster, "timeout": duration(rest_timeout)},
        },
    ]
    if EXEC_GRPC_PATH.split("/")[1] in services:
        routes.append(
            {
                "name": "grpc-exec",
                "match": {"path": EXEC_GRPC_PATH, "grpc": {}},
                "route": {**long_route, "max_stream_duration": grpc_limit(long_timeout)},
            }
        )
    routes.extend(
        {
            "name": f"grpc-download:{path.rpartition('/')[2]}",
            "match": {"path": path, "grpc": {}},
            "route": {**download_route, "max_stream_duration": grpc_limit(long_timeout)},
        }
        for path in DOWNLOAD_GRPC_PATHS
        if path.split("/")[1] in services
    )
    routes.extend(
        {
            "name": f"grpc:{service}",
            "match": {"prefix": f"/{service}/", "grpc": {}},
            "route": {
                "cluster": cluster,
                "timeout": duration(rest_timeout),
                "max_stream_duration": grpc_limit(rest_timeout),
            },
        }
        for service in services
    )
    return routes


def route_config(
    name: str, routes: Sequence[JsonObject], services: Sequence[str] = PUBLIC_SERVICES
) -> JsonObject:
    """A route table with one virtual host for every domain, ending in the 404 catch-all."""
    return {
        "name": name,
        "virtual_hosts": [
            {"name": name, "domains": ["*"], "routes": [*routes, not_found_route(services)]}
        ],
    }


def http_connection_manager(
    stat_prefix: str,
    routes: JsonObject,
    http_filters: Sequence[JsonObject],
    limits: Limits = DEFAULT_LIMITS,
) -> JsonObject:
    """An HTTP connection manager network filter (the router filter is appended).

    The codec is AUTO: HTTP/1.1 (REST from curl or tapipy) and HTTP/2 cleartext (native gRPC)
    share the port. Paths are normalized before routing, so `/v3/../x` cannot reach a route
    that does not name it. Request headers, X-Tapis-Token among them, are forwarded as they
    are and reach the gRPC server as metadata; a header name with an underscore is refused
    (400), and header size, header count, HTTP/2 streams and every timeout are held to
    `limits` (gateway/hardening.py). The client address is the connection's peer: no
    X-Forwarded-For hop is trusted.
    """
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": HCM_TYPE,
            "stat_prefix": stat_prefix,
            "codec_type": "AUTO",
            "use_remote_address": True,
            "xff_num_trusted_hops": 0,
            "normalize_path": True,
            "merge_slashes": True,
            **hardening.connection_manager_limits(limits, reject_underscores=True),
            "access_log": [stdout_access_log()],
            "local_reply_config": local_reply_config(),
            "route_config": routes,
            "http_filters": [*http_filters, router_filter()],
        },
    }


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


def plaintext_refusal(public_url: str, limits: Limits = DEFAULT_LIMITS) -> JsonObject:
    """The connection manager answering plain HTTP on a TLS port: 400 naming the https URL,
    never forwarded. (No redirect: a client that follows one has already sent its token in
    clear text, and should be fixed rather than helped along.)"""
    text = f"This port speaks HTTPS only: use {public_url}"
    reply: JsonObject = {
        "name": "https-only",
        "match": {"prefix": "/"},
        "direct_response": {"status": 400, "body": {"inline_string": text}},
    }
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": HCM_TYPE,
            "stat_prefix": f"{REST_LISTENER}_plaintext",
            "codec_type": "AUTO",
            **hardening.connection_manager_limits(limits, reject_underscores=True),
            "access_log": [stdout_access_log()],
            "local_reply_config": local_reply_config(),
            "route_config": {
                "name": "https-only",
                "virtual_hosts": [{"name": "https-only", "domains": ["*"], "routes": [reply]}],
            },
            "http_filters": [router_filter()],
        },
    }


@dataclass(frozen=True)
class RestTls:
    """TLS on the REST/gRPC port: the certificate for the public host, and the URL plain
    HTTP clients are told to use instead."""

    files: TlsFiles
    public_url: str
    handshake_timeout: float = 5.0


def rest_listener(
    descriptor_path: Path | str,
    port: int,
    *,
    address: str = "127.0.0.1",
    cluster: str = API_CLUSTER,
    services: Sequence[str] = PUBLIC_SERVICES,
    rest_timeout: float = 60.0,
    limits: Limits = DEFAULT_LIMITS,
    tls: RestTls | None = None,
) -> JsonObject:
    """The API listener: REST transcoded to gRPC, and native gRPC, on one port; over TLS
    (h2 or http/1.1 by ALPN) when `tls` is given, plain HTTP then being refused."""
    routes = api_routes(cluster=cluster, services=services, rest_timeout=rest_timeout)
    hcm = http_connection_manager(
        REST_LISTENER,
        route_config(REST_LISTENER, routes, services),
        [transcoder_filter(descriptor_path, services)],
        limits,
    )
    if tls is None:
        return listener(REST_LISTENER, address, port, [hcm])
    return {
        "name": REST_LISTENER,
        "address": socket_address(address, port),
        "listener_filters": [tls_inspector()],
        "listener_filters_timeout": duration(tls.handshake_timeout),
        "filter_chains": [
            {
                "name": "https",
                "filter_chain_match": {"transport_protocol": "tls"},
                "transport_socket": downstream_tls(tls.files, HTTP_ALPN),
                "filters": [hcm],
            },
            {
                "name": "plaintext",
                "filter_chain_match": {"transport_protocol": "raw_buffer"},
                "filters": [plaintext_refusal(tls.public_url, limits)],
            },
        ],
    }


def path_config_source(path: Path) -> JsonObject:
    """A ConfigSource reading xDS resources from a file, reloaded whenever a file is renamed
    into its directory (so writers must replace it atomically, see gateway/xds_files.py)."""
    return {
        "path_config_source": {"path": str(path), "watched_directory": {"path": str(path.parent)}},
        "resource_api_version": "V3",
    }


def dynamic_resources(xds_dir: Path) -> JsonObject:
    """Listeners and clusters from `<xds_dir>/lds.yaml` and `<xds_dir>/cds.yaml`."""
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


def gateway_bootstrap(options: GatewayOptions) -> JsonObject:
    """The gateway's bootstrap: the REST/gRPC listener in front of the `api` cluster, and the
    dynamic resources of `options.xds_dir`."""
    return bootstrap(
        admin_port=options.admin_port,
        listeners=[
            rest_listener(
                options.descriptor_path,
                options.port,
                address=options.bind_address,
                rest_timeout=options.rest_timeout,
                limits=options.limits,
                tls=options.tls,
            )
        ],
        clusters=[
            grpc_cluster(
                API_CLUSTER,
                options.api_host,
                options.api_port,
                connect_timeout=options.connect_timeout,
            )
        ],
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
    port: int = 8080
    pods_port: int = 443
    admin_port: int = 9901
    bind_address: str = "0.0.0.0"  # noqa: S104 - a cluster gateway serves the pod network
    limits: Limits = DEFAULT_LIMITS
    api_tls: RestTls | None = None  # TLS on the REST/gRPC port (PODS_GATEWAY_TLS)


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
        )
    )

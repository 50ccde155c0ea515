"""The REST/gRPC listener of the gateway, as JSON-ready dicts (no I/O): REST transcoded to
gRPC and native gRPC on one port, in front of the `api` cluster, over TLS when configured (plain
HTTP then refused with a 400 naming the https URL).

Called by the bootstrap (gateway/envoy_config.py), gateway/public_tls.py (RestTls) and the
tests. The services it transcodes are listed in gateway/public_api.py (the REST streams get a
transcoder of their own, per route); its routes and Envoy's JSON error replies are
gateway/rest_routes.py; the web console's files, served first, gateway/console_routes.py; the
API description, /docs/, reflection routes and CORS, gateway/api_docs.py; the built-in
identity's login page (answered by the api's login check), gateway/pod_login.py.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway import hardening
from gateway.api_docs import (
    MAX_DIRECT_RESPONSE_BYTES,
    DocsFiles,
    cors_filter,
    cors_policy,
    docs_routes,
    reflection_routes,
)
from gateway.body_checks import body_check_filter, with_body_checks
from gateway.certs import TlsFiles
from gateway.console_routes import MAX_BODY_BYTES, console_routes, passthrough_reply_mapper
from gateway.envoy_parts import (
    HCM_TYPE,
    HTTP_ALPN,
    TYPE_URL,
    downstream_tls,
    listener,
    router_filter,
    socket_address,
    stdout_access_log,
    tls_inspector,
)
from gateway.hardening import DEFAULT_LIMITS, JsonObject, Limits, duration
from gateway.pod_login import authorize_routes, login_filter
from gateway.public_api import PUBLIC_SERVICES, STREAMS_SERVICE
from gateway.rest_routes import (
    API_CLUSTER,
    api_routes,
    local_reply_config,
    route_config,
    sse_routes,
)

REST_LISTENER = "rest"
TRANSCODER_TYPE = (
    TYPE_URL + "envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder"
)

# The transcoder buffers whole bodies; Envoy's default limit (1 MiB) would fail pod logs
# (PODS_LOG_LIMIT_BYTES is 10 MiB before JSON escaping) with a 500.
MAX_REQUEST_BODY_BYTES = 4 * 1024 * 1024
MAX_RESPONSE_BODY_BYTES = 64 * 1024 * 1024


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
            "local_reply_config": _with_console(local_reply_config()),
            "route_config": routes,
            "http_filters": [*http_filters, router_filter()],
        },
    }


def _with_console(config: JsonObject) -> JsonObject:
    # The web console's files are local replies too: they keep their bodies.
    mappers = config["mappers"]
    assert isinstance(mappers, list)
    return {**config, "mappers": [passthrough_reply_mapper(), *mappers]}


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
    docs: DocsFiles | None = None,
    cors_origins: Collection[str] = (),
) -> JsonObject:
    """The API listener: REST transcoded to gRPC (with the SSE streams), and native gRPC (with
    server reflection), on one port; over TLS (h2 or http/1.1 by ALPN) when `tls` is given,
    plain HTTP then being refused. With `docs`, the OpenAPI description and /docs/ are served
    too; with `cors_origins`, browser pages of those origins may call the API
    (gateway/api_docs.py)."""
    routes = api_routes(cluster=cluster, services=services, rest_timeout=rest_timeout)
    if "pods.v1.PodsService" in services:
        streams = transcoder_filter(descriptor_path, [STREAMS_SERVICE])["typed_config"]
        assert isinstance(streams, dict)
        routes = [*sse_routes(streams, cluster=cluster, rest_timeout=rest_timeout), *routes]
    routes = [
        *console_routes(),
        *(docs_routes(docs) if docs is not None else []),
        *reflection_routes(cluster, rest_timeout),
        *authorize_routes(cluster),
        *routes,
    ]
    filters = [
        transcoder_filter(descriptor_path, services),
        login_filter(cluster, disabled=True, with_form=True),  # the authorize page only
    ]
    if "pods.v1.PodsService" in services:  # networking stanzas' unknown fields refused
        routes = with_body_checks(routes)
        filters.insert(0, body_check_filter(cluster))
    if cors_origins:
        filters.insert(0, cors_filter())
    table = route_config(
        REST_LISTENER,
        routes,
        services,
        cors=cors_policy(cors_origins) if cors_origins else None,
        max_direct_response_bytes=MAX_DIRECT_RESPONSE_BYTES if docs is not None else MAX_BODY_BYTES,
    )
    hcm = http_connection_manager(REST_LISTENER, table, filters, limits)
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

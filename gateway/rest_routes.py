"""The routes of the REST/gRPC listener and Envoy's own replies to REST clients, as
JSON-ready dicts (no I/O).

`api_routes` sends REST under /v3/ and native gRPC of the public services to the `api` cluster
with their timeouts (exec, downloads and streams longer, see gateway/public_api.py), and the
REST streams (Server-Sent Events) through their own transcoder (`sse_routes`); `route_config`
ends them in a 404 catch-all; `local_reply_config` turns Envoy's own replies to REST requests
into JSON errors shaped like the transcoder's. Called by gateway/rest_listener.py (and
API_CLUSTER by the bootstrap, gateway/envoy_config.py) and their tests.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.hardening import JsonObject, duration
from gateway.public_api import (
    DOWNLOAD_GRPC_PATHS,
    DOWNLOAD_REST_REGEX,
    EXEC_GRPC_PATHS,
    EXEC_REST_REGEX,
    LONG_CALL_TIMEOUT,
    NOT_POD_REST_REGEX,
    PUBLIC_SERVICES,
    REST_PREFIX,
    SSE_ROUTES,
    STREAM_GRPC_PATHS,
    STREAM_TIMEOUT,
)

API_CLUSTER = "api"

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
BODY_ERROR_PREFIX = "Invalid request body: "


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
    Envoy's gRPC replies (grpc-status and grpc-message), and 200s (served files) their body.
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
    # Files Envoy serves itself (gateway/api_docs.py) are local replies too: left as they are.
    served: JsonObject = {"filter": _status_is(200)}
    return {"mappers": [served, body_error, *by_status, other]}


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
    routes.extend(
        {
            "name": f"grpc-exec:{path.rpartition('/')[2]}",
            "match": {"path": path, "grpc": {}},
            "route": {**long_route, "max_stream_duration": grpc_limit(long_timeout)},
        }
        for path in EXEC_GRPC_PATHS
        if path.split("/")[1] in services
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
            # Quiet for as long as the pod does not change: no idle timeout but the limit.
            "name": f"grpc-stream:{path.rpartition('/')[2]}",
            "match": {"path": path, "grpc": {}},
            "route": {
                "cluster": cluster,
                "timeout": duration(STREAM_TIMEOUT),
                "idle_timeout": duration(STREAM_TIMEOUT),
                "max_stream_duration": {
                    "max_stream_duration": duration(STREAM_TIMEOUT),
                    "grpc_timeout_header_max": duration(STREAM_TIMEOUT),
                },
            },
        }
        for path in STREAM_GRPC_PATHS
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


def sse_routes(
    stream_transcoder: JsonObject,
    *,
    cluster: str = API_CLUSTER,
    rest_timeout: float = 60.0,
    stream_timeout: float = STREAM_TIMEOUT,
) -> list[JsonObject]:
    """The REST streams: `GET /v3/pods/{pod_id}/events`, `GET /v3/pods?watch=true` and
    `GET /v3/pods/{pod_id}/logs?follow=true`, each transcoded by `stream_transcoder` (the
    transcoder's per-route config, knowing only PodStreamsService). They stay open up to
    `stream_timeout`; their keep-alive comments (every 15 s) keep them within the idle
    timeout, `rest_timeout`. Requests without the query parameter match other routes, and so
    do the other collections' objects (`/v3/pods/volumes/events` is a volume)."""
    routes: list[JsonObject] = [
        {
            "name": "rest-not-a-pod",
            "match": {"safe_regex": {"regex": NOT_POD_REST_REGEX}},
            "route": {"cluster": cluster, "timeout": duration(rest_timeout)},
        }
    ]
    for name, regex, parameter in SSE_ROUTES:
        match: JsonObject = {"safe_regex": {"regex": regex}, "headers": [_is_get()]}
        if parameter:
            match["query_parameters"] = [{"name": parameter, "string_match": {"exact": "true"}}]
        routes.append(
            {
                "name": name,
                "match": match,
                "route": {
                    "cluster": cluster,
                    "timeout": duration(stream_timeout),
                    "idle_timeout": duration(rest_timeout),
                },
                "typed_per_filter_config": {
                    "envoy.filters.http.grpc_json_transcoder": stream_transcoder
                },
            }
        )
    return routes


def _is_get() -> JsonObject:
    return {"name": ":method", "string_match": {"exact": "GET"}}


def route_config(
    name: str,
    routes: Sequence[JsonObject],
    services: Sequence[str] = PUBLIC_SERVICES,
    *,
    cors: JsonObject | None = None,
    max_direct_response_bytes: int | None = None,
) -> JsonObject:
    """A route table with one virtual host for every domain, ending in the 404 catch-all;
    with `cors`, that CORS policy (gateway/api_docs.py) on the virtual host; with
    `max_direct_response_bytes`, files that large may be served by direct responses."""
    host: JsonObject = {
        "name": name,
        "domains": ["*"],
        "routes": [*routes, not_found_route(services)],
    }
    if cors is not None:
        host["typed_per_filter_config"] = {"envoy.filters.http.cors": cors}
    config: JsonObject = {"name": name, "virtual_hosts": [host]}
    if max_direct_response_bytes is not None:
        config["max_direct_response_body_size_bytes"] = max_direct_response_bytes
    return config

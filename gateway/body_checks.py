"""The REST calls whose raw JSON body the API checks before the transcoder sees it: Envoy's
external processing filter, off by default and switched on for those calls' routes only.

The transcoder drops JSON fields the request message does not define, so an unknown field in
a networking stanza would vanish silently; services/api/transport/body_check.py refuses it
(400 naming the field) when given the raw body. The filter sends only the body (headers
skipped), buffered whole, to the API's cluster; if the API cannot be reached the call fails
(the transcoder would have failed to reach it too). Called by gateway/rest_listener.py:
`body_check_filter` goes before the transcoder, `with_body_checks` adds the checked routes
in front of the generic REST route, with the same destination and timeout.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.envoy_parts import TYPE_URL
from gateway.hardening import JsonObject, duration

EXT_PROC_FILTER = "envoy.filters.http.ext_proc"
REST_ROUTE = "rest"
CHECK_TIMEOUT = 5.0
# (method, exact path or regex): the REST bindings whose body holds networking stanzas.
CHECKED_CALLS: tuple[tuple[str, str, str], ...] = (
    ("create-pod", "POST", "/v3/pods"),
    ("update-pod", "PUT", "^/v3/pods/[^/]+$"),
    ("create-template", "POST", "/v3/pods/templates"),
    ("update-template", "PUT", "^/v3/pods/templates/[^/]+$"),
)


def body_check_filter(cluster: str) -> JsonObject:
    """The external processing filter, disabled unless a route enables it."""
    return {
        "name": EXT_PROC_FILTER,
        "disabled": True,
        "typed_config": {
            "@type": TYPE_URL + "envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
            "grpc_service": {
                "envoy_grpc": {"cluster_name": cluster},
                "timeout": duration(CHECK_TIMEOUT),
            },
            "processing_mode": {
                "request_header_mode": "SKIP",
                "response_header_mode": "SKIP",
                "request_body_mode": "BUFFERED",
                "response_body_mode": "NONE",
                "request_trailer_mode": "SKIP",
                "response_trailer_mode": "SKIP",
            },
            "message_timeout": duration(CHECK_TIMEOUT),
            "failure_mode_allow": False,
            # The api killed while it checks a body (its stream cut): 503, retryable as any
            # call while the api restarts, instead of Envoy's default 500.
            "status_on_error": {"code": 503},
        },
    }


def with_body_checks(routes: Sequence[JsonObject]) -> list[JsonObject]:
    """`routes` with the checked calls' routes before the generic REST route (none added
    when there is no such route)."""
    result: list[JsonObject] = []
    for route in routes:
        if route.get("name") == REST_ROUTE:
            result.extend(checked_routes(route))
        result.append(route)
    return result


def checked_routes(rest_route: JsonObject) -> list[JsonObject]:
    """One route per checked call, going where `rest_route` goes, with the filter on."""
    enabled: JsonObject = {
        EXT_PROC_FILTER: {
            "@type": TYPE_URL + "envoy.config.route.v3.FilterConfig",
            "config": {
                "@type": TYPE_URL + "envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute",
                "overrides": {},
            },
        }
    }
    routes: list[JsonObject] = []
    for name, method, path in CHECKED_CALLS:
        match: JsonObject = (
            {"safe_regex": {"regex": path}} if path.startswith("^") else {"path": path}
        )
        match["headers"] = [{"name": ":method", "string_match": {"exact": method}}]
        routes.append(
            {
                "name": f"rest-checked:{name}",
                "match": match,
                "route": rest_route["route"],
                "typed_per_filter_config": enabled,
            }
        )
    return routes

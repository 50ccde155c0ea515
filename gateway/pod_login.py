"""The login in front of pods with `tapis_auth` (and the built-in identity's login page), as
Envoy configuration: the `ext_authz` HTTP filter asking the api's login check
(services/api/transport/login_servicer.py, Envoy's `envoy.service.auth.v3.Authorization`
gRPC service) about every request, as JSON-ready dicts (no I/O).

- Pods listener (gateway/pods_listener.py): only the connection manager of a serving route
  with `tapis_auth` gets the filter, so every other pod is untouched. Its route names the pod
  to the check in `context_extensions` (set by the gateway, never by the client). The check
  answers with the pod's user headers (allowed), a redirect to the login page, the callback's
  redirect with the session cookie, or 403.
- REST listener (gateway/rest_listener.py): the built-in identity's authorize page
  (`/v3/oauth2/authorize`), whose replies (an HTML form, a redirect back to the pod) are the
  check's too; the filter is off on every other route, and the transcoder is off on this one.
  Its errors are plain text, which the listener's local-reply mappers turn into the API's JSON
  errors like any other.

The check is reached through LOGIN_CLUSTER (HTTP/2 to the api), published with the pods'
clusters while some route needs it. If the check cannot be reached the request is refused
(503), never let through.
"""

from __future__ import annotations

from gateway.console_routes import FILTER_CONFIG_TYPE, TRANSCODER_FILTER
from gateway.envoy_parts import TYPE_URL, grpc_cluster
from gateway.hardening import JsonObject, duration
from gateway.routes import PodRoute

EXT_AUTHZ = "envoy.filters.http.ext_authz"
EXT_AUTHZ_TYPE = TYPE_URL + "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz"
EXT_AUTHZ_ROUTE_TYPE = TYPE_URL + "envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute"
LOGIN_CLUSTER = "pod_login"
CHECK_TIMEOUT = 10.0  # seconds; a callback exchanges a code, which takes a moment
AUTHORIZE_PATH = "/v3/oauth2/authorize"
MAX_FORM_BYTES = 8192  # the login form's body the check sees

# context_extensions["kind"]: what the check is asked about.
KIND_POD = "pod"
KIND_AUTHORIZE = "authorize"


def login_filter(cluster: str, *, disabled: bool = False, with_form: bool = False) -> JsonObject:
    """The ext_authz filter asking `cluster`'s Authorization service; `disabled` leaves it
    off except on routes that configure it; `with_form` sends the request body (a login
    form) along."""
    config: JsonObject = {
        "@type": EXT_AUTHZ_TYPE,
        "grpc_service": {
            "envoy_grpc": {"cluster_name": cluster},
            "timeout": duration(CHECK_TIMEOUT),
        },
        "transport_api_version": "V3",
        "failure_mode_allow": False,
        "status_on_error": {"code": "ServiceUnavailable"},
        "include_peer_certificate": False,
    }
    if with_form:
        config["with_request_body"] = {
            "max_request_bytes": MAX_FORM_BYTES,
            "allow_partial_message": False,
        }
    filter_: JsonObject = {"name": EXT_AUTHZ, "typed_config": config}
    if disabled:
        filter_["disabled"] = True
    return filter_


def pod_login_filters(route: PodRoute) -> list[JsonObject]:
    """The filters before the router in a pod's connection manager: the login check for a
    serving route with tapis_auth, none otherwise."""
    return [login_filter(LOGIN_CLUSTER)] if needs_login(route) else []


def needs_login(route: PodRoute) -> bool:
    return route.tapis_auth and route.serving


def pod_login_route_config(route: PodRoute) -> JsonObject:
    """The per-route settings telling the check which pod and port it guards."""
    if not needs_login(route):
        return {}
    context = {
        "kind": KIND_POD,
        "tenant_id": route.tenant_id,
        "pod_id": route.pod_id,
        "stanza": route.stanza,
        "host": route.host,
    }
    return {EXT_AUTHZ: _per_route(context)}


def login_cluster(host: str, port: int, *, connect_timeout: float = 2.0) -> JsonObject:
    """The cluster of the api's login check (gRPC, HTTP/2)."""
    return grpc_cluster(LOGIN_CLUSTER, host, port, connect_timeout=connect_timeout)


def authorize_routes(cluster: str) -> list[JsonObject]:
    """The REST listener's route of the identity's authorize page: GET shows the login form,
    POST (the form) is answered with a redirect to the pod's callback; both by the check,
    which always answers itself (the `direct_response` is never reached)."""
    return [
        {
            "name": "oauth2-authorize",
            "match": {"path": AUTHORIZE_PATH},
            "direct_response": {"status": 404},
            "typed_per_filter_config": {
                TRANSCODER_FILTER: {"@type": FILTER_CONFIG_TYPE, "disabled": True},
                EXT_AUTHZ: _per_route({"kind": KIND_AUTHORIZE}),
            },
        }
    ]


def _per_route(context: dict[str, str]) -> JsonObject:
    return {"@type": EXT_AUTHZ_ROUTE_TYPE, "check_settings": {"context_extensions": context}}

"""The web console's routes: Envoy serves the static files of gateway/console/ itself, as
JSON-ready dicts (reads the files; no other I/O).

`console_routes` turns each file into a `direct_response` route under `/console/` (the body
inlined when the bootstrap is built, so Envoy needs no file of ours at run time) with its
Content-Type, a strict Content-Security-Policy (scripts and styles from this origin only, no
inline script, no framing) and `Cache-Control: no-cache` (browsers revalidate, so a new
gateway is seen at once). `/console` redirects to `/console/`. The console's own API calls go
to `/v3/...` on the same origin. The transcoder is disabled on these routes (it would answer
404 for a path no gRPC method binds), and `passthrough_reply_mapper` keeps Envoy's JSON error
rewriting (gateway/rest_routes.py) away from these replies. Called by gateway/rest_listener.py
and the tests.
"""

from __future__ import annotations

from pathlib import Path

from gateway.envoy_parts import TYPE_URL
from gateway.hardening import JsonObject

CONSOLE_DIR = Path(__file__).parent / "console"
CONSOLE_PREFIX = "/console"
TRANSCODER_FILTER = "envoy.filters.http.grpc_json_transcoder"
FILTER_CONFIG_TYPE = TYPE_URL + "envoy.config.route.v3.FilterConfig"

# The files served, and their Content-Type. index.html is also `/console/`.
CONTENT_TYPES: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "views.js": "text/javascript; charset=utf-8",
    "pods.js": "text/javascript; charset=utf-8",
    "volumes.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

# Envoy refuses direct_response bodies over 4 KiB unless the route table raises its limit.
MAX_BODY_BYTES = 1024 * 1024


def _header(key: str, value: str) -> JsonObject:
    return {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}


def security_headers(content_type: str) -> list[JsonObject]:
    """The response headers of every console file."""
    return [
        _header("content-type", content_type),
        _header("cache-control", "no-cache"),
        _header("content-security-policy", CONTENT_SECURITY_POLICY),
        _header("x-content-type-options", "nosniff"),
        _header("referrer-policy", "no-referrer"),
        _header("x-frame-options", "DENY"),
    ]


def _no_transcoder() -> JsonObject:
    return {TRANSCODER_FILTER: {"@type": FILTER_CONFIG_TYPE, "disabled": True}}


def _file_route(path: str, name: str, body: str) -> JsonObject:
    return {
        "name": f"console:{name}",
        "match": {"path": path},
        "direct_response": {"status": 200, "body": {"inline_string": body}},
        "response_headers_to_add": security_headers(CONTENT_TYPES[name]),
        "typed_per_filter_config": _no_transcoder(),
    }


def console_routes(directory: Path = CONSOLE_DIR) -> list[JsonObject]:
    """The console's routes: `/console` → `/console/`, and one route per file."""
    routes: list[JsonObject] = [
        {
            "name": "console-redirect",
            "match": {"path": CONSOLE_PREFIX},
            "redirect": {"path_redirect": f"{CONSOLE_PREFIX}/"},
            "typed_per_filter_config": _no_transcoder(),
        }
    ]
    for name in CONTENT_TYPES:
        body = (directory / name).read_text(encoding="utf-8")
        if len(body.encode()) > MAX_BODY_BYTES:
            raise ValueError(f"console file {name} is over {MAX_BODY_BYTES} bytes")
        routes.append(_file_route(f"{CONSOLE_PREFIX}/{name}", name, body))
        if name == "index.html":
            routes.append(_file_route(f"{CONSOLE_PREFIX}/", name, body))
    return routes


def passthrough_reply_mapper() -> JsonObject:
    """A local-reply mapper, to go first, that leaves the console's replies as they are (the
    others would turn their bodies into JSON errors)."""
    return {
        "filter": {
            "header_filter": {
                "header": {"name": ":path", "string_match": {"prefix": CONSOLE_PREFIX}}
            }
        }
    }

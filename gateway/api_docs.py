"""What the REST/gRPC listener offers besides the API itself, as JSON-ready dicts: the API's
OpenAPI description (GET /v3/pods/openapi.json) and its rendered reference (/docs/, Redoc),
served by Envoy from files; routes for gRPC server reflection; and CORS for browser consoles.

Called by gateway/rest_listener.py (routes, filters) and gateway/__main__.py (`prepare_docs`
writes the files into the gateway's directory). The description is generated from the protos
by gateway/openapi.py into protos/openapi/pods-v1.json; Redoc's standalone bundle comes from
npm (`redoc` in scripts/tools/package.json, installed by scripts/setup into .build/tools).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gateway.envoy_parts import TYPE_URL
from gateway.hardening import JsonObject, duration
from services.common.protoc import PROTO_ROOT

OPENAPI_PATH = "/v3/pods/openapi.json"
DOCS_PATH = "/docs/"
REDOC_PATH = "/docs/redoc.standalone.js"
OPENAPI_SOURCE = PROTO_ROOT / "openapi" / "pods-v1.json"
REDOC_SOURCE = (
    PROTO_ROOT.parent / ".build" / "tools" / "node_modules" / "redoc" / "bundles"
) / "redoc.standalone.js"
# Envoy refuses direct-response files over this size (its default is 4 KiB); Redoc is ~1 MiB.
MAX_DIRECT_RESPONSE_BYTES = 8 * 1024 * 1024
# The gRPC reflection services (grpcio-reflection), v1 and the older v1alpha grpcurl may use.
REFLECTION_SERVICES: tuple[str, ...] = (
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
)
TRANSCODER_FILTER = "envoy.filters.http.grpc_json_transcoder"
CORS_FILTER = "envoy.filters.http.cors"
CORS_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
# What a browser console sends: the token, JSON bodies, and the SSE resume cursor.
CORS_ALLOW_HEADERS = "x-tapis-token, content-type, last-event-id"
# What it may read beyond the CORS-safelisted headers: downloads' names and sizes, the
# wait a 429 asks for, and the gRPC status the transcoder passes on.
CORS_EXPOSE_HEADERS = "content-disposition, content-length, retry-after, grpc-status, grpc-message"
CORS_MAX_AGE_SECONDS = 600

DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Pods service API</title>
  </head>
  <body>
    <redoc spec-url="{openapi}"></redoc>
    <script src="{redoc}"></script>
  </body>
</html>
"""
NO_REDOC_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head><meta charset="utf-8"><title>Pods service API</title></head>
  <body>
    <p>The rendered reference needs Redoc, which scripts/setup installs (npm).
    The description itself: <a href="{openapi}">{openapi}</a>.</p>
  </body>
</html>
"""


@dataclass(frozen=True)
class DocsFiles:
    """The files Envoy serves: the OpenAPI document, the /docs/ page and Redoc's bundle (None
    when npm's redoc is not installed: the page then says so)."""

    openapi: Path
    page: Path
    redoc: Path | None


def prepare_docs(
    directory: Path, openapi: Path = OPENAPI_SOURCE, redoc: Path = REDOC_SOURCE
) -> DocsFiles:
    """Copies the description and Redoc into `directory` and writes the /docs/ page."""
    directory.mkdir(parents=True, exist_ok=True)
    served = directory / "openapi.json"
    shutil.copyfile(openapi, served)
    bundle: Path | None = None
    if redoc.is_file():
        bundle = directory / "redoc.standalone.js"
        shutil.copyfile(redoc, bundle)
    page = directory / "index.html"
    template = DOCS_PAGE if bundle is not None else NO_REDOC_PAGE
    page.write_text(template.format(openapi=OPENAPI_PATH, redoc=REDOC_PATH))
    for path in (served, page, bundle):
        if path is not None:
            path.chmod(0o644)  # Envoy may run as another user
    return DocsFiles(openapi=served, page=page, redoc=bundle)


def _without_transcoder() -> JsonObject:
    # These paths are no gRPC calls: without this the transcoder would take
    # /v3/pods/openapi.json for GetPod and refuse /docs/ as an unknown method.
    return {
        TRANSCODER_FILTER: {
            "@type": TYPE_URL + "envoy.config.route.v3.FilterConfig",
            "disabled": True,
        }
    }


def _file_route(name: str, path: str, file: Path, content_type: str) -> JsonObject:
    return {
        "name": name,
        "match": {"path": path, "headers": [{"name": ":method", "string_match": {"exact": "GET"}}]},
        "direct_response": {"status": 200, "body": {"filename": str(file)}},
        "response_headers_to_add": [
            {
                "header": {"key": "content-type", "value": content_type},
                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
            },
            {
                "header": {"key": "cache-control", "value": "no-cache"},
                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
            },
        ],
        "typed_per_filter_config": _without_transcoder(),
    }


def docs_routes(files: DocsFiles) -> list[JsonObject]:
    """GET /v3/pods/openapi.json, /docs/ (and /docs, redirected) and Redoc's bundle."""
    routes: list[JsonObject] = [
        _file_route("openapi", OPENAPI_PATH, files.openapi, "application/json"),
        _file_route("docs", DOCS_PATH, files.page, "text/html; charset=utf-8"),
        {
            "name": "docs-slash",
            "match": {"path": DOCS_PATH.rstrip("/")},
            "redirect": {"path_redirect": DOCS_PATH},
            "typed_per_filter_config": _without_transcoder(),
        },
    ]
    if files.redoc is not None:
        routes.append(
            _file_route("redoc", REDOC_PATH, files.redoc, "text/javascript; charset=utf-8")
        )
    return routes


def reflection_routes(cluster: str, timeout: float) -> list[JsonObject]:
    """Native gRPC reflection calls to the API (grpcurl list/describe), bounded by `timeout`."""
    return [
        {
            "name": f"grpc:{service}",
            "match": {"prefix": f"/{service}/", "grpc": {}},
            "route": {
                "cluster": cluster,
                "timeout": duration(timeout),
                "max_stream_duration": {"max_stream_duration": duration(timeout)},
            },
        }
        for service in REFLECTION_SERVICES
    ]


def cors_filter() -> JsonObject:
    """Envoy's CORS filter; it acts where a route or virtual host has a CORS policy."""
    return {
        "name": CORS_FILTER,
        "typed_config": {"@type": TYPE_URL + "envoy.extensions.filters.http.cors.v3.Cors"},
    }


def cors_policy(origins: Iterable[str]) -> JsonObject:
    """The policy for `origins` (exact matches): Envoy answers their preflight requests and
    adds the CORS headers to their responses; other origins get neither."""
    return {
        "@type": TYPE_URL + "envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": [{"exact": origin} for origin in sorted(origins)],
        "allow_methods": CORS_METHODS,
        "allow_headers": CORS_ALLOW_HEADERS,
        "expose_headers": CORS_EXPOSE_HEADERS,
        "max_age": str(CORS_MAX_AGE_SECONDS),
        "allow_credentials": False,
    }

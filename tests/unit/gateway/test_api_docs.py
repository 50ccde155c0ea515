"""Unit tests of what the REST listener serves besides the API (gateway/api_docs.py): the
description and /docs/ from files, reflection routes, and CORS only when origins are set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway import api_docs, rest_listener
from gateway.api_docs import DocsFiles, prepare_docs
from gateway.console_routes import MAX_BODY_BYTES

DESCRIPTOR = Path("/data/gateway/pods.pb")


def _hcm(listener: dict[str, Any]) -> dict[str, Any]:
    (chain,) = listener["filter_chains"]
    (hcm,) = chain["filters"]
    result: dict[str, Any] = hcm["typed_config"]
    return result


def _listener(**kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        json.dumps(rest_listener.rest_listener(DESCRIPTOR, 8080, **kwargs))
    )
    return result


def _docs(tmp_path: Path) -> DocsFiles:
    openapi = tmp_path / "src.json"
    openapi.write_text('{"openapi": "3.1.0"}\n')
    redoc = tmp_path / "redoc.standalone.js"
    redoc.write_text("/* redoc */\n")
    return prepare_docs(tmp_path / "docs", openapi=openapi, redoc=redoc)


def test_prepare_docs_copies_the_description_and_redoc(tmp_path: Path) -> None:
    files = _docs(tmp_path)
    assert files.openapi.read_text() == '{"openapi": "3.1.0"}\n'
    assert files.redoc is not None
    assert files.redoc.read_text() == "/* redoc */\n"
    page = files.page.read_text()
    assert 'spec-url="/v3/pods/openapi.json"' in page
    assert 'src="/docs/redoc.standalone.js"' in page


def test_without_redoc_the_page_says_how_to_get_it(tmp_path: Path) -> None:
    openapi = tmp_path / "src.json"
    openapi.write_text("{}")
    files = prepare_docs(tmp_path / "docs", openapi=openapi, redoc=tmp_path / "missing.js")
    assert files.redoc is None
    assert "scripts/setup" in files.page.read_text()


def test_docs_routes_come_first_and_bypass_the_transcoder(tmp_path: Path) -> None:
    files = _docs(tmp_path)
    hcm = _hcm(_listener(docs=files))
    (host,) = hcm["route_config"]["virtual_hosts"]
    routes = {route["name"]: route for route in host["routes"]}
    served = [route["name"] for route in host["routes"] if "direct_response" in route]
    assert [name for name in served if not name.startswith("console")][:3] == [
        "openapi",
        "docs",
        "redoc",
    ]
    openapi = routes["openapi"]
    assert openapi["match"]["path"] == "/v3/pods/openapi.json"
    assert openapi["direct_response"] == {"status": 200, "body": {"filename": str(files.openapi)}}
    assert openapi["response_headers_to_add"][0]["header"] == {
        "key": "content-type",
        "value": "application/json",
    }
    for name in ("openapi", "docs", "redoc", "docs-slash"):
        config = routes[name]["typed_per_filter_config"][api_docs.TRANSCODER_FILTER]
        assert config["disabled"] is True
    # Before the REST route, which would hand /v3/pods/openapi.json to GetPod.
    names = [route["name"] for route in host["routes"]]
    assert names.index("openapi") < names.index("rest")
    size = hcm["route_config"]["max_direct_response_body_size_bytes"]
    assert size == api_docs.MAX_DIRECT_RESPONSE_BYTES


def test_no_docs_routes_without_files() -> None:
    hcm = _hcm(_listener())
    (host,) = hcm["route_config"]["virtual_hosts"]
    assert not {"openapi", "docs"} & {route["name"] for route in host["routes"]}
    # (The web console's files still need their size, gateway/console_routes.py.)
    assert hcm["route_config"]["max_direct_response_body_size_bytes"] == MAX_BODY_BYTES


def test_reflection_reaches_the_api() -> None:
    (host,) = _hcm(_listener())["route_config"]["virtual_hosts"]
    routes = {route["name"]: route for route in host["routes"]}
    for service in api_docs.REFLECTION_SERVICES:
        route = routes[f"grpc:{service}"]
        assert route["match"] == {"prefix": f"/{service}/", "grpc": {}}
        assert route["route"]["cluster"] == "api"


def test_cors_is_off_by_default() -> None:
    hcm = _hcm(_listener())
    assert api_docs.CORS_FILTER not in [f["name"] for f in hcm["http_filters"]]
    (host,) = hcm["route_config"]["virtual_hosts"]
    assert "typed_per_filter_config" not in host


def test_cors_for_the_configured_origins() -> None:
    origins = frozenset({"https://b.example.org", "https://a.example.org"})
    hcm = _hcm(_listener(cors_origins=origins))
    names = [f["name"] for f in hcm["http_filters"]]
    # Before the transcoder, so preflight requests are answered before it refuses OPTIONS.
    # (The body check, gateway/body_checks.py, sits between them.)
    assert names[:3] == [
        api_docs.CORS_FILTER,
        "envoy.filters.http.ext_proc",
        "envoy.filters.http.grpc_json_transcoder",
    ]
    (host,) = hcm["route_config"]["virtual_hosts"]
    policy = host["typed_per_filter_config"][api_docs.CORS_FILTER]
    assert policy["allow_origin_string_match"] == [
        {"exact": "https://a.example.org"},
        {"exact": "https://b.example.org"},
    ]
    assert "x-tapis-token" in policy["allow_headers"]
    assert "DELETE" in policy["allow_methods"]
    assert "content-disposition" in policy["expose_headers"]

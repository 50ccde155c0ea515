"""Unit tests of the web console's routes (gateway/console_routes.py) and their place in the
REST listener (gateway/rest_listener.py): every file is served with its type, a strict CSP and
cache headers, the transcoder is off on them, and Envoy's JSON error rewriting leaves them be."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gateway import console_routes as cr
from gateway.rest_listener import rest_listener

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


def _plain(value: object) -> Any:
    return json.loads(json.dumps(value))


def _routes() -> dict[str, dict[str, Any]]:
    return {route["match"]["path"]: route for route in _plain(cr.console_routes())}


def _headers(route: dict[str, Any]) -> dict[str, str]:
    return {h["header"]["key"]: h["header"]["value"] for h in route["response_headers_to_add"]}


def test_every_file_of_the_console_folder_is_served() -> None:
    on_disk = {p.name for p in cr.CONSOLE_DIR.iterdir() if p.is_file()}
    assert on_disk == set(cr.CONTENT_TYPES)
    paths = set(_routes())
    assert {f"/console/{name}" for name in on_disk} <= paths
    assert "/console/" in paths


def test_files_are_inlined_with_type_csp_and_cache_headers() -> None:
    for path, route in _routes().items():
        if path == "/console":
            continue
        name = path.rpartition("/")[2] or "index.html"
        assert route["direct_response"] == {
            "status": 200,
            "body": {"inline_string": (cr.CONSOLE_DIR / name).read_text()},
        }
        headers = _headers(route)
        assert headers["content-type"] == cr.CONTENT_TYPES[name]
        assert headers["cache-control"] == "no-cache"
        assert headers["x-content-type-options"] == "nosniff"
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe" not in csp
        assert "frame-ancestors 'none'" in csp


def test_transcoder_is_disabled_on_console_routes() -> None:
    for route in _plain(cr.console_routes()):
        config = route["typed_per_filter_config"][cr.TRANSCODER_FILTER]
        assert config == {"@type": cr.FILTER_CONFIG_TYPE, "disabled": True}


def test_bare_console_path_redirects() -> None:
    assert _routes()["/console"]["redirect"] == {"path_redirect": "/console/"}


def test_index_has_no_inline_script_and_loads_only_served_files() -> None:
    html = (cr.CONSOLE_DIR / "index.html").read_text()
    scripts = SCRIPT.findall(html)
    assert scripts
    for attributes, body in scripts:
        assert 'src="' in attributes
        assert body.strip() == ""
    assert " style=" not in html
    referenced = set(re.findall(r'(?:src|href)="(?!data:)([^"#]+)"', html))
    assert referenced <= set(cr.CONTENT_TYPES)


def test_modules_import_only_served_files() -> None:
    for name in cr.CONTENT_TYPES:
        if name.endswith(".js"):
            text = (cr.CONSOLE_DIR / name).read_text()
            for target in re.findall(r'from "\./([^"]+)"', text):
                assert target in cr.CONTENT_TYPES, (name, target)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    for name in cr.CONTENT_TYPES:
        (tmp_path / name).write_text("x")
    (tmp_path / "app.js").write_text("x" * (cr.MAX_BODY_BYTES + 1))
    try:
        cr.console_routes(tmp_path)
    except ValueError as error:
        assert "app.js" in str(error)
    else:
        raise AssertionError("no error")


def test_rest_listener_serves_the_console_before_the_api() -> None:
    listener = json.loads(json.dumps(rest_listener("/x/pods.pb", 8080)))
    (chain,) = listener["filter_chains"]
    (hcm,) = chain["filters"]
    config = hcm["typed_config"]
    table = config["route_config"]
    assert table["max_direct_response_body_size_bytes"] == cr.MAX_BODY_BYTES
    (vhost,) = table["virtual_hosts"]
    names = [route["name"] for route in vhost["routes"]]
    assert names[0] == "console-redirect"
    assert names.index("console:index.html") < names.index("rest")
    first = config["local_reply_config"]["mappers"][0]
    assert first == cr.passthrough_reply_mapper()
    assert "body_format_override" not in first

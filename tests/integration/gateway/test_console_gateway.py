"""Real Envoy serving the web console (gateway/console_routes.py): the files come back whole
with their Content-Type, CSP and cache headers (not rewritten into JSON errors, not refused by
the transcoder), `/console` redirects, and the API's JSON errors are unchanged around them."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from gateway.console_routes import CONSOLE_DIR, CONTENT_TYPES
from tests.integration.gateway.test_envoy_gateway import Gateway, http, running_gateway
from tests.ports import reserve_ports


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    (api_port,) = reserve_ports(1)  # nothing listens: the console needs no API
    with running_gateway(tmp_path_factory.mktemp("console-gw"), api_port) as gw:
        yield gw


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return response.status, dict(response.headers.items()), response.read()


@pytest.mark.parametrize("name", sorted(CONTENT_TYPES))
def test_each_file_is_served_whole_with_its_headers(gateway: Gateway, name: str) -> None:
    status, headers, body = _get(f"{gateway.url}/console/{name}")
    assert status == 200
    assert body == (CONSOLE_DIR / name).read_bytes()
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["content-type"] == CONTENT_TYPES[name]
    assert lower["cache-control"] == "no-cache"
    assert "script-src 'self'" in lower["content-security-policy"]
    assert lower["x-content-type-options"] == "nosniff"


def test_console_root_is_the_index_and_bare_path_redirects(gateway: Gateway) -> None:
    status, _, body = _get(f"{gateway.url}/console/?x=1")
    assert status == 200
    assert body == (CONSOLE_DIR / "index.html").read_bytes()
    status, _, body = _get(f"{gateway.url}/console")  # urllib follows the redirect
    assert status == 200
    assert body == (CONSOLE_DIR / "index.html").read_bytes()


def test_unknown_console_file_is_404(gateway: Gateway) -> None:
    reply = http("GET", f"{gateway.url}/console/nope.js")
    assert reply.status == 404


def test_api_errors_are_still_json(gateway: Gateway) -> None:
    reply = http("GET", f"{gateway.url}/v3/nope")
    assert reply.status == 404
    assert reply.content_type == "application/json"
    assert "message" in json.loads(reply.body)
    reply = http("GET", f"{gateway.url}/v3/sites")  # no API behind it
    assert reply.status == 503
    assert reply.content_type == "application/json"

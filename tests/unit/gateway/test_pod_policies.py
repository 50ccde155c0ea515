"""A pod port's ip_allow_list and CORS fields become Envoy's RBAC and CORS configuration on
that port's filter chain only (gateway/pod_policies.py through gateway/pods_listener.py);
classic PostgreSQL clients cannot be checked by address, so the STARTTLS router refuses them
for an allow-listed port (gateway/sni_gate.py). Envoy itself checks the output in
tests/integration/gateway/test_pods_gateway_files.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from google.protobuf import json_format

from gateway import pod_policies
from gateway import pods_listener as pl
from gateway.routes import PodRoute
from gateway.sni_gate import Refusal, decide
from services.common.stanza_options import StanzaOptions
from tests.unit.gateway.pods_support import OPTIONS, plain, route, table

ALLOW = StanzaOptions(ip_allow_list=("10.0.0.0/8", "192.168.1.7", "2001:db8::/32"))
CORS = StanzaOptions(
    cors_allow_origins=("https://app.example.org", "*"),
    cors_allow_methods=("GET", "POST"),
    cors_allow_headers=("Content-Type", "X-Tapis-Token"),
    cors_allow_credentials=True,
    cors_max_age=60,
)


def with_options(r: PodRoute, options: StanzaOptions) -> PodRoute:
    return replace(r, options=options)


def chain_of(r: PodRoute) -> dict[str, Any]:
    chain = pl.pod_chain(r, OPTIONS)
    assert chain is not None
    result: dict[str, Any] = plain(chain)
    return result


def hcm_of(chain: dict[str, Any]) -> dict[str, Any]:
    (hcm,) = chain["filters"]
    config: dict[str, Any] = hcm["typed_config"]
    return config


EXPECTED_RULES = {
    "action": "ALLOW",
    "policies": {
        "ip_allow_list": {
            "permissions": [{"any": True}],
            "principals": [
                {"remote_ip": {"address_prefix": "10.0.0.0", "prefix_len": 8}},
                {"remote_ip": {"address_prefix": "192.168.1.7", "prefix_len": 32}},
                {"remote_ip": {"address_prefix": "2001:db8::", "prefix_len": 32}},
            ],
        }
    },
}


def test_a_port_without_options_gets_only_the_router() -> None:
    hcm = hcm_of(chain_of(route("web")))
    assert [f["name"] for f in hcm["http_filters"]] == ["envoy.filters.http.router"]
    assert "typed_per_filter_config" not in hcm["route_config"]["virtual_hosts"][0]


def test_an_http_allow_list_is_an_rbac_filter_before_the_router() -> None:
    hcm = hcm_of(chain_of(with_options(route("web"), ALLOW)))
    names = [f["name"] for f in hcm["http_filters"]]
    assert names == ["envoy.filters.http.rbac", "envoy.filters.http.router"]
    assert hcm["http_filters"][0]["typed_config"]["rules"] == EXPECTED_RULES


def test_host_bits_of_a_range_are_ignored_as_tapis_does() -> None:
    assert pod_policies.cidr_range("10.1.2.3/8") == {"address_prefix": "10.0.0.0", "prefix_len": 8}


@pytest.mark.parametrize("protocol", ["tcp", "postgres"])
def test_a_tcp_or_postgres_allow_list_is_a_network_rbac_filter_before_the_proxy(
    protocol: str,
) -> None:
    chain = chain_of(with_options(route("db", protocol, upstream_port=5432), ALLOW))
    names = [f["name"] for f in chain["filters"]]
    assert names == ["envoy.filters.network.rbac", "envoy.filters.network.tcp_proxy"]
    assert chain["filters"][0]["typed_config"]["rules"] == EXPECTED_RULES


def test_cors_is_a_filter_and_a_policy_on_the_pods_virtual_host() -> None:
    hcm = hcm_of(chain_of(with_options(route("web"), CORS)))
    names = [f["name"] for f in hcm["http_filters"]]
    assert names == ["envoy.filters.http.cors", "envoy.filters.http.router"]
    pod_host, misdirected = hcm["route_config"]["virtual_hosts"]
    assert "typed_per_filter_config" not in misdirected
    policy = pod_host["typed_per_filter_config"]["envoy.filters.http.cors"]
    assert policy == {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": [
            {"exact": "https://app.example.org"},
            {"safe_regex": {"regex": ".*"}},  # "*"
        ],
        "allow_credentials": True,
        "max_age": "60",
        "allow_methods": "GET,POST",
        "allow_headers": "Content-Type,X-Tapis-Token",
    }


def test_an_address_is_checked_before_cors_answers_a_preflight() -> None:
    both = StanzaOptions(ip_allow_list=("127.0.0.1",), cors_allow_origins=("*",))
    hcm = hcm_of(chain_of(with_options(route("web"), both)))
    names = [f["name"] for f in hcm["http_filters"]]
    assert names == [
        "envoy.filters.http.rbac",
        "envoy.filters.http.cors",
        "envoy.filters.http.router",
    ]


def test_ui_hints_change_nothing_in_the_gateway() -> None:
    hints = StanzaOptions(tapis_ui_uri="/lab", tapis_ui_uri_redirect=True)
    assert chain_of(with_options(route("web"), hints)) == chain_of(route("web"))


def test_options_of_one_port_leave_the_other_chains_alone() -> None:
    plain_table = table(route("web"), route("other"))
    guarded = table(with_options(route("web"), ALLOW), route("other"))
    before = {c["name"]: c for c in plain(pl.pods_listener(plain_table, OPTIONS))["filter_chains"]}
    after = {c["name"]: c for c in plain(pl.pods_listener(guarded, OPTIONS))["filter_chains"]}
    assert before["other.pods.example.org"] == after["other.pods.example.org"]
    assert before["web.pods.example.org"] != after["web.pods.example.org"]


def test_the_listener_parses_as_envoys_own_types() -> None:
    from envoy.config.listener.v3 import listener_pb2
    from envoy.extensions.access_loggers.stream.v3 import stream_pb2  # noqa: F401
    from envoy.extensions.filters.http.cors.v3 import cors_pb2  # noqa: F401
    from envoy.extensions.filters.http.rbac.v3 import rbac_pb2  # noqa: F401
    from envoy.extensions.filters.http.router.v3 import router_pb2  # noqa: F401
    from envoy.extensions.filters.listener.tls_inspector.v3 import tls_inspector_pb2  # noqa: F401
    from envoy.extensions.filters.network.http_connection_manager.v3 import (  # noqa: F401
        http_connection_manager_pb2,
    )
    from envoy.extensions.filters.network.rbac.v3 import rbac_pb2 as network_rbac  # noqa: F401
    from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2  # noqa: F401
    from envoy.extensions.transport_sockets.tls.v3 import tls_pb2  # noqa: F401

    routes = table(
        with_options(route("web"), replace(CORS, ip_allow_list=ALLOW.ip_allow_list)),
        with_options(route("db", "postgres", upstream_port=5432), ALLOW),
    )
    listener = plain(pl.pods_listener(routes, OPTIONS))
    listener.pop("@type")
    parsed = json_format.ParseDict(listener, listener_pb2.Listener())
    assert len(parsed.filter_chains) == 3


def test_the_starttls_router_refuses_an_allow_listed_postgres_port() -> None:
    guarded = with_options(route("db", "postgres", upstream_port=5432), ALLOW)
    decision = decide(table(guarded), guarded.host)
    assert decision.route is None and decision.refusal is Refusal.ALLOW_LIST
    open_port = route("open", "postgres", upstream_port=5432)
    assert decide(table(open_port), open_port.host).route == open_port

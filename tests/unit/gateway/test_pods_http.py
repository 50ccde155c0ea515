"""The shared HTTP chain of the pods listener (gateway/pods_http.py, gateway/pods_listener.py
with a pod_domain): plain HTTP pods by RDS, pods with policies or a login on their own chain,
unknown names answered, tcp/postgres names still refused."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gateway import pods_listener as pl
from gateway.pods_http import is_shared
from gateway.pods_listener import build_snapshot
from services.common.stanza_options import StanzaOptions
from tests.unit.gateway.pods_support import DOMAIN, SHARED, plain, route, table

WALLED = replace(route("walled"), options=StanzaOptions(ip_allow_list=("10.0.0.0/8",)))
BROWSER = replace(route("browser"), options=StanzaOptions(cors_allow_origins=("*",)))
LOGIN = replace(route("login"), tapis_auth=True)


def chains(*routes: Any) -> dict[str, Any]:
    listener = plain(pl.pods_listener(table(*routes), SHARED))
    return {chain["name"]: chain for chain in listener["filter_chains"]}


def virtual_hosts(*routes: Any) -> dict[str, Any]:
    (config,) = plain(build_snapshot(table(*routes), SHARED).routes)
    return {vhost["name"]: vhost for vhost in config["virtual_hosts"]}


def test_only_plain_http_pods_under_the_domain_are_shared() -> None:
    assert is_shared(route("web"), DOMAIN)
    assert is_shared(route("down", status="CREATING", upstream_port=0), DOMAIN)
    for own in (WALLED, BROWSER, LOGIN, route("bolt", "tcp"), route("db", "postgres")):
        assert not is_shared(own, DOMAIN), own.host
    assert not is_shared(route("web"), "")  # no domain: every pod has its own chain
    assert not is_shared(replace(route("web"), host="web.elsewhere.org"), DOMAIN)


def test_plain_pods_have_no_chain_of_their_own_and_the_shared_chain_reads_rds() -> None:
    found = chains(route("web"), route("other"), WALLED, LOGIN)
    assert list(found) == [
        LOGIN.host,
        WALLED.host,
        "pods_http_shared",
        "pods_refused_postgresql",
        "starttls",
    ]
    shared = found["pods_http_shared"]
    assert shared["filter_chain_match"] == {
        "server_names": [f"*.{DOMAIN}"],
        "transport_protocol": "tls",
    }
    hcm = shared["filters"][0]["typed_config"]
    assert "route_config" not in hcm
    assert hcm["rds"]["route_config_name"] == "pods_http"
    assert hcm["rds"]["config_source"]["path_config_source"] == {"path": "/xds/rds.json"}
    assert [f["name"] for f in hcm["http_filters"]] == ["envoy.filters.http.router"]
    # What every pod's connection manager keeps: websockets, the access log, the limits.
    assert hcm["upgrade_configs"] == [{"upgrade_type": "websocket"}]
    assert hcm["access_log"] and hcm["use_remote_address"] is True
    assert "request_timeout" not in hcm and "max_request_headers_kb" in hcm


def test_the_listener_does_not_depend_on_plain_pods() -> None:
    assert chains() == chains(route("web"), route("down", status="STOPPED", upstream_port=0))


def test_route_configuration_one_virtual_host_per_http_pod_then_the_catch_all() -> None:
    down = route("down", status="CREATING", upstream_port=0)
    (config,) = plain(build_snapshot(table(route("web"), down, WALLED), SHARED).routes)
    assert config["@type"] == "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
    assert config["name"] == "pods_http"
    assert config["validate_clusters"] is False
    assert config["request_headers_to_add"][0]["header"] == {
        "key": "x-forwarded-proto",
        "value": "https",
    }
    names = [vhost["name"] for vhost in config["virtual_hosts"]]
    assert names == [down.host, WALLED.host, route("web").host, "unknown_host"]  # host order
    _down, walled, web, catch_all = config["virtual_hosts"]
    host = route("web").host
    assert web == {  # at an address: the shared direct cluster, told where by a header
        "name": host,
        "domains": [host, f"{host}:*"],
        "routes": [
            {
                "name": host,
                "match": {"prefix": "/"},
                "route": {"cluster": "pods_http_direct", "timeout": "0s"},
                "request_headers_to_add": [
                    {
                        "header": {"key": "x-pods-upstream", "value": "127.0.0.1:5000"},
                        "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                    }
                ],
            }
        ],
    }
    # A pod with its own chain (policies): 421, the client opens a connection for it.
    assert walled["domains"] == [WALLED.host, f"{WALLED.host}:*"]
    assert walled["routes"][0]["direct_response"] == {
        "status": 421,
        "body": {"inline_string": f"this connection does not serve {WALLED.host}\n"},
    }
    assert catch_all["domains"] == ["*"]
    assert catch_all["routes"][0]["direct_response"] == {
        "status": 404,
        "body": {"inline_string": "no pod is published under this name\n"},
    }


def test_a_plain_pod_not_serving_answers_503_naming_its_status() -> None:
    down = route("down", status="CREATING", upstream_port=0)
    (vhost_route,) = virtual_hosts(down)[down.host]["routes"]
    assert vhost_route["direct_response"] == {
        "status": 503,
        "body": {"inline_string": "pod 'down' is CREATING\n"},
    }
    names = [c["name"] for c in plain(pl.pods_clusters(table(down), SHARED))]
    assert names == ["starttls_router", "pods_http_direct"]  # none of its own


def test_tcp_and_postgres_names_are_refused_where_the_wildcard_would_take_them() -> None:
    graph_down = route("graphdown", "tcp", status="CREATING", upstream_port=0)
    found = chains(graph_down, route("bolt", "tcp"))
    assert found[graph_down.host] == {
        "name": graph_down.host,
        "filter_chain_match": {"server_names": [graph_down.host], "transport_protocol": "tls"},
        "filters": [],  # Envoy closes the connection
    }
    assert found["pods_refused_postgresql"] == {
        "name": "pods_refused_postgresql",
        "filter_chain_match": {
            "server_names": [f"*.{DOMAIN}"],
            "transport_protocol": "tls",
            "application_protocols": ["postgresql"],
        },
        "filters": [],
    }
    assert "transport_socket" in found[route("bolt", "tcp").host]
    assert graph_down.host not in virtual_hosts(graph_down)  # no HTTP name either


def test_plain_pods_at_an_address_share_one_cluster_so_their_changes_touch_no_cluster() -> None:
    named = replace(route("svc"), upstream_host="svc.pods.svc.cluster.local")
    six = replace(route("six"), upstream_host="::1")
    snapshot = build_snapshot(table(route("web"), route("other"), named, six, WALLED), SHARED)
    clusters = {c["name"]: c for c in plain(snapshot.clusters)}
    direct = clusters["pods_http_direct"]
    assert direct["type"] == "ORIGINAL_DST" and direct["lb_policy"] == "CLUSTER_PROVIDED"
    assert direct["original_dst_lb_config"] == {
        "use_http_header": True,
        "http_header_name": "x-pods-upstream",
    }
    # Only pods that need one have a cluster: a name to resolve, or a chain of their own.
    own = {name for name in clusters if name.startswith("pod_")}
    assert own == {named.cluster_name, WALLED.cluster_name}
    assert clusters == {
        c["name"]: c for c in plain(build_snapshot(table(named, WALLED), SHARED).clusters)
    }
    six_route = virtual_hosts(six)[six.host]["routes"][0]
    assert six_route["request_headers_to_add"][0]["header"]["value"] == "[::1]:5000"

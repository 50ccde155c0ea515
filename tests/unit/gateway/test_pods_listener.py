"""Unit tests of the pods listener builders (gateway/pods_listener.py): its filter chains
and clusters.

Fragments are compared to literal dicts; Envoy itself checks them in
tests/integration/gateway/test_pods_listener.py. Publishing them is test_xds_publish.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from google.protobuf import json_format

from gateway import pods_listener as pl
from gateway import xds_files
from gateway.pods_listener import PodsListenerOptions, build_snapshot
from gateway.routes import RouteTable
from services.common.stanza_options import StanzaOptions
from tests.unit.gateway.pods_support import DOMAIN, OPTIONS, plain, route, table


def listener_of(routes: RouteTable, options: PodsListenerOptions = OPTIONS) -> dict[str, Any]:
    result: dict[str, Any] = plain(pl.pods_listener(routes, options))
    return result


def chains(routes: RouteTable) -> dict[str, dict[str, Any]]:
    return {chain["name"]: chain for chain in listener_of(routes)["filter_chains"]}


def tls_socket(alpn: list[str] | None) -> dict[str, Any]:
    common: dict[str, Any] = {
        "tls_params": {
            "tls_minimum_protocol_version": "TLSv1_2",
            "cipher_suites": [
                "ECDHE-ECDSA-AES128-GCM-SHA256",
                "ECDHE-ECDSA-CHACHA20-POLY1305",
                "ECDHE-ECDSA-AES256-GCM-SHA384",
                "ECDHE-RSA-AES128-GCM-SHA256",
                "ECDHE-RSA-CHACHA20-POLY1305",
                "ECDHE-RSA-AES256-GCM-SHA384",
            ],
        },
        "tls_certificates": [
            {
                "certificate_chain": {"filename": "/tls/pods.pem"},
                "private_key": {"filename": "/tls/pods-key.pem"},
            }
        ],
    }
    if alpn:
        common["alpn_protocols"] = alpn
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "common_tls_context": common,
        },
    }


def tcp_proxy(stat_prefix: str, cluster: str) -> dict[str, Any]:
    return {
        "name": "envoy.filters.network.tcp_proxy",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
            "stat_prefix": stat_prefix,
            "cluster": cluster,
            "idle_timeout": "3600s",
        },
    }


STARTTLS_CHAIN = {
    "name": "starttls",
    "filter_chain_match": {"transport_protocol": "raw_buffer"},
    "filters": [tcp_proxy("pods_starttls", "starttls_router")],
}


def hcm(chain: dict[str, Any]) -> dict[str, Any]:
    (manager,) = chain["filters"]
    assert manager["name"] == "envoy.filters.network.http_connection_manager"
    result: dict[str, Any] = manager["typed_config"]
    return result


def pod_vhost(chain: dict[str, Any]) -> dict[str, Any]:
    vhost, _misdirected = hcm(chain)["route_config"]["virtual_hosts"]
    result: dict[str, Any] = vhost
    return result


# --- the listener --------------------------------------------------------------------------------


def test_empty_table_has_only_the_plaintext_chain() -> None:
    assert listener_of(table()) == {
        "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
        "name": "pods",
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 8443}},
        "listener_filters": [
            {
                "name": "envoy.filters.listener.tls_inspector",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"
                },
            }
        ],
        "listener_filters_timeout": "5s",
        "filter_chains": [STARTTLS_CHAIN],
    }


def test_one_named_chain_per_host_sorted_and_no_default_chain() -> None:
    routes = table(
        route("zeta"), route("alpha", "tcp", upstream_port=7687), route("mid", "postgres")
    )
    listener = listener_of(routes)
    assert [c["name"] for c in listener["filter_chains"]] == [
        f"alpha.{DOMAIN}",
        f"mid.{DOMAIN}",
        f"zeta.{DOMAIN}",
        "starttls",
    ]
    assert "default_filter_chain" not in listener
    for chain in listener["filter_chains"][:-1]:
        assert chain["filter_chain_match"]["server_names"] == [chain["name"]]
        assert chain["filter_chain_match"]["transport_protocol"] == "tls"


def test_http_chain_terminates_tls_with_h2_and_http1_and_forwards_to_the_pod() -> None:
    chain = chains(table(route("webpod")))[f"webpod.{DOMAIN}"]
    host = f"webpod.{DOMAIN}"
    assert chain["filter_chain_match"] == {"server_names": [host], "transport_protocol": "tls"}
    assert chain["transport_socket"] == tls_socket(["h2", "http/1.1"])
    manager = hcm(chain)
    assert manager["codec_type"] == "AUTO"
    assert manager["use_remote_address"] is True
    assert manager["upgrade_configs"] == [{"upgrade_type": "websocket"}]
    assert [f["name"] for f in manager["http_filters"]] == ["envoy.filters.http.router"]
    # Hardened like the API's, but header names with underscores pass and there is no
    # whole-request timeout (pods take long uploads and stream).
    assert manager["max_request_headers_kb"] == 32
    assert manager["request_headers_timeout"] == "10s"
    assert "request_timeout" not in manager
    assert manager["common_http_protocol_options"] == {
        "idle_timeout": "300s",
        "max_headers_count": 64,
    }
    assert manager["http2_protocol_options"]["max_concurrent_streams"] == 100
    assert manager["route_config"] == {
        "name": host,
        "validate_clusters": False,
        "request_headers_to_add": [
            {
                "header": {"key": "x-forwarded-proto", "value": "https"},
                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
            }
        ],
        "virtual_hosts": [
            {
                "name": host,
                "domains": [host, f"{host}:*"],
                "routes": [
                    {
                        "name": host,
                        "match": {"prefix": "/"},
                        "route": {"cluster": "pod_webpod_pods_example_org", "timeout": "0s"},
                    }
                ],
            },
            {
                "name": "misdirected",
                "domains": ["*"],
                "routes": [
                    {
                        "name": "misdirected",
                        "match": {"prefix": "/"},
                        "direct_response": {
                            "status": 421,
                            "body": {"inline_string": f"this connection serves {host} only\n"},
                        },
                    }
                ],
            },
        ],
    }


def test_http_chain_keeps_the_host_header() -> None:
    manager = hcm(chains(table(route("webpod")))[f"webpod.{DOMAIN}"])
    text = json.dumps(manager)
    assert "host_rewrite" not in text
    assert "strip_any_host_port" not in text
    assert "auto_host_rewrite" not in text


@pytest.mark.parametrize(
    ("status", "port", "body"),
    [
        ("CREATING", 0, "pod 'webpod' is CREATING\n"),
        ("STOPPED", 5000, "pod 'webpod' is STOPPED\n"),
        ("AVAILABLE", 0, "pod 'webpod' is AVAILABLE but has no reachable port yet\n"),
    ],
)
def test_http_route_not_serving_answers_503_naming_the_status(
    status: str, port: int, body: str
) -> None:
    routes = table(route("webpod", status=status, upstream_port=port))
    chain = chains(routes)[f"webpod.{DOMAIN}"]
    assert chain["transport_socket"] == tls_socket(["h2", "http/1.1"])
    assert pod_vhost(chain)["routes"] == [
        {
            "name": f"webpod.{DOMAIN}",
            "match": {"prefix": "/"},
            "direct_response": {"status": 503, "body": {"inline_string": body}},
        }
    ]
    assert [c["name"] for c in plain(pl.pods_clusters(routes, OPTIONS))] == ["starttls_router"]


def test_tcp_chain_proxies_plain_tcp_without_alpn() -> None:
    host = f"graph.{DOMAIN}"
    chain = chains(table(route("graph", "tcp", upstream_port=7687)))[host]
    assert chain == {
        "name": host,
        "filter_chain_match": {"server_names": [host], "transport_protocol": "tls"},
        "transport_socket": tls_socket(None),
        "filters": [tcp_proxy("pods_tcp", "pod_graph_pods_example_org")],
    }


def test_postgres_chain_requires_and_offers_alpn_postgresql() -> None:
    host = f"db.{DOMAIN}"
    chain = chains(table(route("db", "postgres", upstream_port=5432)))[host]
    assert chain == {
        "name": host,
        "filter_chain_match": {
            "server_names": [host],
            "transport_protocol": "tls",
            "application_protocols": ["postgresql"],
        },
        "transport_socket": tls_socket(["postgresql"]),
        "filters": [tcp_proxy("pods_tcp", "pod_db_pods_example_org")],
    }


@pytest.mark.parametrize("protocol", ["tcp", "postgres"])
@pytest.mark.parametrize(("status", "port"), [("CREATING", 0), ("STOPPED", 7687), ("AVAILABLE", 0)])
def test_tcp_and_postgres_routes_not_serving_have_no_chain(
    protocol: str, status: str, port: int
) -> None:
    routes = table(route("db", protocol, status=status, upstream_port=port))
    assert listener_of(routes)["filter_chains"] == [STARTTLS_CHAIN]
    assert [c["name"] for c in plain(pl.pods_clusters(routes, OPTIONS))] == ["starttls_router"]


def test_a_chain_does_not_change_when_other_routes_come_and_go() -> None:
    """Envoy keeps a filter chain (and its connections) across an update only if it is
    identical; a neighbour's arrival, departure or status change must not touch it."""
    mine = route("mine")
    before = chains(table(mine, route("other", "tcp")))[f"mine.{DOMAIN}"]
    after_add = chains(table(mine, route("other", "tcp"), route("new"), route("db", "postgres")))
    after_remove = chains(table(mine))
    after_status = chains(table(mine, route("other", "tcp", status="STOPPED")))
    for after in (after_add, after_remove, after_status):
        assert after[f"mine.{DOMAIN}"] == before


def test_unknown_protocol_is_refused() -> None:
    with pytest.raises(ValueError, match="not routable"):
        pl.pod_chain(route("x", "udp"), OPTIONS)


def test_listener_binds_where_told() -> None:
    options = replace(OPTIONS, bind_address="0.0.0.0", port=443)
    assert listener_of(table(), options)["address"] == {
        "socket_address": {"address": "0.0.0.0", "port_value": 443}
    }


# --- clusters ------------------------------------------------------------------------------------


def test_clusters_router_and_one_per_serving_route() -> None:
    routes = table(
        route("web", upstream_port=32768),
        route("down", status="STOPPED"),
        route("graph", "tcp", upstream_host="graph.pods.svc", upstream_port=7687),
        route("db", "postgres", upstream_port=0, status="CREATING"),
    )
    clusters = plain(pl.pods_clusters(routes, OPTIONS))
    assert [c["name"] for c in clusters] == [
        "starttls_router",
        "pod_graph_pods_example_org",
        "pod_web_pods_example_org",
    ]
    router, graph, web = clusters
    assert router == {
        "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
        "name": "starttls_router",
        "type": "STATIC",
        "connect_timeout": "2s",
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": {
            "cluster_name": "starttls_router",
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {
                                    "socket_address": {
                                        "address": "127.0.0.1",
                                        "port_value": 50054,
                                    }
                                }
                            }
                        }
                    ]
                }
            ],
        },
    }
    assert graph["type"] == "STRICT_DNS"
    assert graph["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"] == {
        "address": {"socket_address": {"address": "graph.pods.svc", "port_value": 7687}}
    }
    assert web["type"] == "STATIC"
    assert web["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"] == {
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 32768}}
    }


def test_snapshot_files_parse_as_envoys_own_types() -> None:
    """The file contents are DiscoveryResponses whose resources Envoy's protobufs accept."""
    discovery_pb2 = pytest.importorskip("envoy.service.discovery.v3.discovery_pb2")
    from envoy.config.cluster.v3 import cluster_pb2
    from envoy.config.listener.v3 import listener_pb2
    from envoy.extensions.access_loggers.stream.v3 import stream_pb2  # noqa: F401
    from envoy.extensions.filters.http.router.v3 import router_pb2  # noqa: F401
    from envoy.extensions.filters.listener.tls_inspector.v3 import tls_inspector_pb2  # noqa: F401
    from envoy.extensions.filters.network.http_connection_manager.v3 import (  # noqa: F401
        http_connection_manager_pb2,
    )
    from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2  # noqa: F401
    from envoy.extensions.transport_sockets.tls.v3 import tls_pb2  # noqa: F401

    routes = table(
        route("web"),
        route("down", status="CREATING", upstream_port=0),
        route("graph", "tcp", upstream_port=7687),
        route("db", "postgres", upstream_port=5432),
    )
    snapshot = build_snapshot(routes, OPTIONS)
    lds = xds_files.discovery_response(snapshot.listeners, pl.LISTENER_TYPE)
    cds = xds_files.discovery_response(snapshot.clusters, pl.CLUSTER_TYPE)
    lds_message = json_format.ParseDict(plain(lds), discovery_pb2.DiscoveryResponse())
    cds_message = json_format.ParseDict(plain(cds), discovery_pb2.DiscoveryResponse())
    (any_listener,) = lds_message.resources
    listener = listener_pb2.Listener()
    assert any_listener.Unpack(listener)
    assert len(listener.filter_chains) == 5
    assert listener.filter_chains[0].filter_chain_match.application_protocols == ["postgresql"]
    assert len(cds_message.resources) == 4
    cluster = cluster_pb2.Cluster()
    assert cds_message.resources[0].Unpack(cluster)
    assert cluster.name == "starttls_router"


# --- the STARTTLS router's hand-off listener -----------------------------------------------------

HANDOFF = replace(OPTIONS, handoff_path="/data/gateway/handoff.sock")


def test_handoff_listener_serves_postgres_routes_by_sni_alone_on_its_unix_socket() -> None:
    host = f"db.{DOMAIN}"
    routes = table(
        route("db", "postgres", upstream_port=5432),
        route("web"),
        route("graph", "tcp", upstream_port=7687),
        route("down", "postgres", status="STOPPED", upstream_port=5432),
        replace(route("walled", "postgres"), options=StanzaOptions(ip_allow_list=("10.0.0.0/8",))),
    )
    listener = plain(pl.handoff_listener(routes, HANDOFF))
    assert listener["name"] == "pods_handoff"
    assert listener["address"] == {"pipe": {"path": "/data/gateway/handoff.sock"}}
    assert [f["name"] for f in listener["listener_filters"]] == [
        "envoy.filters.listener.tls_inspector"
    ]
    assert listener["filter_chains"] == [
        {
            "name": host,
            # no ALPN in the match: libpq before 17 sends none (the router decided the SNI)
            "filter_chain_match": {"server_names": [host], "transport_protocol": "tls"},
            "transport_socket": tls_socket(["postgresql"]),
            "filters": [tcp_proxy("pods_tcp", "pod_db_pods_example_org")],
        }
    ]
    assert [x["name"] for x in build_snapshot(routes, HANDOFF).listeners] == [
        "pods",
        "pods_handoff",
    ]


def test_no_handoff_listener_without_a_path_or_a_postgres_route_to_serve() -> None:
    routes = table(route("db", "postgres", upstream_port=5432))
    assert pl.handoff_listener(routes, OPTIONS) is None
    assert pl.handoff_listener(table(route("web")), HANDOFF) is None
    assert [x["name"] for x in build_snapshot(routes, OPTIONS).listeners] == ["pods"]

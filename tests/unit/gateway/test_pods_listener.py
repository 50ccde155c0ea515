"""Unit tests of the pods listener builders (gateway/pods_listener.py), the xDS file publisher
(gateway/xds_files.py) and the dynamic parts of the bootstrap (gateway/envoy_config.py).

Fragments are compared to literal dicts; Envoy itself checks them in
tests/integration/gateway/test_pods_listener.py.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from gateway import envoy_config as ec
from gateway import pods_listener as pl
from gateway import xds_files
from gateway.__main__ import prepare
from gateway.certs import TlsFiles
from gateway.pods_listener import PodsListenerOptions, build_snapshot
from gateway.routes import PodRoute, RouteTable
from services.common.settings import Settings

TLS = TlsFiles(cert=Path("/tls/pods.pem"), key=Path("/tls/pods-key.pem"), ca=Path("/tls/ca.pem"))
OPTIONS = PodsListenerOptions(port=8443, tls=TLS, router_port=50054)
DOMAIN = "pods.example.org"


def route(
    name: str,
    protocol: str = "http",
    *,
    status: str = "AVAILABLE",
    upstream_host: str = "127.0.0.1",
    upstream_port: int = 5000,
) -> PodRoute:
    return PodRoute(
        host=f"{name}.{DOMAIN}",
        protocol=protocol,
        tenant_id="dev",
        pod_id=name,
        stanza="default",
        status=status,
        upstream_host=upstream_host,
        upstream_port=upstream_port,
    )


def table(*routes: PodRoute) -> RouteTable:
    built = RouteTable.build(routes)
    assert not built.rejected
    return built


def plain(value: Any) -> Any:
    """A JSON round trip: plain dicts and lists, and proof that it serializes."""
    return json.loads(json.dumps(value))


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


# --- options -------------------------------------------------------------------------------------


def test_options_from_settings_and_for_a_cluster() -> None:
    settings = Settings(pods_port=18443, router_port=15054)
    local = PodsListenerOptions.from_settings(settings, TLS, bind_address="0.0.0.0")
    assert (local.port, local.router_port, local.router_host) == (18443, 15054, "127.0.0.1")
    assert local.bind_address == "0.0.0.0"
    cluster = pl.cluster_listener_options(ec.ClusterGateway())
    assert (cluster.port, cluster.bind_address) == (443, "0.0.0.0")
    assert (cluster.router_host, cluster.router_port) == ("pods-router", 50054)
    assert cluster.tls == TlsFiles(
        cert=Path("/etc/pods-gateway/tls/tls.crt"),
        key=Path("/etc/pods-gateway/tls/tls.key"),
        ca=None,
    )
    (router,) = plain(pl.pods_clusters(table(), cluster))
    assert router["type"] == "STRICT_DNS"


# --- the bootstrap -------------------------------------------------------------------------------


def test_bootstrap_reads_listeners_and_clusters_from_watched_files() -> None:
    config = plain(ec.bootstrap(admin_port=9901, listeners=[], clusters=[], xds_dir=Path("/x")))
    assert config["dynamic_resources"] == {
        "lds_config": {
            "path_config_source": {"path": "/x/lds.yaml", "watched_directory": {"path": "/x"}},
            "resource_api_version": "V3",
        },
        "cds_config": {
            "path_config_source": {"path": "/x/cds.yaml", "watched_directory": {"path": "/x"}},
            "resource_api_version": "V3",
        },
    }
    assert "dynamic_resources" not in ec.bootstrap(admin_port=1, listeners=[], clusters=[])
    assert "admin" not in ec.bootstrap(admin_port=None, listeners=[], clusters=[])


def test_cluster_bootstrap_serves_everyone_and_finds_the_api_by_name() -> None:
    config = plain(ec.cluster_bootstrap(ec.ClusterGateway()))
    (rest,) = config["static_resources"]["listeners"]
    assert rest["address"]["socket_address"] == {"address": "0.0.0.0", "port_value": 8080}
    (api,) = config["static_resources"]["clusters"]
    assert api["type"] == "STRICT_DNS"
    endpoint = api["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"] == {"address": "pods-api", "port_value": 50051}
    lds = config["dynamic_resources"]["lds_config"]["path_config_source"]
    assert lds["path"] == "/var/run/pods-gateway/xds/lds.yaml"
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"


def test_prepare_publishes_an_empty_snapshot_and_points_envoy_at_it(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, pods_port=18443, router_port=15054, pod_domain="pods.test"
    )
    prepared = prepare(settings, bind_address="0.0.0.0")
    xds = (tmp_path / "gateway" / "xds").resolve()
    assert prepared.xds_dir == xds
    assert prepared.tls_ca == (tmp_path / "gateway" / "tls" / "ca.pem").resolve()
    config = json.loads(prepared.config.read_text())
    assert config["dynamic_resources"]["lds_config"]["path_config_source"] == {
        "path": str(xds / "lds.yaml"),
        "watched_directory": {"path": str(xds)},
    }
    snapshot = xds_files.read_published(xds)
    (listener,) = snapshot.listeners
    assert listener["address"] == {"socket_address": {"address": "0.0.0.0", "port_value": 18443}}
    assert [c["name"] for c in listener["filter_chains"]] == ["starttls"]
    (router,) = snapshot.clusters
    assert router["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"] == {
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 15054}}
    }
    cert = listener["filter_chains"][0].get("transport_socket")
    assert cert is None  # plaintext chain; the certificate appears with the first pod
    assert (tmp_path / "gateway" / "tls" / "pods.pem").is_file()


def test_prepare_resets_routes_at_start_but_not_for_validate_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, pod_domain="pods.test")
    options = xds_files.local_options(settings)
    xds = xds_files.xds_directory(tmp_path)
    live = RouteTable.build([replace(route("web"), host="web.pods.test")])
    assert xds_files.publish(xds, live, options).changed

    prepare(settings, reset_routes=False)  # --validate-only next to a running gateway
    (listener,) = xds_files.read_published(xds).listeners
    assert [c["name"] for c in listener["filter_chains"]] == ["web.pods.test", "starttls"]

    prepare(settings)  # a starting gateway forgets routes of an earlier run
    (listener,) = xds_files.read_published(xds).listeners
    assert [c["name"] for c in listener["filter_chains"]] == ["starttls"]


# --- publishing ----------------------------------------------------------------------------------


def files_of(directory: Path) -> dict[str, str]:
    return {
        p.name: p.read_text() for p in sorted(directory.iterdir()) if not p.name.startswith(".")
    }


def test_publish_writes_cds_then_lds_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []
    real_write = xds_files.write_atomically

    def recording(path: Path, text: str) -> None:
        written.append(path.name)
        real_write(path, text)

    monkeypatch.setattr(xds_files, "write_atomically", recording)
    result = xds_files.publish(tmp_path / "xds", table(route("web")), OPTIONS)

    assert result.published
    assert result.changed == ("cds.yaml", "lds.yaml")
    assert written == ["cds.yaml", "lds.yaml"]
    files = files_of(tmp_path / "xds")
    assert sorted(files) == ["cds.yaml", "lds.yaml"]  # no temporary files left
    lds = json.loads(files["lds.yaml"])
    assert lds["type_url"] == "type.googleapis.com/envoy.config.listener.v3.Listener"
    assert lds["resources"][0]["name"] == "pods"
    cds = json.loads(files["cds.yaml"])
    assert [c["name"] for c in cds["resources"]] == ["starttls_router", "pod_web_pods_example_org"]
    assert result.version == f"{cds['version_info']}.{lds['version_info']}"


def test_publish_rewrites_only_what_changed(tmp_path: Path) -> None:
    directory = tmp_path / "xds"
    first = xds_files.publish(directory, table(route("web")), OPTIONS)
    inodes = {p.name: p.stat().st_ino for p in directory.iterdir()}

    again = xds_files.publish(directory, table(route("web")), OPTIONS)
    assert again.changed == ()
    assert again.version == first.version
    assert {p.name: p.stat().st_ino for p in directory.iterdir()} == inodes

    # Only the 503 text changes: same clusters, new listener.
    stopped = xds_files.publish(
        directory, table(route("web"), route("down", status="STOPPED")), OPTIONS
    )
    assert stopped.changed == ("lds.yaml",)


def test_invalid_route_is_not_published_and_previous_files_stay(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "xds"
    xds_files.publish(directory, table(route("web")), OPTIONS)
    before = files_of(directory)
    bad = replace(route("evil"), host="Evil_Host!.pods.example.org")
    broken = RouteTable(routes={**table(route("web"), route("new")).routes, bad.host: bad})

    with caplog.at_level(logging.ERROR, logger="gateway.xds_files"):
        result = xds_files.publish(directory, broken, OPTIONS)

    assert not result.published
    assert "is not a valid DNS name" in result.rejected
    assert result.changed == ()
    assert files_of(directory) == before
    assert "keeping the previous files" in caplog.text
    assert "is not a valid DNS name" in caplog.text


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (route("web", upstream_port=70000), "out of range"),
        (route("web", "udp"), "not routable"),
        (route("web", upstream_host=""), "no upstream host"),
    ],
)
def test_each_kind_of_invalid_route_is_refused(tmp_path: Path, bad: PodRoute, why: str) -> None:
    result = xds_files.publish(tmp_path, RouteTable(routes={bad.host: bad}), OPTIONS)
    assert why in result.rejected
    assert files_of(tmp_path) == {}


def test_route_filed_under_another_host_is_refused(tmp_path: Path) -> None:
    web = route("web")
    result = xds_files.publish(tmp_path, RouteTable(routes={f"other.{DOMAIN}": web}), OPTIONS)
    assert "filed under" in result.rejected


def test_colliding_cluster_names_are_refused(tmp_path: Path) -> None:
    """`a-b.<domain>` and `a.b.<domain>` are distinct hosts with the same cluster name."""
    first = replace(route("x"), host=f"a-b.{DOMAIN}")
    second = replace(route("x"), host=f"a.b.{DOMAIN}")
    assert first.cluster_name == second.cluster_name
    result = xds_files.publish(tmp_path, table(first, second), OPTIONS)
    assert "cluster names repeat" in result.rejected


def test_check_snapshot_finds_undefined_clusters() -> None:
    snapshot = build_snapshot(table(route("web"), route("db", "postgres")), OPTIONS)
    without_pods = replace(snapshot, clusters=snapshot.clusters[:1])
    with pytest.raises(xds_files.SnapshotError, match="undefined clusters"):
        xds_files.check_snapshot(without_pods)
    xds_files.check_snapshot(snapshot)


def test_paths_under_the_data_dir(tmp_path: Path) -> None:
    assert xds_files.xds_directory(tmp_path) == (tmp_path / "gateway" / "xds").resolve()
    assert xds_files.tls_directory(tmp_path) == (tmp_path / "gateway" / "tls").resolve()

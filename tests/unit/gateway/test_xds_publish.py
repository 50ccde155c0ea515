"""Unit tests of the xDS file publisher (gateway/xds_files.py), the pods listener's options
and the dynamic parts of the bootstrap (gateway/envoy_config.py, `prepare` of
gateway/__main__.py).

Fragments are compared to literal dicts; Envoy itself checks them in
tests/integration/gateway/test_pods_listener.py.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from gateway import envoy_config as ec
from gateway import pods_listener as pl
from gateway import xds_files
from gateway.__main__ import prepare
from gateway.certs import TlsFiles
from gateway.pods_listener import PodsListenerOptions, build_snapshot
from gateway.routes import PodRoute, RouteTable
from services.common.settings import Settings
from tests.unit.gateway.pods_support import DOMAIN, OPTIONS, TLS, plain, route, table

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
            "path_config_source": {"path": "/x/lds.json"},
            "resource_api_version": "V3",
        },
        "cds_config": {
            "path_config_source": {"path": "/x/cds.json"},
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
    assert lds["path"] == "/var/run/pods-gateway/xds/lds.json"
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
        "path": str(xds / "lds.json")
    }
    snapshot = xds_files.read_published(xds)
    (listener,) = plain(snapshot.listeners)
    assert listener["address"] == {"socket_address": {"address": "0.0.0.0", "port_value": 18443}}
    assert [c["name"] for c in listener["filter_chains"]] == [
        "pods_http_shared",
        "pods_refused_postgresql",
        "starttls",
    ]
    (routes,) = plain(snapshot.routes)
    assert [vhost["name"] for vhost in routes["virtual_hosts"]] == ["unknown_host"]
    router, direct = plain(snapshot.clusters)
    assert direct["name"] == "pods_http_direct"
    assert router["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"] == {
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 15054}}
    }
    shared, refused, starttls = listener["filter_chains"]
    assert "transport_socket" in shared and "transport_socket" not in refused
    assert starttls.get("transport_socket") is None  # plaintext chain
    assert (tmp_path / "gateway" / "tls" / "pods.pem").is_file()


def test_prepare_resets_routes_at_start_but_not_for_validate_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, pod_domain="pods.test")
    options = xds_files.local_options(settings)
    xds = xds_files.xds_directory(tmp_path)
    live = RouteTable.build([replace(route("web"), host="web.pods.test")])
    assert xds_files.publish(xds, live, options).changed

    def hosts() -> list[str]:
        (routes,) = plain(xds_files.read_published(xds).routes)
        return [vhost["name"] for vhost in routes["virtual_hosts"]]

    prepare(settings, reset_routes=False)  # --validate-only next to a running gateway
    assert hosts() == ["web.pods.test", "unknown_host"]

    prepare(settings)  # a starting gateway forgets routes of an earlier run
    assert hosts() == ["unknown_host"]


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
    assert result.changed == ("cds.json", "lds.json")
    assert written == ["cds.json", "lds.json"]
    files = files_of(tmp_path / "xds")
    assert sorted(files) == ["cds.json", "lds.json"]  # no temporary files left
    lds = json.loads(files["lds.json"])
    assert lds["type_url"] == "type.googleapis.com/envoy.config.listener.v3.Listener"
    assert lds["resources"][0]["name"] == "pods"
    cds = json.loads(files["cds.json"])
    assert [c["name"] for c in cds["resources"]] == ["starttls_router", "pod_web_pods_example_org"]
    assert result.version == f"{cds['version_info']}..{lds['version_info']}"  # no RDS


def test_with_a_pod_domain_publish_writes_cds_rds_lds_and_a_plain_pod_touches_no_listener(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []
    real_write = xds_files.write_atomically

    def recording(path: Path, text: str) -> None:
        written.append(path.name)
        real_write(path, text)

    monkeypatch.setattr(xds_files, "write_atomically", recording)
    directory = tmp_path / "xds"
    options = replace(OPTIONS, pod_domain=DOMAIN)  # the publisher names its own rds.json
    first = xds_files.publish(directory, table(route("web")), options)
    assert written == ["cds.json", "rds.json", "lds.json"]
    files = files_of(directory)
    lds, rds = json.loads(files["lds.json"]), json.loads(files["rds.json"])
    shared = next(
        c for c in lds["resources"][0]["filter_chains"] if c["name"] == "pods_http_shared"
    )
    source = shared["filters"][0]["typed_config"]["rds"]["config_source"]["path_config_source"]
    assert source["path"] == str(directory.resolve() / "rds.json")
    assert rds["type_url"] == "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
    _cds, rds_v, lds_v = first.version.split(".")
    assert (rds_v, lds_v) == (rds["version_info"], lds["version_info"])

    written.clear()
    added = xds_files.publish(
        directory, table(route("web"), route("new"), route("down", status="STOPPED")), options
    )
    # The pods serve at an address, through the shared direct cluster: no cluster changes.
    assert added.changed == ("rds.json",) == tuple(written)
    assert files_of(directory)["lds.json"] == files["lds.json"]  # byte for byte
    assert added.version.split(".")[2] == lds_v


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
    assert stopped.changed == ("lds.json",)


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


def test_a_publisher_refuses_options_naming_a_route_file_it_does_not_write(
    tmp_path: Path,
) -> None:
    options = replace(OPTIONS, pod_domain=DOMAIN, rds_path=str(tmp_path / "elsewhere.json"))
    with pytest.raises(ValueError, match="route file"):
        xds_files.Publisher(tmp_path / "xds", options)
    same = replace(options, rds_path=str(tmp_path / "xds" / "rds.json"))
    assert xds_files.Publisher(tmp_path / "xds", same).publish(table(route("web"))).published

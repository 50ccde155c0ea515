"""The incremental renderer of the LDS/CDS/RDS files (gateway/xds_text.py): the same resources as
the whole-table builders of gateway/pods_listener.py, rendered once per route."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from gateway import pods_listener as pl
from gateway import xds_files
from gateway.pods_listener import build_snapshot
from gateway.routes import PodRoute, RouteTable
from gateway.xds_text import SnapshotError, SnapshotRenderer
from tests.unit.gateway.pods_support import OPTIONS, SHARED, plain, route, table


def resources(text: str) -> list[object]:
    parsed = json.loads(text)
    assert isinstance(parsed["resources"], list)
    return list(parsed["resources"])


def mixed_table() -> RouteTable:
    login = replace(route("secure"), tapis_auth=True)
    return table(
        route("web"),
        route("down", status="CREATING", upstream_port=0),
        route("bolt", "tcp"),
        route("db", "postgres"),
        route("gone", "tcp", status="STOPPED", upstream_port=0),
        login,
    )


@pytest.mark.parametrize("base", [OPTIONS, SHARED], ids=["own-chains", "shared-chain"])
@pytest.mark.parametrize("handoff", [None, "/run/pods/handoff.sock"])
def test_the_files_hold_what_the_whole_table_builders_build(
    base: pl.PodsListenerOptions, handoff: str | None
) -> None:
    options = replace(base, handoff_path=handoff)
    built = build_snapshot(mixed_table(), options)
    text = SnapshotRenderer(options).render(mixed_table())
    assert len(built.listeners) == (2 if handoff else 1)  # the hand-off listener: postgres only
    assert resources(text.lds) == plain(list(built.listeners))
    assert resources(text.cds) == plain(list(built.clusters))
    assert json.loads(text.lds)["version_info"] == text.lds_version
    assert json.loads(text.cds)["version_info"] == text.cds_version
    if base.pod_domain:
        assert resources(text.rds) == plain(list(built.routes))
        assert json.loads(text.rds)["version_info"] == text.rds_version
    else:
        assert (text.rds, built.routes) == ("", ())


def test_a_plain_http_pod_s_change_renders_one_virtual_host_and_keeps_the_listener() -> None:
    renderer = SnapshotRenderer(SHARED)
    routes = [route(f"pod{i}") for i in range(20)]
    first = renderer.render(table(*routes))
    changed = replace(routes[3], status="STOPPED", upstream_port=0)
    after = renderer.render(table(*routes[:3], changed, *routes[4:], route("new")))
    assert after.lds == first.lds  # byte for byte: Envoy does not reload the listener
    assert after.rds_version != first.rds_version
    assert after.cds_version == first.cds_version  # served by the shared direct cluster
    expected = build_snapshot(table(*routes[:3], changed, *routes[4:], route("new")), SHARED)
    assert resources(after.rds) == plain(list(expected.routes))


def test_equal_tables_give_equal_versions_and_a_change_a_new_one() -> None:
    first = SnapshotRenderer(OPTIONS).render(table(route("web")))
    again = SnapshotRenderer(OPTIONS).render(table(route("web")))
    assert (again.lds_version, again.cds_version) == (first.lds_version, first.cds_version)
    moved = SnapshotRenderer(OPTIONS).render(table(route("web", upstream_port=5001)))
    assert moved.cds_version != first.cds_version
    assert moved.lds_version == first.lds_version  # the chain names the cluster, not the port


def test_a_second_render_renders_only_the_changed_route(monkeypatch: pytest.MonkeyPatch) -> None:
    renderer = SnapshotRenderer(OPTIONS)
    routes = [route(f"pod{i}") for i in range(20)]
    renderer.render(table(*routes))
    rendered: list[str] = []

    def chain(r: PodRoute, options: pl.PodsListenerOptions) -> object:
        rendered.append(r.host)
        return pl.pod_chain(r, options)

    monkeypatch.setattr("gateway.xds_text.pod_chain", chain)
    changed = replace(routes[3], status="STOPPED", upstream_port=0)
    text = renderer.render(table(*routes[:3], changed, *routes[4:], route("new")))
    assert sorted(rendered) == sorted([changed.host, route("new").host])
    expected = build_snapshot(table(*routes[:3], changed, *routes[4:], route("new")), OPTIONS)
    assert resources(text.lds) == plain(list(expected.listeners))
    assert resources(text.cds) == plain(list(expected.clusters))


def test_removed_routes_leave_the_files_and_the_cache() -> None:
    renderer = SnapshotRenderer(OPTIONS)
    renderer.render(table(route("web"), route("old")))
    text = renderer.render(table(route("web")))
    assert resources(text.cds) == plain(list(build_snapshot(table(route("web")), OPTIONS).clusters))
    assert "old" not in text.lds


def test_an_invalid_or_misfiled_route_is_refused() -> None:
    renderer = SnapshotRenderer(OPTIONS)
    bad = replace(route("evil"), host="Evil_Host!.pods.example.org")
    with pytest.raises(SnapshotError, match="not a valid DNS name"):
        renderer.render(RouteTable(routes={bad.host: bad}))
    with pytest.raises(SnapshotError, match="filed under"):
        renderer.render(RouteTable(routes={"other.pods.example.org": route("web")}))


def test_the_publisher_reads_the_version_from_the_head_of_the_file(tmp_path: Path) -> None:
    publisher = xds_files.Publisher(tmp_path, OPTIONS)
    result = publisher.publish(table(route("web")))
    cds_version, _rds, lds_version = result.version.split(".")
    assert xds_files.published_version(tmp_path / "lds.json") == lds_version
    assert xds_files.published_version(tmp_path / "cds.json") == cds_version
    assert xds_files.published_version(tmp_path / "missing.json") is None
    (tmp_path / "lds.json").write_text("{}")  # another writer's file: rewritten
    assert publisher.publish(table(route("web"))).changed == ("lds.json",)

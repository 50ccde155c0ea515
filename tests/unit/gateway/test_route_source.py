"""Pods become routes: one per routed stanza, serving only when AVAILABLE with a port."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from gateway.cluster import service_upstream
from gateway.route_source import routes_for
from gateway.routes import RouteTable
from services.common.pods_model import (
    ContainerStatus,
    NetworkStanza,
    PodRecord,
    PodSpec,
    RequestedStatus,
    Status,
)
from services.common.runtime.types import PodKey
from services.common.settings import Settings
from services.common.stanza_options import StanzaOptions

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def record(pod_id: str, status: Status, published: dict[int, int], **spec: object) -> PodRecord:
    return PodRecord(
        key=PodKey("dev", pod_id),
        owner="alice",
        spec=PodSpec(image="img", **spec),  # type: ignore[arg-type]
        status_requested=RequestedStatus.ON,
        status=status,
        status_container=ContainerStatus(published=published),
        generation=1,
        observed_generation=1,
        deletion_requested=False,
        has_credentials=False,
        action_logs=(),
        creation_ts=NOW,
        update_ts=NOW,
        status_changed_ts=NOW,
    )


def test_an_available_http_pod_serves_its_published_port() -> None:
    (route,) = routes_for([record("web", Status.AVAILABLE, {5000: 32001})], "pods.example.org")
    assert route.host == "web.pods.example.org"
    assert (route.protocol, route.upstream_host, route.upstream_port) == (
        "http",
        "127.0.0.1",
        32001,
    )
    assert route.serving


def test_other_stanzas_get_their_own_names_and_local_only_gets_none() -> None:
    networking = {
        "default": NetworkStanza("http", 5000),
        "admin": NetworkStanza("tcp", 7000),
        "hidden": NetworkStanza("local_only", 9000),
    }
    routes = routes_for(
        [record("app", Status.AVAILABLE, {5000: 1, 7000: 2}, networking=networking)], "d.org"
    )
    assert sorted((r.host, r.protocol) for r in routes) == [
        ("app-admin.d.org", "tcp"),
        ("app.d.org", "http"),
    ]


def test_each_stanzas_route_carries_its_own_options_and_port() -> None:
    guarded = StanzaOptions(ip_allow_list=("10.0.0.0/8",))
    networking = {
        "default": NetworkStanza("http", 5000),
        "api": NetworkStanza("http", 8000, options=guarded),
    }
    routes = routes_for(
        [record("app", Status.AVAILABLE, {5000: 1, 8000: 2}, networking=networking)], "d.org"
    )
    by_host = {r.host: r for r in routes}
    assert by_host["app.d.org"].options == StanzaOptions()
    assert by_host["app.d.org"].upstream_port == 1
    assert by_host["app-api.d.org"].options == guarded
    assert by_host["app-api.d.org"].upstream_port == 2


def test_a_creating_pod_has_a_route_that_does_not_serve() -> None:
    (route,) = routes_for([record("web", Status.CREATING, {})], "d.org")
    assert not route.serving and route.status == "CREATING"


def test_pods_being_deleted_have_no_route() -> None:
    deleting = replace(record("web", Status.AVAILABLE, {5000: 1}), deletion_requested=True)
    assert routes_for([deleting], "d.org") == []


def test_the_table_rejects_invalid_routes_without_dropping_the_others() -> None:
    good = record("web", Status.AVAILABLE, {5000: 1})
    routes = routes_for([good], "d.org")
    bad = replace(routes[0], host="UPPER..bad", pod_id="x")
    table = RouteTable.build([*routes, bad])
    assert list(table.routes) == ["web.d.org"]
    assert table.rejected and "UPPER" in table.rejected[0]
    assert table.lookup("WEB.d.org.") is table.routes["web.d.org"]


def test_in_a_cluster_pods_are_reached_through_their_service() -> None:
    settings = Settings(runtime="kubernetes", deployment_id="prod", k8s_namespace="pods")
    (route,) = routes_for(
        [record("web", Status.AVAILABLE, {})], "pods.example.org", service_upstream(settings)
    )
    assert route.upstream_host.endswith(".pods.svc.cluster.local")
    assert route.upstream_port == 5000
    assert route.serving

"""Only pods with tapis_auth get the login check (gateway/pod_login.py): their connection
manager asks the api's Authorization service with the pod named by the route, the check's
cluster is published while such a pod serves, and every other pod's chain is unchanged. The
REST listener sends only the authorize page to the check."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from google.protobuf import json_format

from gateway import pod_login
from gateway import pods_listener as pl
from gateway.pods_listener import build_snapshot
from gateway.rest_listener import rest_listener
from gateway.routes import RouteTable
from tests.unit.gateway.pods_support import DOMAIN, OPTIONS, plain, route, table


def connection_manager(routes: RouteTable, host: str) -> dict[str, Any]:
    listener = plain(pl.pods_listener(routes, OPTIONS))
    (chain,) = [c for c in listener["filter_chains"] if c["name"] == host]
    manager: dict[str, Any] = chain["filters"][0]["typed_config"]
    return manager


def test_a_pod_with_tapis_auth_is_checked_with_its_own_identity() -> None:
    routes = table(replace(route("private"), tapis_auth=True), route("public"))
    manager = connection_manager(routes, f"private.{DOMAIN}")
    names = [f["name"] for f in manager["http_filters"]]
    assert names == ["envoy.filters.http.ext_authz", "envoy.filters.http.router"]
    config = manager["http_filters"][0]["typed_config"]
    assert config["grpc_service"]["envoy_grpc"] == {"cluster_name": "pod_login"}
    assert config["failure_mode_allow"] is False
    (served,) = manager["route_config"]["virtual_hosts"][0]["routes"]
    context = served["typed_per_filter_config"]["envoy.filters.http.ext_authz"]["check_settings"][
        "context_extensions"
    ]
    assert context == {
        "kind": "pod",
        "tenant_id": "dev",
        "pod_id": "private",
        "stanza": "default",
        "host": f"private.{DOMAIN}",
    }


def test_a_pod_without_tapis_auth_has_no_check() -> None:
    routes = table(replace(route("private"), tapis_auth=True), route("public"))
    manager = connection_manager(routes, f"public.{DOMAIN}")
    assert [f["name"] for f in manager["http_filters"]] == ["envoy.filters.http.router"]
    assert "typed_per_filter_config" not in manager["route_config"]["virtual_hosts"][0]["routes"][0]


def test_the_checks_cluster_exists_while_a_pod_with_tapis_auth_serves() -> None:
    def cluster_names(*routes: Any) -> list[str]:
        return [str(c["name"]) for c in build_snapshot(table(*routes), OPTIONS).clusters]

    assert pod_login.LOGIN_CLUSTER in cluster_names(replace(route("a"), tapis_auth=True))
    assert pod_login.LOGIN_CLUSTER not in cluster_names(route("a"))
    down = replace(route("a", status="CREATING", upstream_port=0), tapis_auth=True)
    assert pod_login.LOGIN_CLUSTER not in cluster_names(down)


def test_the_login_filter_parses_as_envoys_own_types() -> None:
    from envoy.extensions.filters.http.ext_authz.v3 import ext_authz_pb2

    config = plain(pod_login.login_filter("api", disabled=True, with_form=True))
    parsed = json_format.ParseDict(
        {k: v for k, v in config["typed_config"].items() if k != "@type"}, ext_authz_pb2.ExtAuthz()
    )
    assert parsed.with_request_body.max_request_bytes == pod_login.MAX_FORM_BYTES
    per_route = plain(pod_login.authorize_routes("api")[0]["typed_per_filter_config"])
    route_config = per_route["envoy.filters.http.ext_authz"]
    json_format.ParseDict(
        {k: v for k, v in route_config.items() if k != "@type"}, ext_authz_pb2.ExtAuthzPerRoute()
    )


def test_the_rest_listener_checks_the_authorize_page_only() -> None:
    listener = plain(rest_listener("/pods.pb", 8080))
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    (check,) = [f for f in manager["http_filters"] if f["name"] == "envoy.filters.http.ext_authz"]
    assert check["disabled"] is True
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    enabled = [
        r["name"]
        for r in routes
        if "envoy.filters.http.ext_authz" in r.get("typed_per_filter_config", {})
    ]
    assert enabled == ["oauth2-authorize"]


def test_the_login_check_itself_is_not_reachable_through_the_gateway() -> None:
    listener = plain(rest_listener("/pods.pb", 8080))
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    prefixes = [r["match"].get("prefix", "") for r in routes]
    assert not any(p.startswith("/envoy.") for p in prefixes)


def test_a_stanza_with_tapis_auth_makes_a_route_with_a_login() -> None:
    from gateway.route_source import routes_for
    from services.common.pod_auth_model import TapisAuth
    from services.common.pods_model import NetworkStanza, Status
    from tests.unit.gateway.test_route_source import record

    networking = {
        "default": NetworkStanza("http", 5000, TapisAuth(enabled=True)),
        "open": NetworkStanza("http", 7000),
    }
    pod = record("app", Status.AVAILABLE, {5000: 1, 7000: 2}, networking=networking)
    logins = {r.stanza: r.tapis_auth for r in routes_for([pod], DOMAIN)}
    assert logins == {"default": True, "open": False}

"""Unit tests of the pure Envoy bootstrap builders (gateway/envoy_config.py, the REST listener
and its routes: gateway/rest_listener.py, gateway/rest_routes.py, gateway/envoy_parts.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2, json_format

from gateway import envoy_config as ec
from gateway import envoy_parts, hardening, public_api, rest_listener, rest_routes
from gateway.descriptor import build_descriptor_set
from gateway.envoy_config import GatewayOptions, gateway_bootstrap
from gateway.public_api import PUBLIC_SERVICES, STREAMS_SERVICE

DESCRIPTOR = Path("/data/gateway/pods.pb")


def _options(**overrides: Any) -> GatewayOptions:
    values: dict[str, Any] = {
        "descriptor_path": DESCRIPTOR,
        "port": 8080,
        "admin_port": 9901,
        "api_port": 50051,
    }
    values.update(overrides)
    return GatewayOptions(**values)


@pytest.fixture
def config() -> dict[str, Any]:
    # A JSON round trip gives plain dicts and lists and proves the bootstrap serializes.
    result: dict[str, Any] = json.loads(json.dumps(gateway_bootstrap(_options())))
    return result


def _listener(config: dict[str, Any]) -> dict[str, Any]:
    listeners: list[dict[str, Any]] = config["static_resources"]["listeners"]
    (listener,) = listeners
    return listener


def _hcm(config: dict[str, Any]) -> dict[str, Any]:
    (chain,) = _listener(config)["filter_chains"]
    (hcm,) = chain["filters"]
    assert hcm["name"] == "envoy.filters.network.http_connection_manager"
    result: dict[str, Any] = hcm["typed_config"]
    return result


def _routes(config: dict[str, Any]) -> list[dict[str, Any]]:
    (vhost,) = _hcm(config)["route_config"]["virtual_hosts"]
    assert vhost["domains"] == ["*"]
    routes: list[dict[str, Any]] = vhost["routes"]
    return routes


def _transcoder(config: dict[str, Any]) -> dict[str, Any]:
    filters = {f["name"]: f for f in _hcm(config)["http_filters"]}
    result: dict[str, Any] = filters["envoy.filters.http.grpc_json_transcoder"]["typed_config"]
    return result


def _route_for(config: dict[str, Any], path: str, *, grpc: bool) -> dict[str, Any]:
    """The first route Envoy would pick (a GET, for REST), for the matchers this builder uses."""
    path, _, query = path.partition("?")
    parameters = dict(p.partition("=")[::2] for p in query.split("&") if p)
    for route in _routes(config):
        match = route["match"]
        wanted = {q["name"]: q["string_match"]["exact"] for q in match.get("query_parameters", ())}
        if any(parameters.get(name) != value for name, value in wanted.items()):
            continue
        methods = [h["string_match"]["exact"] for h in match.get("headers", ())]
        if methods and methods != ["GET"]:  # the body checks' routes (POST and PUT)
            continue
        if "prefix" in match and not path.startswith(match["prefix"]):
            continue
        if "path" in match and path != match["path"]:
            continue
        if "safe_regex" in match and not re.fullmatch(match["safe_regex"]["regex"], path):
            continue
        if "grpc" in match and not grpc:
            continue
        return route
    raise AssertionError(f"no route for {path}")


def test_admin_is_on_loopback(config: dict[str, Any]) -> None:
    assert config["admin"] == {
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 9901}},
        "ignore_global_conn_limit": True,
    }


def test_listener_binds_loopback_by_default_and_is_configurable(config: dict[str, Any]) -> None:
    assert _listener(config)["address"] == {
        "socket_address": {"address": "127.0.0.1", "port_value": 8080}
    }
    other = gateway_bootstrap(_options(bind_address="0.0.0.0", port=18080))
    assert _listener(json.loads(json.dumps(other)))["address"] == {
        "socket_address": {"address": "0.0.0.0", "port_value": 18080}
    }


def test_connection_manager_serves_http1_and_h2c_and_logs_to_stdout(
    config: dict[str, Any],
) -> None:
    hcm = _hcm(config)
    assert hcm["codec_type"] == "AUTO"
    assert hcm["normalize_path"] is True
    assert hcm["merge_slashes"] is True
    (log,) = hcm["access_log"]
    assert log["name"] == "envoy.access_loggers.stdout"
    assert log["typed_config"]["@type"].endswith("StdoutAccessLog")
    names = [f["name"] for f in hcm["http_filters"]]
    assert names == [
        "envoy.filters.http.ext_proc",  # the body check (gateway/body_checks.py)
        "envoy.filters.http.grpc_json_transcoder",
        "envoy.filters.http.ext_authz",  # off except on the login page (gateway/pod_login.py)
        "envoy.filters.http.router",
    ]


def test_transcoder_settings(config: dict[str, Any]) -> None:
    transcoder = _transcoder(config)
    assert transcoder["proto_descriptor"] == str(DESCRIPTOR)
    assert transcoder["services"] == [
        "pods.v1.PodsService",
        "pods.v1.TemplatesService",
        "pods.v1.TemplateTagsService",
        "pods.v1.VolumesService",
        "pods.v1.SnapshotsService",
        "pods.v1.IdentityService",
        "pods.v1.PodFilesService",
        "pods.v1.MiscService",
        "pods.v1.PodAuthService",
    ]
    assert transcoder["print_options"]["preserve_proto_field_names"] is True
    assert transcoder["print_options"]["always_print_primitive_fields"] is True
    assert transcoder["print_options"]["always_print_enums_as_ints"] is False
    assert transcoder["convert_grpc_status"] is True
    assert transcoder["match_incoming_request_route"] is True
    assert transcoder["max_response_body_size"] >= 32 * 1024 * 1024  # pod logs
    assert transcoder["request_validation_options"] == {
        "reject_unknown_method": True,
        "reject_unknown_query_parameters": True,
    }


def test_the_public_services_are_exactly_those_with_rest_bindings(tmp_path: Path) -> None:
    """A new service with google.api.http bindings must be listed in PUBLIC_SERVICES (or the
    gateway would neither transcode nor route it, and the security matrix would not see it);
    the one exception is the REST streams' service, transcoded on its own routes only."""
    built = build_descriptor_set(tmp_path / "pods.pb")
    files = descriptor_pb2.FileDescriptorSet.FromString(built.read_bytes()).file
    with_rest = {
        f"{f.package}.{s.name}"
        for f in files
        for s in f.service
        if any(m.options.HasExtension(annotations_pb2.http) for m in s.method)
    }
    assert with_rest == {*PUBLIC_SERVICES, STREAMS_SERVICE}


def test_internal_services_are_never_transcoded_or_routed(config: dict[str, Any]) -> None:
    text = json.dumps(config)
    assert "SpawnerService" not in text
    assert "HealthService" not in text
    for path in ("/pods.v1.SpawnerService/ReconcilePod", "/pods.v1.HealthService/Resync"):
        for grpc in (True, False):
            route = _route_for(config, path, grpc=grpc)
            assert route["name"] == "not-found"
            assert route["direct_response"]["status"] == 404
            assert "route" not in route


@pytest.mark.parametrize(
    ("path", "grpc", "name"),
    [
        ("/v3/pods", False, "rest"),
        ("/v3/pods?watch=false", False, "rest"),
        ("/v3/pods?watch=true", False, "rest-watch-pods"),
        ("/v3/pods/?watch=true", False, "rest-watch-pods"),
        ("/v3/pods/abc/logs", False, "rest-logs"),
        ("/v3/pods/abc/logs?previous=1", False, "rest-logs"),
        ("/v3/pods/abc/logs?follow=true", False, "rest-logs"),
        ("/v3/pods/abc/events", False, "rest-watch-pod"),
        ("/v3/pods/volumes/events", False, "rest-not-a-pod"),  # volume "events"
        ("/v3/pods/templates/logs?follow=true", False, "rest-not-a-pod"),
        ("/v3/pods/volumes/v1/contents/events", False, "rest-download"),
        ("/pods.v1.PodsService/WatchPod", True, "grpc-stream:WatchPod"),
        ("/pods.v1.PodsService/WatchPods", True, "grpc-stream:WatchPods"),
        ("/pods.v1.PodsService/FollowPodLogs", True, "grpc-stream:FollowPodLogs"),
        ("/pods.v1.PodStreamsService/StreamPodEvents", True, "not-found"),
        ("/v3/pods/abc/exec", False, "rest-exec"),
        ("/v3/pods/abc/exec/", False, "rest-exec"),
        ("/v3/pods/abc/exec/x", False, "rest"),
        ("/pods.v1.PodsService/ExecPodCommands", True, "grpc-exec:ExecPodCommands"),
        ("/pods.v1.PodsService/ExecPod", True, "grpc-exec:ExecPod"),
        ("/pods.v1.PodsService/ExecPodX", True, "grpc:pods.v1.PodsService"),
        ("/v3/pods/volumes/v1/contents/a/b.bin", False, "rest-download"),
        ("/v3/pods/snapshots/s1/contents/f", False, "rest-download"),
        ("/v3/pods/volumes/v1/list", False, "rest"),
        ("/v3/pods/abc/contents/f", False, "rest"),
        ("/pods.v1.VolumesService/GetVolumeContents", True, "grpc-download:GetVolumeContents"),
        (
            "/pods.v1.SnapshotsService/GetSnapshotContents",
            True,
            "grpc-download:GetSnapshotContents",
        ),
        ("/pods.v1.PodsService/GetVolumeContents", True, "grpc:pods.v1.PodsService"),
        ("/v3/oauth2/tokens", False, "rest"),
        ("/pods.v1.PodsService/ListPods", True, "grpc:pods.v1.PodsService"),
        ("/pods.v1.IdentityService/ListSites", True, "grpc:pods.v1.IdentityService"),
        ("/pods.v1.TemplatesService/ListImages", True, "grpc:pods.v1.TemplatesService"),
        ("/pods.v1.VolumesService/ListVolumes", True, "grpc:pods.v1.VolumesService"),
        ("/pods.v1.SnapshotsService/ListSnapshots", True, "grpc:pods.v1.SnapshotsService"),
        ("/pods.v1.PodsService/ListPods", False, "not-found"),
        ("/v2/pods", False, "not-found"),
        ("/v3", False, "not-found"),
        ("/", False, "not-found"),
        ("/healthz", True, "not-found"),
        # The api serves Envoy's body check (gateway/body_checks.py) for Envoy only.
        ("/envoy.service.ext_proc.v3.ExternalProcessor/Process", True, "not-found"),
    ],
)
def test_route_selection(config: dict[str, Any], path: str, grpc: bool, name: str) -> None:
    assert _route_for(config, path, grpc=grpc)["name"] == name


def test_every_api_route_has_a_timeout(config: dict[str, Any]) -> None:
    routes = {r["name"]: r for r in _routes(config)}
    assert routes["rest"]["match"] == {"prefix": "/v3/"}
    assert routes["rest"]["route"] == {"cluster": "api", "timeout": "60s"}
    for service in PUBLIC_SERVICES:
        route = routes[f"grpc:{service}"]
        assert route["match"] == {"prefix": f"/{service}/", "grpc": {}}
        # The client's gRPC deadline rules native calls, up to the longest call; without one
        # the stream gets the REST timeout (Envoy ignores `timeout` for gRPC here).
        assert route["route"] == {
            "cluster": "api",
            "timeout": "60s",
            "max_stream_duration": {
                "max_stream_duration": "60s",
                "grpc_timeout_header_max": "3660s",
            },
        }
    for name in ("rest-exec", "grpc-exec:ExecPodCommands", "grpc-exec:ExecPod"):
        route = routes[name]["route"]
        assert route["timeout"] == route["idle_timeout"] == "3660s"
    for name in ("grpc-exec:ExecPodCommands", "grpc-exec:ExecPod"):
        assert routes[name]["route"]["max_stream_duration"]["max_stream_duration"] == "3660s"
    # Downloads stream for as long as bytes keep moving (up to the longest call).
    for name in ("rest-download", "grpc-download:GetVolumeContents"):
        route = routes[name]["route"]
        assert (route["timeout"], route["idle_timeout"]) == ("3660s", "60s")
    download = routes["grpc-download:GetSnapshotContents"]["route"]["max_stream_duration"]
    assert download["max_stream_duration"] == "3660s"
    assert _routes(config)[-1]["name"] == "not-found"


def test_streams_stay_open_past_the_rest_timeout_on_their_own_transcoder(
    config: dict[str, Any],
) -> None:
    routes = {r["name"]: r for r in _routes(config)}
    for name in ("rest-watch-pod", "rest-watch-pods", "rest-logs"):
        route = routes[name]
        # Keep-alive comments every 15 s keep a quiet stream within the idle timeout.
        assert (route["route"]["timeout"], route["route"]["idle_timeout"]) == ("86400s", "60s")
        assert route["match"]["headers"] == [{"name": ":method", "string_match": {"exact": "GET"}}]
        transcoder = route["typed_per_filter_config"]["envoy.filters.http.grpc_json_transcoder"]
        assert transcoder["services"] == [STREAMS_SERVICE]
    for name in ("WatchPod", "WatchPods", "FollowPodLogs"):
        route = routes[f"grpc-stream:{name}"]["route"]
        assert route["timeout"] == route["idle_timeout"] == "86400s"
        assert route["max_stream_duration"]["grpc_timeout_header_max"] == "86400s"
    listener_transcoder = json.dumps(_listener(config)["filter_chains"][0]["filters"][0])
    assert listener_transcoder.count(STREAMS_SERVICE) == 3  # only in the per-route configs


def test_exec_routes_outlast_the_longest_exec() -> None:
    from services.api.domain.execution import MAX_TOTAL_TIMEOUT

    assert public_api.LONG_CALL_TIMEOUT >= MAX_TOTAL_TIMEOUT + 30


def test_api_cluster_is_http2_to_the_api_port(config: dict[str, Any]) -> None:
    (cluster,) = config["static_resources"]["clusters"]
    assert cluster["name"] == "api"
    assert cluster["type"] == "STATIC"
    assert cluster["connect_timeout"] == "5s"
    options = cluster["typed_extension_protocol_options"][envoy_parts.HTTP_OPTIONS_KEY]
    assert "http2_protocol_options" in options["explicit_http_config"]
    (group,) = cluster["load_assignment"]["endpoints"]
    (endpoint,) = group["lb_endpoints"]
    assert endpoint["endpoint"]["address"] == {
        "socket_address": {"address": "127.0.0.1", "port_value": 50051}
    }


def test_api_cluster_resolves_host_names() -> None:
    cluster = envoy_parts.grpc_cluster("api", "pods-api.pods.svc", 50051)
    assert cluster["type"] == "STRICT_DNS"


def _api_mappers(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The local-reply mappers after the web console's pass-through (gateway/console_routes.py)."""
    console, *mappers = _hcm(config)["local_reply_config"]["mappers"]
    assert console["filter"]["header_filter"]["header"]["name"] == ":path"
    return list(mappers)


def test_local_replies_to_rest_become_json_with_a_message(config: dict[str, Any]) -> None:
    mappers = _api_mappers(config)
    served, *mappers = mappers
    # 200s are files Envoy serves (the API description, /docs/): their body stays.
    assert served == {"filter": rest_routes._status_is(200)}
    formats = [m["body_format_override"] for m in mappers]
    for fmt in formats:
        assert fmt["content_type"] == "application/json"
        assert fmt["json_format"]["message"].endswith("%LOCAL_REPLY_BODY%")
        assert fmt["json_format"]["details"] == []
    # Body errors first, with a prefix naming the problem.
    assert formats[0]["json_format"] == {
        "code": 3,
        "message": "Invalid request body: %LOCAL_REPLY_BODY%",
        "details": [],
    }
    codes = dict(rest_routes.LOCAL_REPLY_CODES)
    assert codes[400] == 3
    assert codes[404] == 5
    assert codes[503] == 14
    assert formats[-1]["json_format"]["code"] == rest_routes.UNKNOWN_CODE


def test_local_reply_mappers_leave_native_grpc_alone(config: dict[str, Any]) -> None:
    mappers = _api_mappers(config)
    _served, *mappers = mappers
    assert "body_format" not in _hcm(config)["local_reply_config"]
    not_grpc: dict[str, Any] = rest_routes._not_native_grpc()
    for mapper in mappers[1:-1]:
        assert not_grpc in mapper["filter"]["and_filter"]["filters"]
    assert mappers[-1]["filter"] == not_grpc
    header = not_grpc["or_filter"]["filters"][0]["header_filter"]["header"]
    assert header["name"] == "content-type"
    assert header["invert_match"] is True
    assert header["treat_missing_header_as_empty"] is True


def test_bootstrap_composes_extra_listeners_and_clusters() -> None:
    extra_cluster = envoy_parts.grpc_cluster("other", "127.0.0.1", 6000)
    extra_listener = envoy_parts.listener("tls", "0.0.0.0", 8443, [])
    config = ec.bootstrap(
        admin_port=9901,
        listeners=[rest_listener.rest_listener(DESCRIPTOR, 8080), extra_listener],
        clusters=[envoy_parts.grpc_cluster("api", "127.0.0.1", 50051), extra_cluster],
    )
    resources = config["static_resources"]
    assert isinstance(resources, dict)
    assert [item["name"] for item in resources["listeners"]] == ["rest", "tls"]
    assert [item["name"] for item in resources["clusters"]] == ["api", "other"]


def test_bootstrap_matches_envoys_schema(config: dict[str, Any]) -> None:
    """Parses the bootstrap as Envoy's own protobuf types (xds-protos): no unknown fields."""
    bootstrap_pb2 = pytest.importorskip("envoy.config.bootstrap.v3.bootstrap_pb2")
    from envoy.config.route.v3 import route_components_pb2  # noqa: F401
    from envoy.extensions.access_loggers.stream.v3 import stream_pb2  # noqa: F401
    from envoy.extensions.filters.http.ext_authz.v3 import ext_authz_pb2  # noqa: F401
    from envoy.extensions.filters.http.ext_proc.v3 import ext_proc_pb2  # noqa: F401
    from envoy.extensions.filters.http.grpc_json_transcoder.v3 import transcoder_pb2  # noqa: F401
    from envoy.extensions.filters.http.router.v3 import router_pb2  # noqa: F401
    from envoy.extensions.filters.network.http_connection_manager.v3 import (  # noqa: F401
        http_connection_manager_pb2,
    )
    from envoy.extensions.resource_monitors.downstream_connections.v3 import (  # noqa: F401
        downstream_connections_pb2,
    )
    from envoy.extensions.resource_monitors.fixed_heap.v3 import fixed_heap_pb2  # noqa: F401
    from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2  # noqa: F401

    message = json_format.ParseDict(config, bootstrap_pb2.Bootstrap())
    assert message.admin.address.socket_address.port_value == 9901


@pytest.mark.parametrize(("seconds", "text"), [(5, "5s"), (0, "0s"), (0.25, "0.250s")])
def test_duration(seconds: float, text: str) -> None:
    assert hardening.duration(seconds) == text


def test_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="port"):
        envoy_parts.socket_address("127.0.0.1", 70000)
    with pytest.raises(ValueError, match="port"):
        envoy_parts.socket_address("127.0.0.1", 0)
    with pytest.raises(ValueError, match="negative"):
        hardening.duration(-1)

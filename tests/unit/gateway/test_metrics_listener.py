"""Envoy's statistics on their own metrics port (gateway/metrics_listener.py, added to the
bootstrap by gateway/envoy_config.py when PODS_GATEWAY_METRICS_PORT is set)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from gateway.envoy_config import GatewayOptions, gateway_bootstrap
from gateway.metrics_listener import ADMIN_CLUSTER, METRICS_LISTENER


def bootstrap(**overrides: Any) -> dict[str, Any]:
    options = GatewayOptions(
        descriptor_path=Path("/data/gateway/pods.pb"),
        port=8080,
        admin_port=9901,
        api_port=50051,
        **overrides,
    )
    result: dict[str, Any] = json.loads(json.dumps(gateway_bootstrap(options)))
    return result


def named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (item,) = [i for i in items if i["name"] == name]
    return item


def test_no_metrics_port_no_metrics_listener() -> None:
    resources = bootstrap()["static_resources"]
    assert [listener["name"] for listener in resources["listeners"]] == ["rest"]
    assert ADMIN_CLUSTER not in [cluster["name"] for cluster in resources["clusters"]]


def test_metrics_is_the_admin_interfaces_prometheus_stats() -> None:
    resources = bootstrap(metrics_port=9464, metrics_address="10.0.0.5")["static_resources"]
    listener = named(resources["listeners"], METRICS_LISTENER)
    assert listener["address"]["socket_address"] == {"address": "10.0.0.5", "port_value": 9464}
    (chain,) = listener["filter_chains"]
    (hcm,) = chain["filters"]
    (vhost,) = hcm["typed_config"]["route_config"]["virtual_hosts"]
    assert vhost["routes"] == [
        {
            "match": {"path": "/metrics"},
            "route": {"cluster": ADMIN_CLUSTER, "prefix_rewrite": "/stats/prometheus"},
        }
    ]  # only /metrics: nothing else of the admin interface is reachable through it
    admin = named(resources["clusters"], ADMIN_CLUSTER)
    (endpoints,) = admin["load_assignment"]["endpoints"]
    (endpoint,) = endpoints["lb_endpoints"]
    assert endpoint["endpoint"]["address"]["socket_address"] == {
        "address": "127.0.0.1",
        "port_value": 9901,
    }


def test_the_bootstrap_with_metrics_matches_envoys_schema() -> None:
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

    message = json_format.ParseDict(bootstrap(metrics_port=9464), bootstrap_pb2.Bootstrap())
    assert [listener.name for listener in message.static_resources.listeners] == [
        "rest",
        METRICS_LISTENER,
    ]

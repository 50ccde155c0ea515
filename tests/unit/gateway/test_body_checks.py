"""The REST listener hands the raw bodies of pod and template create/update calls to the api
before transcoding (gateway/body_checks.py), and only those: the external processing filter
is off by default and switched on by those routes, which go where the generic REST route
goes."""

from __future__ import annotations

from typing import Any

from gateway import body_checks
from gateway.rest_listener import rest_listener
from tests.unit.gateway.pods_support import plain

ENABLED_TYPE = "type.googleapis.com/envoy.config.route.v3.FilterConfig"


def hcm() -> dict[str, Any]:
    listener = plain(rest_listener("/descriptor.pb", 8080))
    config: dict[str, Any] = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return config


def routes() -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = hcm()["route_config"]["virtual_hosts"][0]["routes"]
    return result


def test_the_filter_is_before_the_transcoder_and_off_by_default() -> None:
    filters = hcm()["http_filters"]
    names = [f["name"] for f in filters]
    assert names.index("envoy.filters.http.ext_proc") < names.index(
        "envoy.filters.http.grpc_json_transcoder"
    )
    ext_proc = filters[names.index("envoy.filters.http.ext_proc")]
    assert ext_proc["disabled"] is True
    config = ext_proc["typed_config"]
    assert config["grpc_service"]["envoy_grpc"] == {"cluster_name": "api"}
    assert config["processing_mode"]["request_header_mode"] == "SKIP"
    assert config["processing_mode"]["request_body_mode"] == "BUFFERED"
    assert config["failure_mode_allow"] is False
    assert config["status_on_error"] == {"code": 503}  # the api killed mid-check: retry


def test_create_and_update_of_pods_and_templates_switch_it_on_and_go_where_rest_goes() -> None:
    by_name = {r["name"]: r for r in routes()}
    order = [r["name"] for r in routes()]
    checked = [name for name in order if name.startswith("rest-checked:")]
    assert checked == [
        "rest-checked:create-pod",
        "rest-checked:update-pod",
        "rest-checked:create-template",
        "rest-checked:update-template",
    ]
    assert order.index(checked[-1]) + 1 == order.index("rest")
    for name in checked:
        route = by_name[name]
        assert route["route"] == by_name["rest"]["route"]
        enabled = route["typed_per_filter_config"]["envoy.filters.http.ext_proc"]
        assert enabled["@type"] == ENABLED_TYPE
    create = by_name["rest-checked:create-pod"]["match"]
    assert create == {
        "path": "/v3/pods",
        "headers": [{"name": ":method", "string_match": {"exact": "POST"}}],
    }
    update = by_name["rest-checked:update-pod"]["match"]
    assert update["safe_regex"] == {"regex": "^/v3/pods/[^/]+$"}
    assert update["headers"] == [{"name": ":method", "string_match": {"exact": "PUT"}}]


def test_no_rest_route_no_checked_routes() -> None:
    assert body_checks.with_body_checks([{"name": "other"}]) == [{"name": "other"}]


def test_without_the_pods_service_there_is_no_body_check() -> None:
    listener = plain(rest_listener("/d.pb", 8080, services=["pods.v1.IdentityService"]))
    config = listener["filter_chains"][0]["filters"][0]["typed_config"]
    assert "envoy.filters.http.ext_proc" not in [f["name"] for f in config["http_filters"]]

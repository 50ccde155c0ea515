"""Unit tests of the gateway's hardening (gateway/hardening.py), TLS on the REST port
(gateway/envoy_config.py, gateway/rest_listener.py, gateway/public_tls.py) and the
certificates it uses (gateway/certs.py).
What Envoy does with all this is checked in tests/integration/gateway/test_gateway_hardening.py."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import pytest

from gateway import envoy_parts, hardening
from gateway.certs import api_tls_files, certificate_names, ensure_dev_certificates, names_host
from gateway.envoy_config import GatewayOptions, gateway_bootstrap
from gateway.hardening import Limits
from gateway.public_tls import rest_tls
from gateway.rest_listener import RestTls
from services.common.settings import Settings, SettingsError

DESCRIPTOR = Path("/data/gateway/pods.pb")


def _bootstrap(**overrides: Any) -> dict[str, Any]:
    options = GatewayOptions(
        descriptor_path=DESCRIPTOR, port=8080, admin_port=9901, api_port=50051, **overrides
    )
    result: dict[str, Any] = json.loads(json.dumps(gateway_bootstrap(options)))
    return result


def _listener(config: dict[str, Any]) -> dict[str, Any]:
    (listener,) = config["static_resources"]["listeners"]
    return listener


def test_api_connection_manager_is_hardened() -> None:
    (chain,) = _listener(_bootstrap())["filter_chains"]
    hcm = chain["filters"][0]["typed_config"]
    assert hcm["max_request_headers_kb"] == 32
    assert hcm["request_headers_timeout"] == "10s"
    assert hcm["request_timeout"] == "300s"
    assert hcm["stream_idle_timeout"] == "300s"
    assert hcm["use_remote_address"] is True
    assert hcm["xff_num_trusted_hops"] == 0
    assert hcm["common_http_protocol_options"] == {
        "idle_timeout": "300s",
        "max_headers_count": 64,
        "headers_with_underscores_action": "REJECT_REQUEST",
    }
    assert hcm["http2_protocol_options"] == {
        "max_concurrent_streams": 100,
        "initial_stream_window_size": 65536,
        "initial_connection_window_size": 1048576,
    }


def test_overload_manager_limits_connections_and_heap() -> None:
    config = _bootstrap(limits=Limits(max_connections=7, max_heap_bytes=256 * 1024 * 1024))
    overload = config["overload_manager"]
    monitors = {m["name"]: m["typed_config"] for m in overload["resource_monitors"]}
    assert monitors[hardening.GLOBAL_CONNECTIONS]["max_active_downstream_connections"] == 7
    assert monitors[hardening.FIXED_HEAP]["max_heap_size_bytes"] == 256 * 1024 * 1024
    actions = {a["name"]: a["triggers"][0]["threshold"]["value"] for a in overload["actions"]}
    assert actions == {
        "envoy.overload_actions.shrink_heap": 0.95,
        "envoy.overload_actions.stop_accepting_requests": 0.98,
    }


def test_access_log_is_json_without_headers_that_carry_tokens_or_query_strings() -> None:
    log = envoy_parts.stdout_access_log()
    fields = log["typed_config"]["log_format"]["json_format"]  # type: ignore[index]
    text = json.dumps(fields).lower()
    for secret in ("token", "authorization", "cookie", "x-envoy-original-path)", "%req(:path)"):
        assert secret not in text
    assert fields["path"] == "%PATH(NQ:ORIG_OR_PATH)%"  # NQ: no query string


def test_plain_http_listener_by_default() -> None:
    listener = _listener(_bootstrap())
    assert "listener_filters" not in listener
    (chain,) = listener["filter_chains"]
    assert "transport_socket" not in chain


def test_tls_listener_serves_https_and_refuses_plaintext(tmp_path: Path) -> None:
    files = api_tls_files(tmp_path, "api.example.org")
    listener = _listener(_bootstrap(tls=RestTls(files, "https://api.example.org")))
    assert [f["name"] for f in listener["listener_filters"]] == [
        "envoy.filters.listener.tls_inspector"
    ]
    https, plaintext = listener["filter_chains"]
    assert https["filter_chain_match"] == {"transport_protocol": "tls"}
    common = https["transport_socket"]["typed_config"]["common_tls_context"]
    assert common["alpn_protocols"] == ["h2", "http/1.1"]
    assert common["tls_params"]["tls_minimum_protocol_version"] == "TLSv1_2"
    assert all(c.startswith("ECDHE-") for c in common["tls_params"]["cipher_suites"])
    assert all("GCM" in c or "CHACHA20" in c for c in common["tls_params"]["cipher_suites"])
    assert common["tls_certificates"][0]["certificate_chain"] == {"filename": str(files.cert)}
    assert https["filters"][0]["typed_config"]["stat_prefix"] == "rest"
    assert plaintext["filter_chain_match"] == {"transport_protocol": "raw_buffer"}
    refusal = plaintext["filters"][0]["typed_config"]
    (vhost,) = refusal["route_config"]["virtual_hosts"]
    (route,) = vhost["routes"]
    assert route["direct_response"]["status"] == 400
    assert "https://api.example.org" in route["direct_response"]["body"]["inline_string"]
    assert "route" not in route  # never forwarded


def test_dev_api_certificate_names_the_public_host_and_loopback(tmp_path: Path) -> None:
    files = api_tls_files(tmp_path, "api.example.org")
    assert files.ca == tmp_path / "ca.pem"
    names = certificate_names(files.cert)
    assert names == ["api.example.org", "localhost", "127.0.0.1", "::1"]
    pods = ensure_dev_certificates(tmp_path, "pods.example.org")
    assert pods.ca == files.ca  # one development CA for both ports
    assert api_tls_files(tmp_path, "api.example.org").cert.read_bytes() == files.cert.read_bytes()
    other = api_tls_files(tmp_path, "other.example.org")
    assert "other.example.org" in certificate_names(other.cert)


def test_operator_certificate_needs_both_files() -> None:
    with pytest.raises(ValueError, match="PODS_GATEWAY_TLS_CERT_FILE and PODS_GATEWAY_TLS_KEY"):
        api_tls_files(Path("/nowhere"), "h", cert_file="/x.pem")


@pytest.mark.parametrize(
    ("names", "host", "ok"),
    [
        (["pods.example.org"], "pods.example.org", True),
        (["*.example.org"], "pods.example.org", True),
        (["*.pods.example.org"], "pods.example.org", False),
        (["*.example.org"], "a.pods.example.org", False),
        (["127.0.0.1"], "127.0.0.1", True),
        (["POD.example.org"], "pod.example.org.", True),
    ],
)
def test_names_host(names: list[str], host: str, ok: bool) -> None:
    assert names_host(names, host) is ok


def test_rest_tls_from_settings(tmp_path: Path) -> None:
    assert rest_tls(Settings.from_env({}), tmp_path) is None
    settings = Settings.from_env({"PODS_GATEWAY_TLS": "1", "PODS_GATEWAY_PORT": "9443"})
    assert settings.public_url == "https://localhost:9443"
    tls = rest_tls(settings, tmp_path)
    assert tls is not None
    assert tls.public_url == "https://localhost:9443"
    assert "localhost" in certificate_names(tls.files.cert)


def test_rest_tls_refuses_an_http_public_url_or_a_certificate_for_another_host(
    tmp_path: Path,
) -> None:
    plain = Settings.from_env({"PODS_GATEWAY_TLS": "1", "PODS_PUBLIC_URL": "http://a.org"})
    with pytest.raises(ValueError, match=r"PODS_PUBLIC_URL .* must be an https:// URL"):
        rest_tls(plain, tmp_path)
    pods = ensure_dev_certificates(tmp_path, "pods.example.org")
    wrong = Settings.from_env(
        {
            "PODS_GATEWAY_TLS": "1",
            "PODS_PUBLIC_URL": "https://api.other.org",
            "PODS_TLS_CERT_FILE": str(pods.cert),
            "PODS_TLS_KEY_FILE": str(pods.key),
        }
    )
    with pytest.raises(ValueError, match=r"not the public host 'api\.other\.org'"):
        rest_tls(wrong, tmp_path)


def test_gateway_settings_are_parsed_and_checked() -> None:
    settings = Settings.from_env(
        {
            "PODS_GATEWAY_TLS": "true",
            "PODS_GATEWAY_MAX_CONNECTIONS": "50",
            "PODS_GATEWAY_MAX_HEAP_MB": "256",
        }
    )
    assert settings.gateway_tls is True
    assert Limits.from_settings(settings) == Limits(
        max_connections=50, max_heap_bytes=256 * 1024 * 1024
    )
    with pytest.raises(SettingsError, match="PODS_GATEWAY_TLS must be 1 or 0"):
        Settings.from_env({"PODS_GATEWAY_TLS": "maybe"})
    with pytest.raises(ValueError, match="PODS_GATEWAY_MAX_CONNECTIONS must be at least 1"):
        Limits.from_settings(Settings.from_env({"PODS_GATEWAY_MAX_CONNECTIONS": "0"}))
    with pytest.raises(ValueError, match="PODS_GATEWAY_MAX_HEAP_MB must be at least 64"):
        Limits.from_settings(Settings.from_env({"PODS_GATEWAY_MAX_HEAP_MB": "10"}))


def test_starttls_router_offers_only_the_gateways_ciphers(tmp_path: Path) -> None:
    from gateway.sni_gate import server_context

    tls = ensure_dev_certificates(tmp_path, "pods.example.org")
    context = server_context(tls, lambda *_: None)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    tls12 = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert tls12 == set(hardening.CIPHER_SUITES)

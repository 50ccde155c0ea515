"""The gateway's init container, as the production overlay renders it, run here with its
paths in a temporary directory: the Envoy bootstrap and route files it writes pass
`envoy --mode validate`, and they point where the Deployment mounts things."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gateway.certs import ensure_dev_certificates
from gateway.envoy_binary import find_envoy, validate_config

from .render import REPO, prepared_tree, render

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> list[Obj]:
    tree = prepared_tree(tmp_path_factory.mktemp("deploy"))
    return render(tree / "overlays" / "production")


def gateway_pod(objects: list[Obj]) -> Obj:
    deployment = next(
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "pods-gateway"
    )
    return dict(deployment["spec"]["template"]["spec"])


def test_the_rendered_bootstrap_passes_envoy_validate(objects: list[Obj], tmp_path: Path) -> None:
    pod = gateway_pod(objects)
    prepare = pod["initContainers"][0]
    settings = next(
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "pods-config"
    )
    env = {**settings["data"], **{e["name"]: e["value"] for e in prepare["env"]}}
    mounts = {m["mountPath"]: tmp_path / m["name"] for m in prepare["volumeMounts"]}
    for variable in ("PODS_GATEWAY_CONFIG_DIR", "PODS_DATA_DIR"):
        env[variable] = str(mounts[env[variable]])  # the same volume, here
    tls_dir = mounts[str(Path(env["PODS_TLS_CERT_FILE"]).parent)]
    env["PODS_TLS_CERT_FILE"] = str(tls_dir / "tls.crt")
    env["PODS_TLS_KEY_FILE"] = str(tls_dir / "tls.key")
    tls = ensure_dev_certificates(tmp_path / "ca", env["PODS_POD_DOMAIN"])
    tls_dir.mkdir()
    shutil.copyfile(tls.cert, tls_dir / "tls.crt")
    shutil.copyfile(tls.key, tls_dir / "tls.key")
    Path(env["PODS_GATEWAY_CONFIG_DIR"]).mkdir()

    assert prepare["command"] == ["python", "-m", "gateway", "--cluster-prepare"]
    result = subprocess.run(
        [sys.executable, *prepare["command"][1:]],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    config_path = Path(env["PODS_GATEWAY_CONFIG_DIR"]) / "envoy.yaml"
    validate_config(find_envoy(), config_path)

    # What Envoy is told matches what the Deployment provides.
    envoy = next(c for c in pod["containers"] if c["name"] == "envoy")
    assert envoy["args"][:2] == ["-c", "/etc/pods-gateway/envoy.yaml"]
    bootstrap = json.loads(config_path.read_text())
    text = config_path.read_text()
    assert "pods-api.pods-system.svc" in text
    assert str(Path(env["PODS_DATA_DIR"]) / "gateway" / "xds") in text
    listeners = bootstrap["static_resources"]["listeners"]
    ports = {item["address"]["socket_address"]["port_value"] for item in listeners}
    assert ports == {int(env["PODS_GATEWAY_PORT"]), int(env["PODS_GATEWAY_METRICS_PORT"])}
    assert {p["containerPort"] for p in envoy["ports"]} == {
        int(env["PODS_GATEWAY_PORT"]),
        int(env["PODS_PODS_PORT"]),
        int(env["PODS_GATEWAY_METRICS_PORT"]),
    }
    # Production serves the API over TLS with the mounted certificate, plain HTTP refused,
    # and Envoy's heap is held below the container's memory limit.
    (rest,) = [item for item in listeners if item["name"] != "metrics"]
    https, plaintext = rest["filter_chains"]
    common = https["transport_socket"]["typed_config"]["common_tls_context"]
    assert common["tls_certificates"][0]["certificate_chain"] == {
        "filename": env["PODS_TLS_CERT_FILE"]
    }
    assert plaintext["filter_chain_match"] == {"transport_protocol": "raw_buffer"}
    monitors = {
        m["name"]: m["typed_config"] for m in bootstrap["overload_manager"]["resource_monitors"]
    }
    heap = monitors["envoy.resource_monitors.fixed_heap"]["max_heap_size_bytes"]
    assert heap == int(env["PODS_GATEWAY_MAX_HEAP_MB"]) * 1024 * 1024
    published = (Path(env["PODS_DATA_DIR"]) / "gateway" / "xds" / "lds.json").read_text()
    assert f'"port_value":{env["PODS_PODS_PORT"]}' in published
    assert '"address":"0.0.0.0"' in published

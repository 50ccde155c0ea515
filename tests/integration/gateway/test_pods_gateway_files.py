"""`python -m gateway` serving pods published after it started, and the local and cluster
configurations passing `envoy --mode validate` (the pods listener's files, without pods).

Helpers are shared with test_pods_listener.py (tests/integration/gateway/pods_gateway_support.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gateway import envoy_config as ec
from gateway import xds_files
from gateway.__main__ import prepare
from gateway.certs import TlsFiles, tls_files
from gateway.descriptor import build_descriptor_set
from gateway.envoy_binary import (
    EnvoyConfigError,
    find_envoy,
    validate_config,
)
from gateway.pods_listener import (
    PodsListenerOptions,
    build_snapshot,
    cluster_listener_options,
)
from gateway.routes import RouteTable
from services.common.settings import Settings
from services.common.stanza_options import StanzaOptions
from tests.integration.gateway.pods_gateway_support import (
    DOMAIN,
    READY_TIMEOUT,
    REPO,
    Client,
    header_echo_pod,
    host,
    pod_route,
    until,
)
from tests.ports import reserve_ports as free_ports


@pytest.fixture(scope="module")
def header_pod() -> Iterator[int]:
    """An in-test HTTP 'pod' answering with the headers it received; yields its port."""
    with header_echo_pod() as port:
        yield port


# --- python -m gateway ---------------------------------------------------------------------------


def test_python_m_gateway_serves_pods_published_later(tmp_path: Path, header_pod: int) -> None:
    """The gateway starts with an empty pods listener; a route published afterwards (as the
    pod router does) is served without restarting Envoy."""
    gateway_port, admin_port, pods_port, router_port = free_ports(4)
    env = {
        **os.environ,
        "PODS_DATA_DIR": str(tmp_path),
        "PODS_GATEWAY_PORT": str(gateway_port),
        "PODS_GATEWAY_ADMIN_PORT": str(admin_port),
        "PODS_PODS_PORT": str(pods_port),
        "PODS_ROUTER_PORT": str(router_port),
        "PODS_POD_DOMAIN": DOMAIN,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    log = tmp_path / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway"], cwd=REPO, env=env, stdout=out, stderr=out
        )
    try:
        xds_dir = xds_files.xds_directory(tmp_path)

        def prepared() -> bool:
            if process.poll() is not None:
                pytest.fail(f"gateway exited:\n{log.read_text(errors='replace')}")
            return (xds_dir / "lds.json").is_file()

        # The gateway creates the development CA first; read it only once it is there.
        until(READY_TIMEOUT, prepared, "python -m gateway to publish its first snapshot")
        settings = Settings(
            data_dir=tmp_path, pods_port=pods_port, router_port=router_port, pod_domain=DOMAIN
        )
        options = xds_files.local_options(settings)
        assert options.tls.ca is not None
        client = Client(pods_port, options.tls.ca)

        def ready() -> bool:
            if process.poll() is not None:
                pytest.fail(f"gateway exited:\n{log.read_text(errors='replace')}")
            # Listening, and answering unknown names with the shared chain's 404.
            return client.get(host("headers")).status == 404

        until(READY_TIMEOUT, ready, "the pods listener of python -m gateway")
        table = RouteTable.build([pod_route("headers", "http", header_pod)])
        assert xds_files.publish(xds_dir, table, options).changed
        reply = until(5, lambda: client.get(host("headers")), "the published pod")
        assert reply.status == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- configurations pass envoy --mode validate ---------------------------------------------------


# A pod port's RBAC and CORS configuration (gateway/pod_policies.py) is validated with them.
GUARDED = StanzaOptions(
    ip_allow_list=("10.0.0.0/8", "2001:db8::/32"),
    cors_allow_origins=("https://app.example.org", "*"),
    cors_allow_methods=("GET",),
    cors_allow_headers=("X-Token",),
    cors_allow_credentials=True,
)


def full_table(upstream: Callable[[str], str]) -> RouteTable:
    return RouteTable.build(
        [
            replace(pod_route("web", "http", 5000, upstream_host=upstream("web")), options=GUARDED),
            replace(
                pod_route("graph2", "tcp", 7688, upstream_host=upstream("graph2")),
                options=StanzaOptions(ip_allow_list=("127.0.0.1",)),
            ),
            pod_route("webdown", "http", 0, status="CREATING"),
            pod_route("graph", "tcp", 7687, upstream_host=upstream("graph")),
            pod_route("db", "postgres", 5432, upstream_host=upstream("db")),
            pod_route("dbdown", "postgres", 5432, status="STOPPED"),
        ]
    )


def test_local_config_passes_envoy_validate(tmp_path: Path) -> None:
    envoy = find_envoy()
    settings = Settings(data_dir=tmp_path, pod_domain=DOMAIN)
    prepared = prepare(settings)
    validate_config(envoy, prepared.config)
    xds_files.validate_with_envoy(xds_files.read_published(prepared.xds_dir), envoy)
    options = xds_files.local_options(settings)
    snapshot = build_snapshot(full_table(lambda name: "127.0.0.1"), options)
    xds_files.validate_with_envoy(snapshot, envoy)


def test_production_config_passes_envoy_validate(tmp_path: Path) -> None:
    envoy = find_envoy()
    tls = tls_files(tmp_path / "tls", DOMAIN)
    cluster = ec.ClusterGateway(
        descriptor_path=build_descriptor_set(tmp_path / "pods.pb"),
        xds_dir=tmp_path / "xds",
        tls_cert=tls.cert,
        tls_key=tls.key,
    )
    options = cluster_listener_options(cluster)
    assert (options.port, options.router_host) == (443, "pods-router")
    table = full_table(lambda name: f"pods-{name}.pods.svc.cluster.local")
    # Envoy refuses to start (and to validate) a bootstrap whose LDS/CDS files are missing.
    assert xds_files.publish(cluster.xds_dir, table, options).published
    config = tmp_path / "envoy.yaml"
    config.write_text(xds_files.render(ec.cluster_bootstrap(cluster)))
    validate_config(envoy, config)

    published = xds_files.read_published(cluster.xds_dir)
    assert {c["type"] for c in published.clusters} == {"STRICT_DNS"}
    xds_files.validate_with_envoy(published, envoy)
    result = subprocess.run(
        [sys.executable, "-m", "gateway.xds_files", str(cluster.xds_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout


def test_envoy_validation_catches_what_the_structural_check_cannot(tmp_path: Path) -> None:
    tls = tls_files(tmp_path / "tls", DOMAIN)
    missing = TlsFiles(cert=tmp_path / "no-such.pem", key=tls.key, ca=None)
    options = PodsListenerOptions(port=8443, tls=missing, router_port=50054)
    snapshot = build_snapshot(full_table(lambda name: "127.0.0.1"), options)
    xds_files.check_snapshot(snapshot)  # structurally fine
    with pytest.raises(EnvoyConfigError, match=r"no-such\.pem"):
        xds_files.validate_with_envoy(snapshot)

"""A bare Envoy for gateway_throughput.py: one TLS listener on a free loopback port, terminating
with the stack's pods certificate (so a client verifies it against the stack's CA), one HTTP
route to one static upstream; no access log, no policies, no route or listener discovery.
What any Envoy-based HTTPS gateway costs at least on this machine: the floor against which
the pods port's own configuration is measured.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _common import free_port

from gateway.envoy_binary import find_envoy
from tests.ports import release_port

TYPES = "type.googleapis.com/envoy.extensions."


def _config(port: int, tls_dir: Path, upstream_port: int) -> dict[str, Any]:
    address = {"socket_address": {"address": "127.0.0.1", "port_value": port}}
    tls = {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": TYPES + "transport_sockets.tls.v3.DownstreamTlsContext",
            "common_tls_context": {
                "tls_certificates": [
                    {
                        "certificate_chain": {"filename": str(tls_dir / "pods.pem")},
                        "private_key": {"filename": str(tls_dir / "pods-key.pem")},
                    }
                ],
                "alpn_protocols": ["http/1.1"],
            },
        },
    }
    manager = {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": TYPES + "filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "bare",
            "route_config": {
                "virtual_hosts": [
                    {
                        "name": "pod",
                        "domains": ["*"],
                        "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "pod"}}],
                    }
                ]
            },
            "http_filters": [
                {
                    "name": "envoy.filters.http.router",
                    "typed_config": {"@type": TYPES + "filters.http.router.v3.Router"},
                }
            ],
        },
    }
    upstream = {"socket_address": {"address": "127.0.0.1", "port_value": upstream_port}}
    return {
        "static_resources": {
            "listeners": [
                {
                    "name": "bare",
                    "address": address,
                    "filter_chains": [{"transport_socket": tls, "filters": [manager]}],
                }
            ],
            "clusters": [
                {
                    "name": "pod",
                    "type": "STATIC",
                    "connect_timeout": "2s",
                    "load_assignment": {
                        "cluster_name": "pod",
                        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": upstream}}]}],
                    },
                }
            ],
        }
    }


@contextmanager
def bare_envoy(tls_dir: Path, upstream_port: int, work_dir: Path) -> Iterator[tuple[int, int]]:
    """Runs the bare Envoy until the block ends; yields (its port, its pid)."""
    port = free_port()  # leased (tests/ports.py): no other process is handed it meanwhile
    config = work_dir / "bare-envoy.json"
    config.write_text(json.dumps(_config(port, tls_dir, upstream_port)))
    command = [str(find_envoy()), "-c", str(config), "--base-id", str(port), "-l", "warning"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the bare Envoy did not listen: {command}") from None
                time.sleep(0.1)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        release_port(port)

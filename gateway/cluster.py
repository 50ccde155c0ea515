"""The gateway of a Kubernetes deployment, configured from settings: where its files are, how
it reaches the API, and where pods are (their Services' DNS names, not published ports).

Used by `python -m gateway --cluster-prepare` (the gateway Deployment's init container: writes
the descriptor set, the API description and /docs/ page, an empty route snapshot and Envoy's
bootstrap) and by the pod router when
PODS_RUNTIME=kubernetes (the same listener options, and routes to pod Services).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gateway import envoy_config, xds_files
from gateway.api_docs import prepare_docs
from gateway.descriptor import build_descriptor_set
from gateway.hardening import Limits
from gateway.pods_listener import PodsListenerOptions, cluster_listener_options
from gateway.public_tls import rest_tls
from gateway.route_source import Upstream
from gateway.routes import RouteTable
from services.common.pods_model import PodRecord
from services.common.runtime.kinds import KUBERNETES
from services.common.runtime.kubernetes.names import service_host
from services.common.settings import Settings


def in_cluster(settings: Settings) -> bool:
    """Whether pods run in Kubernetes, reached through their Services (else on one machine, on
    the loopback ports Docker published)."""
    return settings.runtime == KUBERNETES


def cluster_gateway(settings: Settings) -> envoy_config.ClusterGateway:
    """The cluster gateway's options; Envoy and the pod router share one pod (the router on
    loopback). TLS of the REST/gRPC port is added by `prepare_cluster`."""
    config_dir = Path(settings.gateway_config_dir)
    return envoy_config.ClusterGateway(
        descriptor_path=config_dir / "pods.pb",
        xds_dir=xds_files.xds_directory(settings.data_dir),
        tls_cert=Path(settings.tls_cert_file),
        tls_key=Path(settings.tls_key_file),
        api_host=settings.gateway_api_host,
        api_port=settings.api_port,
        router_host="127.0.0.1",
        router_port=settings.router_port,
        router_handoff=settings.router_handoff,
        port=settings.gateway_port,
        pods_port=settings.pods_port,
        admin_port=settings.gateway_admin_port,
        metrics_port=settings.gateway_metrics_port,
        limits=Limits.from_settings(settings),
        pod_domain=settings.pod_domain,
    )


def cluster_options(settings: Settings) -> PodsListenerOptions:
    return cluster_listener_options(cluster_gateway(settings))


def prepare_cluster(settings: Settings) -> Path:
    """Writes the descriptor set, the API description and /docs/ page (gateway/api_docs.py), an
    empty route snapshot (Envoy refuses to start without its LDS/CDS files; the pod router fills
    them) and the bootstrap. Returns the bootstrap path."""
    if not (settings.tls_cert_file and settings.tls_key_file):
        raise ValueError("a cluster gateway needs PODS_TLS_CERT_FILE and PODS_TLS_KEY_FILE")
    config_dir = Path(settings.gateway_config_dir)
    # With PODS_GATEWAY_TLS the REST/gRPC port serves PODS_GATEWAY_TLS_CERT_FILE (or the pods'
    # certificate), which must name PODS_PUBLIC_URL's host.
    config_dir.mkdir(parents=True, exist_ok=True)
    gateway = replace(
        cluster_gateway(settings),
        api_tls=rest_tls(settings, config_dir / "tls"),
        docs=prepare_docs(config_dir / "docs"),
        cors_origins=settings.cors_origins,
    )
    build_descriptor_set(gateway.descriptor_path)
    files = (envoy_config.LDS_FILE, envoy_config.CDS_FILE, envoy_config.RDS_FILE)
    if not all((gateway.xds_dir / name).exists() for name in files):
        xds_files.publish(gateway.xds_dir, RouteTable.build([]), cluster_listener_options(gateway))
    bootstrap = config_dir / "envoy.yaml"
    xds_files.write_atomically(bootstrap, xds_files.render(envoy_config.cluster_bootstrap(gateway)))
    return bootstrap


def service_upstream(settings: Settings) -> Upstream:
    """Pods are reached through their Service, on the stanza's own port."""

    def upstream(record: PodRecord, port: int) -> tuple[str, int]:
        host = service_host(settings.deployment_id, record.key, settings.k8s_namespace)
        return host, port

    return upstream

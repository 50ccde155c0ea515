"""Starts what operators see of a process, in one call from each process's `main()`
(services/api, services/spawner, services/health, gateway/pod_router.py): its log format
(log_setup.py), its traces (tracing.py) and its `/metrics` port (metrics.py)."""

from __future__ import annotations

from services.common.log_setup import setup_logging
from services.common.metrics import serve_metrics
from services.common.settings import Settings
from services.common.tracing import setup_tracing


def start_observability(process: str, settings: Settings, metrics_port: int) -> None:
    """Logs as PODS_LOG_FORMAT says, traces to PODS_OTLP_ENDPOINT (if set) and serves
    `/metrics` on `metrics_port` (0: off) at PODS_BIND_ADDRESS."""
    setup_logging(process, settings.log_format)
    setup_tracing(process, settings.otlp_endpoint)
    serve_metrics(metrics_port, settings.bind_address)

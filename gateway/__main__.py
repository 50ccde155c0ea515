"""`python -m gateway`: prepares and runs the Envoy gateway in the foreground.

Started by the local stack (and by tests). Reads `Settings.from_env()`, builds the descriptor
set into `<data_dir>/gateway/pods.pb`, copies the API description and Redoc into
`<data_dir>/gateway/docs` (served at /v3/pods/openapi.json and /docs/), makes sure the pods'
TLS files exist (`<data_dir>/gateway/tls`: the development CA's wildcard certificate unless the
operator gave one), publishes an empty route snapshot into `<data_dir>/gateway/xds` (so the
pods listener exists from the start; the pod router publishes the real routes there later, and
Envoy picks them up without restarting; --validate-only leaves a published snapshot alone),
writes the bootstrap to `<data_dir>/gateway/envoy.yaml` (JSON, which is YAML), checks it and
the snapshot with `envoy --mode validate` and then replaces this process with Envoy (os.execv),
so SIGTERM/SIGINT from a supervisor reach Envoy directly. Exits 2 with Envoy's message when the
configuration is rejected.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.api_docs import prepare_docs
from gateway.cluster import prepare_cluster
from gateway.descriptor import build_descriptor_set
from gateway.envoy_binary import (
    DEFAULT_LOG_LEVEL,
    EnvoyConfigError,
    base_id_for_port,
    find_envoy,
    run_command,
    validate_config,
)
from gateway.envoy_config import CDS_FILE, LDS_FILE, GatewayOptions, gateway_bootstrap
from gateway.hardening import Limits
from gateway.public_tls import rest_tls
from gateway.routes import RouteTable
from gateway.xds_files import (
    local_options,
    publish,
    read_published,
    render,
    tls_directory,
    validate_with_envoy,
    write_atomically,
    xds_directory,
)
from services.common.protoc import ProtocError
from services.common.settings import Settings, SettingsError

DESCRIPTOR_NAME = "pods.pb"
CONFIG_NAME = "envoy.yaml"
DOCS_DIR = "docs"


@dataclass(frozen=True)
class PreparedGateway:
    """Files written for one gateway run."""

    descriptor: Path
    config: Path
    xds_dir: Path
    tls_ca: Path | None  # the CA clients of the pods port should trust (None: a public CA)


def gateway_dir(settings: Settings) -> Path:
    """Where the gateway keeps its generated files."""
    return (settings.data_dir / "gateway").resolve()


def prepare(
    settings: Settings, *, bind_address: str = "127.0.0.1", reset_routes: bool = True
) -> PreparedGateway:
    """Builds the descriptor set, the TLS files, the route snapshot and the bootstrap for
    `settings`; no validation by Envoy.

    With `reset_routes` (a starting gateway) the snapshot is the empty one: routes left from an
    earlier run may name ports that other containers hold now, and the pod router publishes the
    live ones. Without it (--validate-only, perhaps next to a running gateway) a published
    snapshot is left as it is. Raises ValueError if the snapshot is refused.
    """
    directory = gateway_dir(settings)
    descriptor = build_descriptor_set(directory / DESCRIPTOR_NAME)
    pods = local_options(settings, bind_address=bind_address)
    xds_dir = xds_directory(settings.data_dir)
    if reset_routes or not all((xds_dir / name).is_file() for name in (LDS_FILE, CDS_FILE)):
        published = publish(xds_dir, RouteTable(routes={}), pods)
        if not published.published:
            raise ValueError(f"the initial pods listener was refused: {published.rejected}")
    options = GatewayOptions(
        descriptor_path=descriptor,
        port=settings.gateway_port,
        admin_port=settings.gateway_admin_port,
        api_port=settings.api_port,
        bind_address=bind_address,
        xds_dir=xds_dir,
        limits=Limits.from_settings(settings),
        tls=rest_tls(settings, tls_directory(settings.data_dir)),
        metrics_port=settings.gateway_metrics_port,
        metrics_address=settings.bind_address,
        docs=prepare_docs(directory / DOCS_DIR),
        cors_origins=settings.cors_origins,
    )
    config = directory / CONFIG_NAME
    write_atomically(config, render(gateway_bootstrap(options)))
    return PreparedGateway(
        descriptor=descriptor, config=config, xds_dir=xds_dir, tls_ca=pods.tls.ca
    )


def _cluster_prepare() -> int:
    try:
        bootstrap = prepare_cluster(Settings.from_env())
    except (SettingsError, ProtocError, ValueError, OSError) as exc:
        print(f"gateway: error: {exc}", file=sys.stderr)
        return 2
    print(f"gateway: wrote {bootstrap}")
    return 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__)
    parser.add_argument(
        "--bind-address",
        default="127.0.0.1",
        help="address the API and pods listeners bind (default 127.0.0.1; 0.0.0.0 for all)",
    )
    parser.add_argument(
        "--log-level",
        default=DEFAULT_LOG_LEVEL,
        help=f"Envoy's log level (default {DEFAULT_LOG_LEVEL})",
    )
    parser.add_argument(
        "--cluster-prepare",
        action="store_true",
        help="write the cluster gateway's files (descriptor set, empty routes, bootstrap from "
        "PODS_* settings) into PODS_GATEWAY_CONFIG_DIR and exit: the init container of "
        "deploy/kubernetes' gateway",
    )
    parser.add_argument(
        "--validate-only",
        action="store_true",
        help="write and validate the configuration (leaving published routes alone), then exit "
        "instead of running Envoy",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Prepares, validates and execs Envoy; returns only on error or with --validate-only."""
    args = _parse_args(argv)
    if args.cluster_prepare:
        return _cluster_prepare()
    try:
        settings = Settings.from_env()
        envoy = find_envoy()
        prepared = prepare(
            settings, bind_address=args.bind_address, reset_routes=not args.validate_only
        )
        validate_config(envoy, prepared.config)
        # `--mode validate` does not read the LDS/CDS files the bootstrap names: check them too.
        validate_with_envoy(read_published(prepared.xds_dir), envoy)
    except (
        SettingsError,
        EnvoyConfigError,
        ProtocError,
        ValueError,
        OSError,
        subprocess.TimeoutExpired,
    ) as exc:
        kind = "invalid Envoy configuration" if isinstance(exc, EnvoyConfigError) else "error"
        print(f"gateway: {kind}: {exc}", file=sys.stderr)
        return 2
    if args.validate_only:
        print(f"gateway: {prepared.config} is valid")
        return 0
    command = run_command(
        envoy,
        prepared.config,
        base_id=base_id_for_port(settings.gateway_port),
        log_level=args.log_level,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)  # noqa: S606 - replaces this process with Envoy


if __name__ == "__main__":
    sys.exit(main())

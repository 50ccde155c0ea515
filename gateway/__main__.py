"""`python -m gateway`: prepares and runs the Envoy gateway in the foreground.

Started by the local stack (and by tests). Reads `Settings.from_env()`, builds the descriptor
set into `<data_dir>/gateway/pods.pb`, writes the bootstrap to `<data_dir>/gateway/envoy.yaml`
(JSON, which is YAML), checks it with `envoy --mode validate` and then replaces this process
with Envoy (os.execv), so SIGTERM/SIGINT from a supervisor reach Envoy directly. Exits 2 with
Envoy's message when the configuration is rejected.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.descriptor import build_descriptor_set
from gateway.envoy_binary import (
    DEFAULT_LOG_LEVEL,
    EnvoyConfigError,
    base_id_for_port,
    find_envoy,
    run_command,
    validate_config,
)
from gateway.envoy_config import GatewayOptions, gateway_bootstrap
from services.common.protoc import ProtocError
from services.common.settings import Settings, SettingsError

DESCRIPTOR_NAME = "pods.pb"
CONFIG_NAME = "envoy.yaml"


@dataclass(frozen=True)
class PreparedGateway:
    """Files written for one gateway run."""

    descriptor: Path
    config: Path


def gateway_dir(settings: Settings) -> Path:
    """Where the gateway keeps its generated files."""
    return (settings.data_dir / "gateway").resolve()


def write_atomically(path: Path, text: str) -> None:
    """Replaces `path` with `text` in one rename, so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def render(config: Mapping[str, object]) -> str:
    """The bootstrap as text: JSON, which Envoy reads as YAML too."""
    return json.dumps(config, indent=2, sort_keys=False) + "\n"


def prepare(settings: Settings, *, bind_address: str = "127.0.0.1") -> PreparedGateway:
    """Builds the descriptor set and writes the bootstrap for `settings`; no validation."""
    directory = gateway_dir(settings)
    descriptor = build_descriptor_set(directory / DESCRIPTOR_NAME)
    options = GatewayOptions(
        descriptor_path=descriptor,
        port=settings.gateway_port,
        admin_port=settings.gateway_admin_port,
        api_port=settings.api_port,
        bind_address=bind_address,
    )
    config = directory / CONFIG_NAME
    write_atomically(config, render(gateway_bootstrap(options)))
    return PreparedGateway(descriptor=descriptor, config=config)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__)
    parser.add_argument(
        "--bind-address",
        default="127.0.0.1",
        help="address the API listener binds (default 127.0.0.1; 0.0.0.0 for all)",
    )
    parser.add_argument(
        "--log-level",
        default=DEFAULT_LOG_LEVEL,
        help=f"Envoy's log level (default {DEFAULT_LOG_LEVEL})",
    )
    parser.add_argument(
        "--validate-only",
        action="store_true",
        help="write and validate the configuration, then exit instead of running Envoy",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Prepares, validates and execs Envoy; returns only on error or with --validate-only."""
    args = _parse_args(argv)
    try:
        settings = Settings.from_env()
        envoy = find_envoy()
        prepared = prepare(settings, bind_address=args.bind_address)
        validate_config(envoy, prepared.config)
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

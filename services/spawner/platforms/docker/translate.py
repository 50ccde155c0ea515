"""Pure translations between our seam and the Docker SDK, no I/O: a ContainerSpec -> the
SDK's create arguments (hardened as services/spawner/platforms/hardening.py says), container
attributes and engine events -> ContainerState / RuntimeEvent, and log timestamps -> cursors.

Called by services/spawner/platforms/docker/runtime.py (DockerRuntime); tested alone in
tests/unit/runtime/test_docker_translation.py.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import docker
import docker.errors
import docker.types

from services.common.runtime.naming import (
    container_name,
    labelled_run,
    labels_for,
    owned_key,
)
from services.common.runtime.types import (
    LABEL_SPEC_HASH,
    ContainerSpec,
    ContainerState,
    Phase,
    PodKey,
    RuntimeEvent,
)
from services.spawner.platforms.cursors import cursor_nanos
from services.spawner.platforms.docker.network import network_name
from services.spawner.platforms.docker.volumes import docker_mount
from services.spawner.platforms.hardening import (
    DEFAULT_PIDS_LIMIT,
    READ_ONLY_ROOT_TMPFS,
    ROOT_STEP_DOWN_CAPABILITIES,
    TMPFS_SIZE_MIB,
)

Attrs = dict[str, Any]

LOOPBACK = "127.0.0.1"
NOFILE_LIMIT = 8192  # the machine's hard limit is 20000
LOG_MAX_SIZE = "10m"  # per json-file; Docker keeps LOG_MAX_FILES of them
LOG_MAX_FILES = "3"
# The container events that change what an inspect reports. Not "create" (the spawner starts
# what it creates, and a container left created is a pod in motion, which the resync
# observes), "kill" (a signal; the container's end is its own "die") or "stop" (after "die"):
# each would cost health an observation, an inspect and a log read, for nothing new. The
# engine is asked for these only (runtime._open_events), so it sends no exec or attach
# events either.
WATCHED_ACTIONS = frozenset(
    {
        "start",
        "restart",
        "die",
        "oom",
        "pause",
        "unpause",
        "destroy",
        "rename",
        "update",
        "health_status",
    }
)
_ZERO_TIME_PREFIX = "0001-01-01"
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z")

# --- pure translations: spec -> SDK arguments, SDK data -> our types -----------------------


def _tmpfs(spec: ContainerSpec) -> dict[str, str]:
    """In-memory writable directories of a read-only root (none for a writable one)."""
    if not spec.read_only_root:
        return {}
    options = f"rw,nosuid,nodev,size={TMPFS_SIZE_MIB}m,mode=1777"
    return {path: options for path in READ_ONLY_ROOT_TMPFS}


def create_kwargs(
    deployment_id: str,
    spec: ContainerSpec,
    pids_limit: int = DEFAULT_PIDS_LIMIT,
    network: str = "",
) -> dict[str, Any]:
    """Keyword arguments for `client.containers.create` for a spec whose hash is filled.

    The container joins `network` (an id: the deployment's shared network or a pod network,
    network.py), or when it is empty the pod's own network by name; it must exist. Its only
    mounts are the spec's named volumes: never a host path, never the engine's socket."""
    return {
        "image": spec.image,
        "name": container_name(deployment_id, spec.key),
        "labels": labels_for(deployment_id, spec.key, spec.spec_hash, spec.run),
        "entrypoint": list(spec.command) or None,
        "command": list(spec.arguments) or None,
        "environment": dict(spec.environment),
        "ports": {
            f"{port.port}/tcp": (LOOPBACK, None)
            for port in spec.ports
            if port.protocol != "local_only"
        },
        "network": network or network_name(deployment_id, spec.key),
        "init": True,
        "nano_cpus": spec.cpu_limit_millis * 1_000_000,
        "mem_limit": spec.mem_limit_mib * 1024 * 1024,
        "pids_limit": pids_limit,
        "ulimits": [docker.types.Ulimit(name="nofile", soft=NOFILE_LIMIT, hard=NOFILE_LIMIT)],
        "restart_policy": {"Name": "no"},
        "privileged": False,
        "security_opt": ["no-new-privileges:true"],
        "cap_drop": ["ALL"],
        "cap_add": list(ROOT_STEP_DOWN_CAPABILITIES),
        "read_only": spec.read_only_root,
        "tmpfs": _tmpfs(spec),
        "mounts": [docker_mount(mount) for mount in spec.mounts],
        "log_config": docker.types.LogConfig(
            type="json-file", config={"max-size": LOG_MAX_SIZE, "max-file": LOG_MAX_FILES}
        ),
    }


def parse_docker_time(value: str | None) -> datetime | None:
    """An aware datetime from Docker's RFC 3339 text; None for empty or the zero time."""
    if not value or value.startswith(_ZERO_TIME_PREFIX):
        return None
    return datetime.fromisoformat(value)


def _phase(status: str) -> Phase:
    try:
        return Phase(status)
    except ValueError:
        return Phase.DEAD


def _error_text(state: Mapping[str, Any]) -> str:
    parts = ["out of memory"] if state.get("OOMKilled") else []
    if state.get("Error"):
        parts.append(str(state["Error"]))
    return "; ".join(parts)


def _exit_code(phase: Phase, state: Mapping[str, Any]) -> int | None:
    failed_start = phase is Phase.CREATED and bool(state.get("Error"))
    if phase in (Phase.EXITED, Phase.DEAD) or failed_start:
        return int(state.get("ExitCode", 0))
    return None


def _published_ports(attrs: Mapping[str, Any]) -> dict[int, int]:
    ports = (attrs.get("NetworkSettings") or {}).get("Ports") or {}
    published: dict[int, int] = {}
    for container_port, bindings in ports.items():
        number, _, proto = str(container_port).partition("/")
        for binding in bindings or ():
            if proto == "tcp" and binding.get("HostIp") == LOOPBACK and binding.get("HostPort"):
                published[int(number)] = int(binding["HostPort"])
    return published


def state_from_attrs(key: PodKey, attrs: Mapping[str, Any]) -> ContainerState:
    """Our ContainerState from the result of Docker's container inspect."""
    state = attrs.get("State") or {}
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    phase = _phase(str(state.get("Status", "")))
    return ContainerState(
        key=key,
        name=str(attrs.get("Name", "")).lstrip("/"),
        phase=phase,
        spec_hash=str(labels.get(LABEL_SPEC_HASH, "")),
        exit_code=_exit_code(phase, state),
        error=_error_text(state),
        started_at=parse_docker_time(state.get("StartedAt")),
        finished_at=parse_docker_time(state.get("FinishedAt")),
        published=_published_ports(attrs),
        run=labelled_run(labels),
    )


def event_from_raw(deployment_id: str, raw: Mapping[str, Any]) -> RuntimeEvent | None:
    """Our RuntimeEvent from a decoded Docker event, or None when it is not one we report.

    Docker's "health_status: healthy" style actions are reported by their first word."""
    if raw.get("Type") != "container":
        return None
    action = str(raw.get("Action", "")).split(":", 1)[0].strip()
    key = owned_key(deployment_id, (raw.get("Actor") or {}).get("Attributes"))
    if action not in WATCHED_ACTIONS or key is None:
        return None
    return RuntimeEvent(key=key, action=action)


# --- log cursors ------------------------------------------------------------------------


def stamp_nanos(stamp: str) -> int | None:
    """Nanoseconds since the epoch of a Docker RFC3339Nano UTC stamp, None if it is not one."""
    match = _STAMP.fullmatch(stamp)
    if match is None:
        return None
    seconds = calendar.timegm(time.strptime(match[1], "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1_000_000_000 + int((match[2] or "0").ljust(9, "0"))


def docker_cursor_nanos(cursor: str) -> int | None:
    """The nanoseconds of a log cursor ("" -> None); PermanentError when not a Docker stamp."""
    return cursor_nanos(cursor, stamp_nanos, "a Docker timestamp")


def since_param(after: int | None) -> float | None:
    """The SDK's float `since` for reading after `after`: one microsecond early, so that the
    float's rounding can never skip a line; the overlap is dropped by `lines_after`."""
    if after is None:
        return None
    return (after // 1000 - 1) / 1_000_000


def lines_after(output: str, after: int | None) -> tuple[str, str]:
    """The lines of timestamped `output` stamped strictly after `after`, without stamps, and
    the newest stamp among them ("" if none). Lines keep Docker's order, which is not
    strictly time order across stdout and stderr."""
    kept: list[str] = []
    newest, newest_stamp = after if after is not None else -1, ""
    keep = False
    for line in _LINE.findall(output):
        stamp, _, body = line.partition(" ")
        nanos = stamp_nanos(stamp)
        if nanos is None:  # not a stamp: part of the previous line
            body = line
        else:
            keep = after is None or nanos > after
            if keep and nanos > newest:
                newest, newest_stamp = nanos, stamp
        if keep:
            kept.append(body)
    return "".join(kept), newest_stamp

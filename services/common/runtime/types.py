"""Data crossing the runtime seam, and the `Runtime` protocol every runtime implements.

Callers: services/spawner (ensure, remove, inspect, exec, copy_into; and inspect, list_managed,
logs_since, watch for health, which observes through SpawnerService: services/health/ports.py).
Implementations: DockerRuntime and KubernetesRuntime (in services/spawner/platforms/), and
fake.FakeRuntime. Errors: implementations raise outcomes.TemporaryError or
outcomes.PermanentError, never SDK exceptions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

LABEL_DEPLOYMENT = "org.pods-service.deployment"
LABEL_TENANT = "org.pods-service.tenant"
LABEL_POD = "org.pods-service.pod"
LABEL_SPEC_HASH = "org.pods-service.spec-hash"
# The pod's log run a container was made to start. The spawner records that run only after
# the engine started the container; until then health treats the container as not yet the
# pod's (services/health/observe.py).
LABEL_RUN = "org.pods-service.run"


@dataclass(frozen=True, order=True)
class PodKey:
    """Identifies a pod across the system. Both parts are validated identifiers."""

    tenant_id: str
    pod_id: str


@dataclass(frozen=True)
class PortSpec:
    """One container port to publish: the networking stanza's name, port and protocol."""

    name: str
    port: int
    protocol: str  # http | tcp | postgres | local_only


class StorageKind(StrEnum):
    """What a mount refers to (Tapis: "tapisvolume" / "tapissnapshot")."""

    VOLUME = "volume"
    SNAPSHOT = "snapshot"


@dataclass(frozen=True)
class MountSpec:
    """A volume or snapshot to mount into a pod's container (built by the storage seam,
    services/common/storage, which re-exports it; defined here so ContainerSpec can hold it).

    Docker: a mount of type "volume" with Source=`volume_name`, Target=`target`,
    ReadOnly=`read_only`, VolumeOptions.NoCopy=true and, when `sub_path` is not empty,
    VolumeOptions.Subpath=`sub_path` (engine API >= 1.45);
    services/spawner/platforms/docker/volumes.docker_mount builds that dict. A snapshot's spec is
    always read_only."""

    kind: StorageKind
    volume_name: str
    target: str
    read_only: bool
    sub_path: str = ""


@dataclass(frozen=True)
class ContainerSpec:
    """Everything a runtime needs to create a pod's container."""

    key: PodKey
    image: str
    command: tuple[str, ...] = ()
    arguments: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[PortSpec, ...] = ()
    cpu_limit_millis: int = 2000
    mem_limit_mib: int = 3072
    cpu_request_millis: int = 250
    mem_request_mib: int = 256
    gpus: int = 0
    compute_queue: str = "default"
    mounts: tuple[MountSpec, ...] = ()  # volumes and snapshots, in mount order
    # The image runs with a read-only root filesystem (writable: its volumes and an in-memory
    # /tmp and /run); set from the pod's template, off for custom images.
    read_only_root: bool = False
    spec_hash: str = ""  # changes whenever anything above changes
    # The log run a new container starts (labelled LABEL_RUN; 0: not labelled). Not part of
    # the spec_hash: an existing container is adopted whatever run it was made for.
    run: int = 0


class Phase(StrEnum):
    """The container's lifecycle as the runtime reports it."""

    ABSENT = "absent"
    CREATED = "created"
    RUNNING = "running"
    RESTARTING = "restarting"
    PAUSED = "paused"
    EXITED = "exited"
    DEAD = "dead"
    REMOVING = "removing"


@dataclass(frozen=True)
class ContainerState:
    """What the runtime reports about a pod's container."""

    key: PodKey
    name: str
    phase: Phase
    spec_hash: str = ""
    exit_code: int | None = None
    error: str = ""  # the runtime's own error text (failed start, OOM, ...)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    published: Mapping[int, int] = field(default_factory=dict)  # container port -> loopback port
    run: int = 0  # the log run the container was made to start (LABEL_RUN); 0: not labelled


@dataclass(frozen=True)
class EnsureResult:
    """What `Runtime.ensure` did: "created", "adopted", "started" or "replaced"."""

    action: str
    state: ContainerState


@dataclass(frozen=True)
class LogChunk:
    """New output since the last read; `cursor` is passed back to read only what follows."""

    text: str
    cursor: str


@dataclass(frozen=True)
class ExecResult:
    """The outcome of a command run inside a pod's container."""

    exit_code: int | None  # None when it timed out
    stdout: str
    stderr: str
    timed_out: bool = False


@dataclass(frozen=True)
class RuntimeEvent:
    """Something happened to a managed container (start, die, destroy, ...)."""

    key: PodKey
    action: str


class Runtime(Protocol):
    """A container platform managed by label. All methods are idempotent."""

    async def ensure(self, spec: ContainerSpec) -> EnsureResult:
        """Creates the pod's container, or adopts the existing one, and makes it run.

        An existing container with a different spec_hash is replaced; a stopped one with the
        same hash is left as it is (health reports why it stopped)."""
        ...

    async def remove(self, key: PodKey) -> bool:
        """Removes the pod's container and what it owned; False if there was nothing."""
        ...

    async def inspect(self, key: PodKey) -> ContainerState | None:
        """The pod's container, or None when there is none."""
        ...

    async def list_managed(self) -> list[ContainerState]:
        """Every container labelled with this deployment."""
        ...

    async def logs_since(self, key: PodKey, cursor: str, limit_bytes: int) -> LogChunk:
        """Output (stdout and stderr) after `cursor` ("" for the start), at most the last
        `limit_bytes` of it."""
        ...

    def watch(self) -> AsyncIterator[RuntimeEvent]:
        """Events of managed containers, as they happen, until cancelled."""
        ...

    async def exec(
        self, key: PodKey, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        """Runs `argv` (no shell) in the pod's running container, on threads of its own (never
        delaying the lifecycle calls); kills it after `timeout` seconds or when the awaiting
        task is cancelled (where the runtime can). Output is cut to the last `limit_bytes` of
        each stream."""
        ...

    async def copy_into(self, key: PodKey, dest_path: str, data: bytes) -> None:
        """Writes `data` as the file `dest_path` (absolute, already checked) in the pod's
        running container, replacing a file there. FileNotFoundError when its directory
        does not exist, IsADirectoryError when a directory is in the way; PermanentError
        when there is no running container or it cannot take the file (saying why)."""
        ...

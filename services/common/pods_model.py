"""The pod as the whole system sees it: frozen records passed between layers.

Written by services/api (desired state) and services/spawner + services/health (observed
state) through the repositories of services.common.db; turned into protobuf by
services/api/transport/convert.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.common.pod_auth_model import TapisAuth
from services.common.runtime.types import PodKey
from services.common.stanza_options import StanzaOptions


class Status(StrEnum):
    """Observed status strings, exactly as Tapis prints them."""

    REQUESTED = "REQUESTED"
    SPAWNER_SETUP = "SPAWNER SETUP"
    CREATING = "CREATING"
    AVAILABLE = "AVAILABLE"
    DELETING = "DELETING"
    STOPPED = "STOPPED"
    COMPLETE = "COMPLETE"
    ERROR = "ERROR"


class Level(StrEnum):
    """Permission levels, each including the ones before it."""

    READ = "READ"
    USER = "USER"
    ADMIN = "ADMIN"

    @property
    def rank(self) -> int:
        return ("READ", "USER", "ADMIN").index(self.value)

    def allows(self, needed: Level) -> bool:
        return self.rank >= needed.rank


class RequestedStatus(StrEnum):
    """Desired state strings, exactly as Tapis accepts them."""

    ON = "ON"
    OFF = "OFF"
    RESTART = "RESTART"


@dataclass(frozen=True)
class NetworkStanza:
    """One exposed port: protocol http | tcp | postgres | local_only, its access options, and
    for an http port a login in front of it (`auth`)."""

    protocol: str = "http"
    port: int = 5000
    auth: TapisAuth = field(default_factory=TapisAuth)
    options: StanzaOptions = field(default_factory=StanzaOptions)


@dataclass(frozen=True)
class ResourceSpec:
    """Requests and limits: CPU in millicores, memory in MiB."""

    cpu_request: int = 250
    cpu_limit: int = 2000
    mem_request: int = 256
    mem_limit: int = 3072
    gpus: int = 0


class MountType(StrEnum):
    """What a pod's volume mount refers to, exactly as Tapis spells it."""

    VOLUME = "tapisvolume"
    SNAPSHOT = "tapissnapshot"


@dataclass(frozen=True)
class VolumeMountSpec:
    """One entry of a pod's `volume_mounts` (keyed by volume_id or snapshot_id): where it is
    mounted (an absolute, validated path), which directory of it (normalized, "" for its
    root), and whether read-only (always for snapshots)."""

    type: MountType = MountType.VOLUME
    mount_path: str = ""
    sub_path: str = ""
    read_only: bool = False


@dataclass(frozen=True)
class PodSpec:
    """What the user asked for. Either image or template is set (template resolved to image
    by the spawner)."""

    image: str = ""
    template: str = ""
    description: str = ""
    command: tuple[str, ...] = ()
    arguments: tuple[str, ...] = ()
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    networking: Mapping[str, NetworkStanza] = field(
        default_factory=lambda: {"default": NetworkStanza()}
    )
    resources: ResourceSpec = field(default_factory=ResourceSpec)
    time_to_stop_default: int = 43200
    time_to_stop_instance: int | None = None
    compute_queue: str = "default"
    volume_mounts: Mapping[str, VolumeMountSpec] = field(default_factory=dict)
    read_only_root: bool = False  # copied from the template; never set by the user


@dataclass(frozen=True)
class ContainerStatus:
    """What health last observed of the pod's container (Pod.status_container)."""

    phase: str = ""
    message: str = ""
    start_time: datetime | None = None
    exit_code: int | None = None
    ready: bool = False
    published: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PodRecord:
    """A pod row: desired state, observed state and bookkeeping."""

    key: PodKey
    owner: str
    spec: PodSpec
    status_requested: RequestedStatus
    status: Status
    status_container: ContainerStatus
    generation: int
    observed_generation: int
    deletion_requested: bool
    has_credentials: bool
    action_logs: tuple[str, ...]
    creation_ts: datetime
    update_ts: datetime
    status_changed_ts: datetime
    start_instance_ts: datetime | None = None
    time_to_stop_ts: datetime | None = None
    run: int = 0  # containers made so far (each one a log run)
    ended_run: int | None = None  # the run whose end was recorded
    restart_count: int = 0
    crash_streak: int = 0
    last_exit_reason: str = ""
    restart_due_ts: datetime | None = None
    # The trace context (W3C `traceparent`) of the call that last changed the desired state,
    # so health's observation of its outcome joins that trace; "" when tracing was off.
    trace_parent: str = ""

    @property
    def restart_pending(self) -> bool:
        """The current run ended by itself and its replacement is scheduled."""
        return self.restart_due_ts is not None and self.ended_run == self.run


def pod_host(pod_id: str, stanza: str, pod_domain: str) -> str:
    """A pod port's public name: `<pod_id>.<domain>` for the default networking stanza,
    `<pod_id>-<stanza>.<domain>` for the others."""
    name = pod_id if stanza == "default" else f"{pod_id}-{stanza}"
    return f"{name}.{pod_domain}"


@dataclass(frozen=True)
class PodChange:
    """One change of what a pod's watchers see, as recorded with it (the pod_changes table);
    `change_id` orders every pod's changes and is the watch streams' cursor."""

    key: PodKey
    change_id: int
    status: Status
    status_requested: RequestedStatus
    status_container: ContainerStatus
    action_log: str
    time: datetime

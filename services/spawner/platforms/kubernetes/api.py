"""KubeApi: the few Kubernetes API calls the platform adapters make, as one small seam (plain
dicts in the API's JSON form cross it, never a client model), its errors, and the RBAC each
process needs.

Implemented by client.ClusterApi over the official `kubernetes` client; called by
runtime.KubernetesRuntime, informer.PodInformer and volumes.KubernetesVolumeStore (from worker
threads: every method blocks). Tests replace KubeApi with an in-memory double
(tests/unit/runtime/kubernetes). This module imports no kubernetes code.

Errors: a missing object is a return value (None / False), a name already taken on create is
AlreadyExists, an expired watch is Gone, anything else the API or the network reports is
KubeError with the HTTP status (None when the server was not reached).

RBAC: `SPAWNER_ACCESS` lists the verbs the spawner needs per resource, from the methods of the
Runtime it calls (`SPAWNER_RUNTIME_METHODS`: all of them, since health observes the runtime
through the spawner) and the KubeApi calls those make (`API_VERBS`). The spawner's Role in
deploy/kubernetes grants exactly these (with STORAGE_ACCESS); tests check both the code and the
manifests against them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from services.common.runtime.types import ExecResult

Obj = dict[str, Any]
Kind = Literal["pods", "services", "secrets", "persistentvolumeclaims"]
PatchableKind = Literal["services", "secrets"]
Propagation = Literal["Background", "Foreground", "Orphan"]

_OBJECTS = frozenset({"pods", "services", "secrets", "persistentvolumeclaims"})
# KubeApi method -> the verbs the API server checks for it, and the resources it may be
# called on. An exec is a WebSocket upgrade of a GET: clusters before Kubernetes 1.30 check
# "get" on pods/exec, later ones (AuthorizePodWebsocketUpgradeCreatePermission) "create" too.
API_VERBS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    "read": (frozenset({"get"}), _OBJECTS),
    "create": (frozenset({"create"}), _OBJECTS),
    "patch": (frozenset({"patch"}), frozenset({"services", "secrets"})),
    "delete": (frozenset({"delete"}), _OBJECTS),
    "list_pods": (frozenset({"list"}), frozenset({"pods"})),
    "list_claims": (frozenset({"list"}), frozenset({"persistentvolumeclaims"})),
    "watch_pods": (frozenset({"watch"}), frozenset({"pods"})),
    "pod_log": (frozenset({"get"}), frozenset({"pods/log"})),
    "exec": (frozenset({"create", "get"}), frozenset({"pods/exec"})),
    "exec_bytes": (frozenset({"create", "get"}), frozenset({"pods/exec"})),
}
# Which Runtime methods the spawner calls: its own (ensure, remove, inspect, exec) and, for
# health (services/spawner/observe_servicer.py), inspect, list_managed, logs_since and watch.
SPAWNER_RUNTIME_METHODS = frozenset(
    {"ensure", "remove", "inspect", "list_managed", "logs_since", "watch", "exec", "copy_into"}
)
# What the spawner's ServiceAccount may do in the pods namespace (core API group).
SPAWNER_ACCESS: Mapping[str, frozenset[str]] = {
    "pods": frozenset({"create", "delete", "get", "list", "watch"}),
    "pods/log": frozenset({"get"}),
    "pods/exec": frozenset({"create", "get"}),
    "services": frozenset({"create", "delete", "get", "patch"}),
    "secrets": frozenset({"create", "delete", "get", "patch"}),
}
# What the volume store (volumes.py, served by the spawner) may do in the
# pods namespace: PersistentVolumeClaims for volumes and snapshots, and the helper pods that
# reach their files. The spawner's Role grants SPAWNER_ACCESS and this; the API has no Role.
STORAGE_ACCESS: Mapping[str, frozenset[str]] = {
    "persistentvolumeclaims": frozenset({"create", "delete", "get", "list"}),
    "pods": frozenset({"create", "delete", "get", "list"}),
    "pods/exec": frozenset({"create", "get"}),
}


class KubeError(Exception):
    """The API refused a call (`status` is its HTTP status) or could not be reached (None)."""

    def __init__(self, status: int | None, reason: str, message: str) -> None:
        super().__init__(f"{reason} ({status}): {message}" if status else f"{reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class AlreadyExists(KubeError):
    """create found the name taken (409 AlreadyExists)."""


class Gone(KubeError):
    """The watch's resource version is too old (410 Gone / Expired): list again."""


@dataclass(frozen=True)
class ObjectList:
    """A list call's items and the resource version to watch from."""

    items: list[Obj]
    resource_version: str


@dataclass(frozen=True)
class ExecBytes:
    """What exec_bytes returns: the exit code (None when the time ran out) and the raw output."""

    exit_code: int | None
    stdout: bytes
    stderr: bytes


@dataclass(frozen=True)
class WatchEvent:
    """One watch event: ADDED, MODIFIED, DELETED or BOOKMARK, and the object."""

    type: str
    object: Obj


class WatchStream(Protocol):
    """An open watch: iterating blocks until the next event; it ends when the server closes
    the watch (its timeout); iteration raises Gone or KubeError. close() may be called from
    another thread and ends the iteration."""

    def __iter__(self) -> Iterator[WatchEvent]: ...

    def close(self) -> None: ...


class KubeApi(Protocol):
    """The calls the runtime makes, all in one namespace. Every method blocks."""

    def read(self, kind: Kind, name: str) -> Obj | None:
        """The object, or None when there is none."""
        ...

    def create(self, kind: Kind, body: Obj) -> Obj:
        """Creates `body` and returns it as stored; AlreadyExists when the name is taken."""
        ...

    def patch(self, kind: PatchableKind, name: str, patch: Obj) -> Obj:
        """Applies a JSON merge patch (RFC 7386) and returns the object as stored."""
        ...

    def delete(self, kind: Kind, name: str, *, propagation: Propagation = "Background") -> bool:
        """Deletes the object (its dependents as `propagation` says); False if there was none."""
        ...

    def list_pods(self, label_selector: str) -> ObjectList:
        """Every Pod matching the selector, and the list's resource version."""
        ...

    def list_claims(self, label_selector: str) -> ObjectList:
        """Every PersistentVolumeClaim matching the selector."""
        ...

    def watch_pods(
        self, label_selector: str, resource_version: str, timeout_seconds: int
    ) -> WatchStream:
        """Opens a watch of the matching Pods from `resource_version` (with bookmarks)."""
        ...

    def pod_log(
        self, name: str, container: str, *, since_time: str | None, limit_bytes: int | None
    ) -> bytes:
        """The container's output with a timestamp on each line, from `since_time` (RFC 3339,
        whole seconds) if given, at most `limit_bytes` (cut anywhere) if given."""
        ...

    def exec(
        self,
        name: str,
        container: str,
        argv: Sequence[str],
        timeout: float,
        limit_bytes: int,
        stop: threading.Event | None = None,
    ) -> ExecResult:
        """Runs `argv` (no shell) in the container and waits up to `timeout` seconds, or
        until `stop` is set (its caller went away); the last `limit_bytes` of stdout and
        stderr. Then the stream is closed and `timed_out` set: the API has no way to signal
        the process itself."""
        ...

    def exec_bytes(
        self, name: str, container: str, argv: Sequence[str], stdin: bytes | None, timeout: float
    ) -> ExecBytes:
        """Runs `argv` (no shell) with `stdin` written to it (no stdin when None; the stream
        is not closed after it, so the command must know how much to read) and returns its
        whole binary output; exit code None when `timeout` seconds passed first."""
        ...

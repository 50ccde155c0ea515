"""FakeKubeApi: an in-memory double of our KubeApi wrapper (client.py), not of the kubernetes
library. One namespace of Pods, Services, Secrets and PersistentVolumeClaims with the API
server behaviour the runtime and the volume store rely on:

- resource versions from one counter, uids, creationTimestamp; create of a taken name raises
  AlreadyExists; merge patches (RFC 7386) bump the version;
- Pod deletion: immediate, or `graceful = True` leaves the Pod terminating (deletionTimestamp)
  until `finish_termination`; then the garbage collector's work on owned objects, by the
  propagation policy (Background deletes dependents whose owners are all gone, Orphan strips
  the owner reference);
- list with equality and existence label selectors; watches from a resource version that replay the history
  after it and then block for new events until closed, ended (`end_watches`, as the server's
  timeout does) or broken (`break_watches`); a version older than `compact()` left raises Gone;
- pod logs from lines written with `write_log` (stamp, text), honouring sinceTime to the second
  and limitBytes;
- exec answered by `exec_handler` (by default: exit 0, the argv echoed on stdout; the `stop`
  event of each call in `exec_stops`), exec_bytes
  by `exec_bytes_handler` (by default: exit 0, stdin echoed on stdout);
- `calls`: every call as (method, resource), and `fail(method, error)` to make the next calls
  of a method raise.

Thread-safe: the runtime calls it from worker threads and the informer's watch thread.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.common.runtime.types import ExecResult
from services.spawner.platforms.kubernetes.api import (
    AlreadyExists,
    ExecBytes,
    Gone,
    KubeError,
    ObjectList,
    WatchEvent,
)

Obj = dict[str, Any]
NOW = "2024-01-01T00:00:00Z"


def merge_patch(target: Obj, patch: Obj) -> Obj:
    """RFC 7386: objects merge recursively, null deletes, anything else replaces."""
    result = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge_patch(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def matches(selector: str, labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    for term in filter(None, selector.split(",")):
        name, equals, value = term.partition("=")
        if (labels.get(name) != value) if equals else (name not in labels):
            return False
    return True


@dataclass
class _Failure:
    error: Exception
    remaining: int | None


@dataclass
class _Stream:
    api: FakeKubeApi
    selector: str
    after: int
    closed: bool = False
    ended: bool = False
    error: Exception | None = None
    position: int = 0

    def __iter__(self) -> Iterator[WatchEvent]:
        with self.api._changed:
            self.position = next(
                (i for i, (rv, _, _) in enumerate(self.api.history) if rv > self.after),
                len(self.api.history),
            )
        while True:
            with self.api._changed:
                while (
                    not self.closed
                    and not self.ended
                    and self.error is None
                    and self.position >= len(self.api.history)
                ):
                    self.api._changed.wait(timeout=5)
                if self.closed:
                    return
                if self.position < len(self.api.history):
                    _, kind, obj = self.api.history[self.position]
                    self.position += 1
                    if not matches(self.selector, obj["metadata"].get("labels")):
                        continue
                    event = WatchEvent(type=kind, object=copy.deepcopy(obj))
                elif self.error is not None:
                    raise self.error
                else:
                    return  # ended, like the server's timeoutSeconds
            yield event

    def close(self) -> None:
        with self.api._changed:
            self.closed = True
            self.api._changed.notify_all()


@dataclass
class FakeKubeApi:
    graceful: bool = False  # Pods stay terminating until finish_termination
    objects: dict[tuple[str, str], Obj] = field(default_factory=dict)
    history: list[tuple[int, str, Obj]] = field(default_factory=list)  # pod events
    calls: list[tuple[str, str]] = field(default_factory=list)
    logs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    watches: list[_Stream] = field(default_factory=list)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    compacted: int = 0
    propagations: dict[str, str] = field(default_factory=dict)
    exec_handler: Callable[[list[str], float, int], ExecResult] = field(
        default=lambda argv, timeout, limit: ExecResult(0, " ".join(argv) + "\n", "")
    )
    exec_stops: list[threading.Event | None] = field(default_factory=list)  # stop of each exec
    exec_bytes_handler: Callable[[str, list[str], bytes | None], ExecBytes] = field(
        default=lambda pod, argv, stdin: ExecBytes(0, stdin or b"", b"")
    )

    def __post_init__(self) -> None:
        self._changed = threading.Condition(threading.RLock())
        self._versions = itertools.count(100)
        self._uids = itertools.count(1)
        self.version = 99

    # -- helpers -------------------------------------------------------------------------

    def _record(self, method: str, resource: str) -> None:
        self.calls.append((method, resource))
        queue = self.failures.get(method) or []
        if queue:
            failure = queue[0]
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    queue.pop(0)
            raise failure.error

    def _bump(self, obj: Obj) -> None:
        self.version = next(self._versions)
        obj["metadata"]["resourceVersion"] = str(self.version)

    def _event(self, kind: str, obj: Obj) -> None:
        self.history.append((self.version, kind, copy.deepcopy(obj)))
        self._changed.notify_all()

    # -- the KubeApi protocol ------------------------------------------------------------

    def read(self, kind: str, name: str) -> Obj | None:
        with self._changed:
            self._record("read", kind)
            obj = self.objects.get((kind, name))
            return copy.deepcopy(obj) if obj is not None else None

    def create(self, kind: str, body: Obj) -> Obj:
        with self._changed:
            self._record("create", kind)
            name = body["metadata"]["name"]
            if (kind, name) in self.objects:
                raise AlreadyExists(409, "AlreadyExists", f'{kind} "{name}" already exists')
            obj = copy.deepcopy(body)
            obj.pop("apiVersion", None)
            obj.pop("kind", None)
            obj["metadata"]["uid"] = f"uid-{next(self._uids)}"
            obj["metadata"]["creationTimestamp"] = NOW
            if kind == "pods":
                obj["status"] = {"phase": "Pending"}
            if kind == "services":
                obj["spec"]["clusterIP"] = "10.96.0.10"
                for port in obj["spec"]["ports"]:
                    port.setdefault("protocol", "TCP")
            self._bump(obj)
            self.objects[(kind, name)] = obj
            if kind == "pods":
                self._event("ADDED", obj)
            return copy.deepcopy(obj)

    def patch(self, kind: str, name: str, patch: Obj) -> Obj:
        with self._changed:
            self._record("patch", kind)
            obj = self.objects.get((kind, name))
            if obj is None:
                raise KubeError(404, "NotFound", f'{kind} "{name}" not found')
            obj = merge_patch(obj, patch)
            self._bump(obj)
            self.objects[(kind, name)] = obj
            return copy.deepcopy(obj)

    def delete(self, kind: str, name: str, *, propagation: str = "Background") -> bool:
        with self._changed:
            self._record("delete", kind)
            obj = self.objects.get((kind, name))
            if obj is None:
                return False
            if kind == "pods" and self.graceful:
                if not obj["metadata"].get("deletionTimestamp"):
                    obj["metadata"]["deletionTimestamp"] = NOW
                    self.propagations[name] = propagation  # applied when it is gone
                    self._bump(obj)
                    self._event("MODIFIED", obj)
                return True
            self._remove(kind, name, propagation)
            return True

    def list_pods(self, label_selector: str) -> ObjectList:
        return self._list("list_pods", "pods", label_selector)

    def list_claims(self, label_selector: str) -> ObjectList:
        return self._list("list_claims", "persistentvolumeclaims", label_selector)

    def _list(self, method: str, wanted: str, label_selector: str) -> ObjectList:
        with self._changed:
            self._record(method, wanted)
            items = [
                copy.deepcopy(obj)
                for (kind, _), obj in sorted(self.objects.items())
                if kind == wanted and matches(label_selector, obj["metadata"].get("labels"))
            ]
            return ObjectList(items=items, resource_version=str(self.version))

    def watch_pods(
        self, label_selector: str, resource_version: str, timeout_seconds: int
    ) -> _Stream:
        with self._changed:
            self._record("watch_pods", "pods")
            after = int(resource_version or "0")
            if after < self.compacted:
                raise Gone(410, "Expired", f"too old resource version: {after}")
            stream = _Stream(api=self, selector=label_selector, after=after)
            self.watches.append(stream)
            return stream

    def pod_log(
        self, name: str, container: str, *, since_time: str | None, limit_bytes: int | None
    ) -> bytes:
        with self._changed:
            self._record("pod_log", "pods/log")
            if ("pods", name) not in self.objects:
                raise KubeError(404, "NotFound", f'pods "{name}" not found')
            lines = self.logs.get(name, [])
            if since_time:
                lines = [(stamp, text) for stamp, text in lines if stamp[:19] >= since_time[:19]]
            data = "".join(f"{stamp} {text}" for stamp, text in lines).encode()
            return data[:limit_bytes] if limit_bytes else data

    def exec(
        self,
        name: str,
        container: str,
        argv: Sequence[str],
        timeout: float,
        limit_bytes: int,
        stop: threading.Event | None = None,
    ) -> ExecResult:
        with self._changed:
            self._record("exec", "pods/exec")
            self.exec_stops.append(stop)
            if ("pods", name) not in self.objects:
                raise KubeError(404, "NotFound", f'pods "{name}" not found')
        return self.exec_handler(list(argv), timeout, limit_bytes)

    def exec_bytes(
        self, name: str, container: str, argv: Sequence[str], stdin: bytes | None, timeout: float
    ) -> ExecBytes:
        with self._changed:
            self._record("exec_bytes", "pods/exec")
            if ("pods", name) not in self.objects:
                raise KubeError(404, "NotFound", f'pods "{name}" not found')
        return self.exec_bytes_handler(name, list(argv), stdin)

    # -- test hooks ----------------------------------------------------------------------

    def fail(self, method: str, error: Exception, times: int | None = 1) -> None:
        """The next `times` calls of `method` raise `error` (None: until clear_failures)."""
        self.failures.setdefault(method, []).append(_Failure(error, times))

    def clear_failures(self) -> None:
        self.failures.clear()

    def set_status(self, name: str, status: Obj) -> None:
        """The kubelet reports `status` for Pod `name` (a MODIFIED event)."""
        with self._changed:
            obj = self.objects[("pods", name)]
            obj["status"] = copy.deepcopy(status)
            self._bump(obj)
            self._event("MODIFIED", obj)

    def add_object(self, kind: str, body: Obj) -> Obj:
        """Creates an object as someone else would, without recording a call."""
        with self._changed:
            calls = list(self.calls)
            created = self.create(kind, body)
            self.calls[:] = calls
            return created

    def finish_termination(self, name: str) -> None:
        """A terminating Pod is finally gone."""
        with self._changed:
            self._remove("pods", name, self.propagations.pop(name, "Background"))

    def write_log(self, name: str, stamp: str, text: str) -> None:
        with self._changed:
            self.logs.setdefault(name, []).append((stamp, text))

    def end_watches(self) -> None:
        """Every open watch ends, as when the server's timeout passes."""
        with self._changed:
            for stream in self.watches:
                stream.ended = True
            self._changed.notify_all()

    def break_watches(self, error: Exception) -> None:
        """Every open watch raises `error` once it has delivered what it had."""
        with self._changed:
            for stream in self.watches:
                stream.error = error
            self._changed.notify_all()

    def compact(self) -> None:
        """Versions before the current one are forgotten: watching from them is Gone."""
        with self._changed:
            self.compacted = self.version

    def open_watches(self) -> list[_Stream]:
        with self._changed:
            return [s for s in self.watches if not (s.closed or s.ended or s.error)]

    def names(self, kind: str) -> list[str]:
        with self._changed:
            return sorted(name for k, name in self.objects if k == kind)

    def get(self, kind: str, name: str) -> Obj:
        with self._changed:
            return copy.deepcopy(self.objects[(kind, name)])

    # -- internals -----------------------------------------------------------------------

    def _remove(self, kind: str, name: str, propagation: str) -> None:
        obj = self.objects.pop((kind, name))
        self._bump(obj)
        if kind == "pods":
            self._event("DELETED", obj)
        uid = obj["metadata"]["uid"]
        for (other_kind, other_name), other in list(self.objects.items()):
            refs = other["metadata"].get("ownerReferences") or []
            if not any(ref["uid"] == uid for ref in refs):
                continue
            remaining = [ref for ref in refs if ref["uid"] != uid]
            if propagation == "Orphan" or remaining:
                other["metadata"]["ownerReferences"] = remaining
                if not remaining:
                    del other["metadata"]["ownerReferences"]
                self._bump(other)
            else:
                self._remove(other_kind, other_name, "Background")

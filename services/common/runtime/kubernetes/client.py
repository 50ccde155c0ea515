"""KubeApi: the few Kubernetes API calls the runtime makes, as one small seam, and ClusterApi,
its implementation over the official `kubernetes` client.

Called by runtime.KubernetesRuntime and informer.PodInformer (from worker threads: every method
blocks). Tests replace KubeApi with an in-memory double (tests/unit/runtime/kubernetes); this
module is the only one of ours that imports `kubernetes`. Objects cross this seam as plain
dicts in the API's JSON form, exactly as the API server sends them (`_preload_content=False`
and json.loads), so no client model ever reaches our code. Exec goes over the API's WebSocket
(kubernetes.stream) with an ApiClient of its own.

Errors are translated here, once: a missing object is a return value (None / False), a name
already taken on create is AlreadyExists, an expired watch is Gone, anything else the API or
the network reports is KubeError with the HTTP status (None when the server was not reached).

RBAC: `SPAWNER_ACCESS` lists the verbs the spawner needs per resource, from the methods of the
Runtime it calls (`SPAWNER_RUNTIME_METHODS`: all of them, since health observes the runtime
through the spawner) and the KubeApi calls those make (`API_VERBS`). The spawner's Role in
deploy/kubernetes grants exactly these (with STORAGE_ACCESS); tests check both the code and the
manifests against them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import kubernetes.client
import kubernetes.config
import kubernetes.stream
import kubernetes.watch.watch
import urllib3.exceptions
import websocket
from kubernetes.client.exceptions import ApiException

from services.common.runtime.types import ExecResult

Obj = dict[str, Any]
Kind = Literal["pods", "services", "secrets", "persistentvolumeclaims"]
PatchableKind = Literal["services", "secrets"]
Propagation = Literal["Background", "Foreground", "Orphan"]

# The client's functions are untyped; these names keep mypy's strictness for our own code.
_config: Any = kubernetes.config
_resp_lines: Any = kubernetes.watch.watch.iter_resp_lines
_ws_stream: Any = kubernetes.stream.stream

MERGE_PATCH = "application/merge-patch+json"
CONNECT_TIMEOUT = 10.0
WATCH_READ_GRACE = 30.0  # read timeout of a watch beyond its server-side timeout, seconds

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
    {"ensure", "remove", "inspect", "list_managed", "logs_since", "watch", "exec"}
)
# What the spawner's ServiceAccount may do in the pods namespace (core API group).
SPAWNER_ACCESS: Mapping[str, frozenset[str]] = {
    "pods": frozenset({"create", "delete", "get", "list", "watch"}),
    "pods/log": frozenset({"get"}),
    "pods/exec": frozenset({"create", "get"}),
    "services": frozenset({"create", "delete", "get", "patch"}),
    "secrets": frozenset({"create", "delete", "get", "patch"}),
}
# What the volume store (storage/kubernetes_volumes.py, served by the spawner) may do in the
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


# --- the implementation over the kubernetes client ------------------------------------------

_SINGULAR = {
    "pods": "pod",
    "services": "service",
    "secrets": "secret",
    "persistentvolumeclaims": "persistent_volume_claim",
}
STDIN_CHUNK_BYTES = 1024 * 1024
_HANDSHAKE = re.compile(r"Handshake status (\d{3})")
EXEC_POLL_SECONDS = 0.5


def _status_error(status: int | None, body: str | bytes | None, fallback: str) -> KubeError:
    """Our error for an API failure, with the reason and message of its Status body."""
    reason, message = fallback, ""
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        parsed = json.loads(body or "")
        reason = str(parsed.get("reason") or fallback)
        message = str(parsed.get("message") or "")
    if status == 409 and reason == "AlreadyExists":
        return AlreadyExists(status, reason, message)
    if status == 410:
        return Gone(status, reason, message)
    return KubeError(status, reason, message or fallback)


@contextlib.contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turns client, HTTP and validation errors into KubeError."""
    try:
        yield
    except ApiException as exc:
        if not exc.status:  # a WebSocket call: the client puts the handshake in the reason
            match = _HANDSHAKE.search(str(exc.reason))
            status = int(match[1]) if match else None
            raise KubeError(status, "WebSocketFailed", f"{action}: {exc.reason}") from exc
        raise _status_error(exc.status, exc.body, str(exc.reason or "Error")) from exc
    except (urllib3.exceptions.HTTPError, websocket.WebSocketException, OSError) as exc:
        raise KubeError(None, "Unreachable", f"{action}: {exc}") from exc
    except ValueError as exc:  # the client's own validation of a body (pydantic)
        raise KubeError(422, "Invalid", f"{action}: {exc}") from exc


def _json(response: Any) -> Obj:
    data = json.loads(response.data)
    if not isinstance(data, dict):
        raise KubeError(None, "BadResponse", "the API server answered something not an object")
    return data


class _HttpWatchStream:
    """A watch over one streaming HTTP response (newline-delimited JSON events)."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self._closed = False

    def __iter__(self) -> Iterator[WatchEvent]:
        with _translated("watching pods"):
            for line in _resp_lines(self._response):
                if not line:
                    continue
                event = json.loads(line)
                kind, obj = str(event.get("type", "")), event.get("object") or {}
                if kind == "ERROR":
                    raise _status_error(obj.get("code"), json.dumps(obj), "WatchError")
                yield WatchEvent(type=kind, object=obj)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # best effort: the connection may be gone
            self._response.close()
            self._response.release_conn()


class ClusterApi:
    """KubeApi over the official client, in one namespace."""

    def __init__(self, core: Any, namespace: str, request_timeout: float = 30.0) -> None:
        self._core = core  # a kubernetes.client.CoreV1Api
        self._namespace = namespace
        self._timeout = (CONNECT_TIMEOUT, request_timeout)

    @classmethod
    def connect(
        cls,
        namespace: str,
        *,
        kubeconfig: str = "",
        context: str = "",
        request_timeout: float = 30.0,
    ) -> ClusterApi:
        """A client configured from the pod's service account when running in a cluster
        (and no kubeconfig is named), else from the kubeconfig (KUBECONFIG or ~/.kube/config)."""
        configuration = kubernetes.client.Configuration()
        with _translated("loading the Kubernetes client configuration"):
            try:
                if os.environ.get("KUBERNETES_SERVICE_HOST") and not kubeconfig:
                    _config.load_incluster_config(client_configuration=configuration)
                else:
                    _config.load_kube_config(
                        config_file=kubeconfig or None,
                        context=context or None,
                        client_configuration=configuration,
                    )
            except _config.ConfigException as exc:
                raise KubeError(None, "NoConfiguration", str(exc)) from exc
        api_client = kubernetes.client.ApiClient(configuration)
        return cls(kubernetes.client.CoreV1Api(api_client), namespace, request_timeout)

    def close(self) -> None:
        """Closes the client's connection pool."""
        self._core.api_client.close()

    def _call(self, verb: str, kind: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self._core, f"{verb}_namespaced_{_SINGULAR[kind]}")
        return method(*args, _preload_content=False, _request_timeout=self._timeout, **kwargs)

    def read(self, kind: Kind, name: str) -> Obj | None:
        with _translated(f"reading {kind}/{name}"):
            try:
                return _json(self._call("read", kind, name, self._namespace))
            except ApiException as exc:
                if exc.status == 404:
                    return None
                raise

    def create(self, kind: Kind, body: Obj) -> Obj:
        with _translated(f"creating {kind}/{body.get('metadata', {}).get('name', '')}"):
            return _json(self._call("create", kind, self._namespace, body))

    def patch(self, kind: PatchableKind, name: str, patch: Obj) -> Obj:
        with _translated(f"patching {kind}/{name}"):
            return _json(
                self._call("patch", kind, name, self._namespace, patch, _content_type=MERGE_PATCH)
            )

    def delete(self, kind: Kind, name: str, *, propagation: Propagation = "Background") -> bool:
        with _translated(f"deleting {kind}/{name}"):
            try:
                self._call("delete", kind, name, self._namespace, propagation_policy=propagation)
            except ApiException as exc:
                if exc.status == 404:
                    return False
                raise
        return True

    def list_pods(self, label_selector: str) -> ObjectList:
        return self._list("pods", label_selector)

    def list_claims(self, label_selector: str) -> ObjectList:
        return self._list("persistentvolumeclaims", label_selector)

    def _list(self, kind: Kind, label_selector: str) -> ObjectList:
        with _translated(f"listing {kind}"):
            response = self._call("list", kind, self._namespace, label_selector=label_selector)
            listing = _json(response)
        return ObjectList(
            items=list(listing.get("items") or []),
            resource_version=str((listing.get("metadata") or {}).get("resourceVersion", "")),
        )

    def watch_pods(
        self, label_selector: str, resource_version: str, timeout_seconds: int
    ) -> WatchStream:
        with _translated("watching pods"):
            response = self._core.list_namespaced_pod(
                self._namespace,
                label_selector=label_selector,
                watch=True,
                resource_version=resource_version or None,
                timeout_seconds=timeout_seconds,
                allow_watch_bookmarks=True,
                _preload_content=False,
                _request_timeout=(CONNECT_TIMEOUT, timeout_seconds + WATCH_READ_GRACE),
            )
        return _HttpWatchStream(response)

    def pod_log(
        self, name: str, container: str, *, since_time: str | None, limit_bytes: int | None
    ) -> bytes:
        # The generated read_namespaced_pod_log has no sinceTime, so the request is built
        # with the client's own serializer (auth, host and TLS as for every other call).
        query: list[tuple[str, object]] = [("container", container), ("timestamps", "true")]
        if since_time:
            query.append(("sinceTime", since_time))
        if limit_bytes:
            query.append(("limitBytes", limit_bytes))
        api_client = self._core.api_client
        with _translated(f"reading the log of pods/{name}"):
            request = api_client.param_serialize(
                method="GET",
                resource_path="/api/v1/namespaces/{namespace}/pods/{name}/log",
                path_params={"namespace": self._namespace, "name": name},
                query_params=query,
                header_params={"Accept": "text/plain"},
                auth_settings=["BearerToken"],
            )
            response = api_client.call_api(*request, _request_timeout=self._timeout)
            data = response.read()
            if not 200 <= response.status <= 299:
                raise _status_error(response.status, data, str(response.reason or "Error"))
        return bytes(data)

    def exec(
        self,
        name: str,
        container: str,
        argv: Sequence[str],
        timeout: float,
        limit_bytes: int,
        stop: threading.Event | None = None,
    ) -> ExecResult:
        with self._exec_session(name, container, argv, stdin=False) as session:
            run = _ExecSession(session, limit_bytes).run(timeout, stop)
        return ExecResult(
            exit_code=run.exit_code,
            stdout=run.stdout.decode(errors="replace"),
            stderr=run.stderr.decode(errors="replace"),
            timed_out=run.exit_code is None,
        )

    def exec_bytes(
        self, name: str, container: str, argv: Sequence[str], stdin: bytes | None, timeout: float
    ) -> ExecBytes:
        with self._exec_session(name, container, argv, stdin=stdin is not None) as session:
            with _translated(f"writing to a command in pods/{name}"):
                for start in range(0, len(stdin or b""), STDIN_CHUNK_BYTES):
                    session.write_stdin((stdin or b"")[start : start + STDIN_CHUNK_BYTES])
            return _ExecSession(session, None).run(timeout)

    @contextlib.contextmanager
    def _exec_session(
        self, name: str, container: str, argv: Sequence[str], *, stdin: bool
    ) -> Iterator[Any]:
        """An open binary exec WebSocket (kubernetes.stream.ws_client.WSClient), closed after.

        kubernetes.stream swaps the transport of the ApiClient it is given while it opens the
        WebSocket, so each exec gets an ApiClient of its own (same configuration)."""
        api_client: Any = kubernetes.client.ApiClient(self._core.api_client.configuration)
        try:
            core = kubernetes.client.CoreV1Api(api_client)
            with _translated(f"running a command in pods/{name}"):
                session = _ws_stream(
                    core.connect_get_namespaced_pod_exec,
                    name,
                    self._namespace,
                    container=container,
                    command=list(argv),
                    stdin=stdin,
                    stdout=True,
                    stderr=True,
                    tty=False,
                    binary=True,
                    _preload_content=False,
                )
                try:
                    yield session
                finally:
                    session.close()
        finally:
            api_client.close()


class _ExecSession:
    """Reads one exec's channels (bytes) until the process ends or the time is up, keeping
    the last `limit_bytes` of each (everything when None)."""

    def __init__(self, session: Any, limit_bytes: int | None) -> None:
        self._session = session  # a kubernetes.stream.ws_client.WSClient in binary mode
        self._limit = limit_bytes
        self._out = bytearray()
        self._err = bytearray()

    def run(self, timeout: float, stop: threading.Event | None = None) -> ExecBytes:
        """Reads until the command ends; gives up (exit code None) after `timeout` seconds
        or within EXEC_POLL_SECONDS of `stop` being set."""
        deadline = time.monotonic() + timeout
        timed_out = False
        with _translated("reading a command's output"):
            while self._session.is_open():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (stop is not None and stop.is_set()):
                    timed_out = True
                    break
                self._session.update(timeout=min(remaining, EXEC_POLL_SECONDS))
                self._collect()
            self._collect()
            code = None if timed_out else self._exit_code()
        return ExecBytes(exit_code=code, stdout=bytes(self._out), stderr=bytes(self._err))

    def _keep_tail(self, buffer: bytearray) -> None:
        if self._limit is not None and len(buffer) > self._limit:
            del buffer[: len(buffer) - self._limit]

    def _collect(self) -> None:
        if self._session.peek_stdout():
            self._out += self._session.read_stdout()
            self._keep_tail(self._out)
        if self._session.peek_stderr():
            self._err += self._session.read_stderr()
            self._keep_tail(self._err)

    def _exit_code(self) -> int:
        """From the error channel: Success is 0, NonZeroExitCode carries the code; a command
        that could not start is 127 when not found, else 126 (as shells report them), with
        the API's message added to stderr."""
        raw = self._session.read_channel(_ERROR_CHANNEL)
        try:
            status = json.loads(raw) if raw else {}
        except ValueError:
            status = {}
        if status.get("status") == "Success":
            return 0
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                return int(cause.get("message", "1"))
        message = str(status.get("message") or "the command ended without an exit status")
        self._err += (message + "\n").encode()
        self._keep_tail(self._err)
        return 127 if "not found" in message else 126


_ERROR_CHANNEL = 3

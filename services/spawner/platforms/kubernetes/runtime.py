"""KubernetesRuntime: the Runtime seam on a Kubernetes cluster.

Called by services/spawner (ensure, remove, inspect, list_managed, exec, copy_into) and
services/health (inspect, list_managed, logs_since, watch); built by
services/spawner/platforms/factory.py.
Talks to the cluster only through client.KubeApi; blocking calls run in worker threads.
KubeApi errors are translated once, by errors.py, into TemporaryError and PermanentError.

A pod is three objects sharing one deterministic name (names.object_name) in the configured
namespace, all labelled with deployment, tenant and pod and annotated with the exact ids:
- a Secret with the spec's environment, which the Pod's variables refer to by key;
- the Pod (manifests.pod_manifest), annotated with the spec hash;
- a ClusterIP Service for the routed ports (none when no port is routed).
The Service and the Secret are owned by the Pod (ownerReferences), so deleting the Pod by any
means lets the garbage collector delete them too; `remove` deletes all three itself anyway.

ensure, step by step (every step create-or-adopt, so a replay or a crash in between converges):
1. the Secret: created, or adopted with its data brought up to date;
2. the Pod: created ("created"); adopted when its spec hash matches ("adopted", whatever its
   phase: a stopped pod is left for health to report); when the hash differs, deleted with
   the Orphan policy (its Service and Secret stay and are re-owned) and created again
   ("replaced") as soon as it is gone; a Pod still terminating makes ensure raise
   TemporaryError, so the spawner retries a moment later;
3. the Service: created, or adopted with its ports, selector and owner brought up to date;
4. the Secret's owner set to the Pod.
Volume and snapshot mounts become PersistentVolumeClaim volumes of the Pod (see manifests.py).
The claims must exist, which the API's volume store ensures; a Pod whose claim is missing stays
Pending, and health reports it as an error with the scheduler's message (see state.py).
An object with our name but another deployment's or pod's annotations is never touched:
ensure raises PermanentError and the read methods treat it as absent.

Reads: in the health process `watch()` starts a PodInformer; while it is synced, inspect and
list_managed read its cache instead of the API server. Elsewhere (the spawner) they read the
API. `published` is always empty: pods are reached through their Service
(names.service_host), and readiness is the kubelet's probe (see state.py).

Logs: the cursor is the kubelet's timestamp of the newest line returned (see logs.py); a read
fetches pages of at most max(limit_bytes, 64 KiB) after the cursor, up to MAX_LOG_PAGES of
them, and keeps the last `limit_bytes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.kubernetes.names import (
    ANNOTATION_SPEC_HASH,
    deployment_selector,
    object_name,
    owned_key,
)
from services.common.runtime.naming import tail_text, validate_slug, with_hash
from services.common.runtime.types import (
    ContainerSpec,
    ContainerState,
    EnsureResult,
    ExecResult,
    LogChunk,
    PodKey,
    RuntimeEvent,
)
from services.spawner.platforms.cursors import cursor_nanos
from services.spawner.platforms.file_archive import one_file_tar, split_dest
from services.spawner.platforms.kubernetes.api import AlreadyExists, Kind, KubeApi, KubeError
from services.spawner.platforms.kubernetes.config import KubernetesConfig
from services.spawner.platforms.kubernetes.connection import LazyKubeApi
from services.spawner.platforms.kubernetes.copy_in import COPY_TIMEOUT, copy_command, copy_outcome
from services.spawner.platforms.kubernetes.errors import (
    translated_kube_errors,
)
from services.spawner.platforms.kubernetes.informer import PodInformer
from services.spawner.platforms.kubernetes.logs import (
    complete_lines,
    lines_after,
    since_time,
    stamp_nanos,
)
from services.spawner.platforms.kubernetes.manifests import (
    CONTAINER_NAME,
    owner_reference,
    pod_manifest,
    secret_manifest,
    service_manifest,
)
from services.spawner.platforms.kubernetes.state import has_started, is_running, pod_state

log = logging.getLogger(__name__)

T = TypeVar("T")
Obj = dict[str, Any]

MIN_LOG_PAGE_BYTES = 64 * 1024
MAX_LOG_PAGES = 8
TERMINATING_RETRY_DELAY = 2.0


def _owner_uids(obj: Obj) -> list[str]:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return [str(ref.get("uid", "")) for ref in refs]


def _port_view(ports: list[Obj]) -> list[tuple[Any, ...]]:
    return [
        (p.get("name"), p.get("port"), p.get("targetPort"), p.get("protocol", "TCP")) for p in ports
    ]


class KubernetesRuntime:
    """Runtime over one namespace of a cluster; manages only objects of `deployment_id`."""

    def __init__(
        self,
        deployment_id: str,
        config: KubernetesConfig | None = None,
        api: KubeApi | None = None,
        *,
        api_factory: Callable[[], KubeApi] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        exec_workers: int = 32,
    ) -> None:
        self.deployment_id = validate_slug("deployment id", deployment_id)
        self.config = config or KubernetesConfig()
        self._api = LazyKubeApi(self.config, api, api_factory)
        self._clock = clock
        self._sleep = sleep
        self._informer: PodInformer | None = None
        self._informer_task: asyncio.Task[None] | None = None
        # Commands run on threads of their own: lifecycle calls never wait behind them.
        self._exec_pool = ThreadPoolExecutor(exec_workers, thread_name_prefix="exec")

    async def aclose(self) -> None:
        """Stops the pod cache and closes a client this runtime connected itself (one passed
        in is left open). Not part of the Runtime protocol: whoever built the runtime calls
        it at exit."""
        task, self._informer_task = self._informer_task, None
        self._informer = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._exec_pool.shutdown(wait=False, cancel_futures=True)
        self._api.close()

    # -- the Runtime protocol ----------------------------------------------------------

    async def ensure(self, spec: ContainerSpec) -> EnsureResult:
        """Creates, adopts or replaces the pod's objects (see the module docstring)."""
        return await self._in_thread(f"ensuring {spec.key}", self._ensure_sync, spec)

    async def remove(self, key: PodKey) -> bool:
        """Deletes the pod's Pod, Service and Secret; False if none of ours existed."""
        return await self._in_thread(f"removing {key}", self._remove_sync, key)

    async def inspect(self, key: PodKey) -> ContainerState | None:
        """The pod's container as its Pod reports it, or None."""
        pod = await self._owned_pod(key)
        return None if pod is None else pod_state(key, pod)

    async def list_managed(self) -> list[ContainerState]:
        """Every Pod of this deployment, by key."""
        informer = self._informer
        if informer is not None and informer.synced:
            pods = informer.pods()
        else:
            listing = await self._in_thread(
                "listing pods", lambda: self._api.get().list_pods(self._selector())
            )
            pods = listing.items
        states = []
        for pod in pods:
            key = owned_key(self.deployment_id, pod.get("metadata"))
            if key is not None:
                states.append(pod_state(key, pod))
        return sorted(states, key=lambda state: state.key)

    async def logs_since(self, key: PodKey, cursor: str, limit_bytes: int) -> LogChunk:
        """Output after `cursor`, at most its last `limit_bytes` (see the module docstring)."""
        after = cursor_nanos(cursor, stamp_nanos, "a Kubernetes log timestamp")
        pod = await self._owned_pod(key)
        if pod is None or not has_started(pod):
            return LogChunk(text="", cursor=cursor)
        return await self._in_thread(
            f"reading logs of {key}", self._logs_sync, key, after, cursor, limit_bytes
        )

    def watch(self) -> AsyncIterator[RuntimeEvent]:
        """Changes of this deployment's Pods from now on, from the shared pod cache."""
        return self._watch()

    async def exec(
        self, key: PodKey, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        """Runs `argv` in the pod's running container (the exec subresource, no shell) on the
        exec threads, never those of lifecycle calls. At the timeout, or when the caller is
        cancelled, the stream is closed; Kubernetes cannot signal the process, which may go
        on running inside the container until it ends by itself."""
        pod = await self._owned_pod(key)
        if pod is None or not is_running(pod):
            raise PermanentError(f"pod '{key.pod_id}' has no running container")
        name, command, stop = self._name(key), list(argv), threading.Event()
        loop = asyncio.get_running_loop()
        with translated_kube_errors(f"running a command in {key}"):
            run = loop.run_in_executor(
                self._exec_pool,
                lambda: self._api.get().exec(
                    name, CONTAINER_NAME, command, timeout, limit_bytes, stop
                ),
            )
            try:
                return await asyncio.shield(run)
            except asyncio.CancelledError:
                stop.set()  # the thread closes the stream within its next poll
                raise

    async def copy_into(self, key: PodKey, dest_path: str, data: bytes) -> None:
        """Writes the file into the pod's running container by running `tar -x` there with
        a one-file archive on its stdin (as `kubectl cp` does): the image must have `tar`."""
        pod = await self._owned_pod(key)
        if pod is None or not is_running(pod):
            raise PermanentError(f"pod '{key.pod_id}' has no running container")
        directory, name = split_dest(dest_path)
        argv = copy_command(directory)
        archive = one_file_tar(name, data)
        done = await self._in_thread(
            f"copying a file into {key}",
            lambda: self._api.get().exec_bytes(
                self._name(key), CONTAINER_NAME, argv, archive, COPY_TIMEOUT
            ),
        )
        copy_outcome(done, directory)

    # -- plumbing ----------------------------------------------------------------------

    async def _in_thread(self, action: str, fn: Callable[..., T], *args: Any) -> T:
        with translated_kube_errors(action):
            return await asyncio.to_thread(fn, *args)

    def _name(self, key: PodKey) -> str:
        try:
            return object_name(self.deployment_id, key)
        except ValueError as exc:
            raise PermanentError(str(exc)) from exc

    def _selector(self) -> str:
        return deployment_selector(self.deployment_id)

    def _is_ours(self, key: PodKey, obj: Obj | None) -> bool:
        return obj is not None and owned_key(self.deployment_id, obj.get("metadata")) == key

    async def _owned_pod(self, key: PodKey) -> Obj | None:
        """The pod's Pod from the cache when it is synced, else from the API; None when
        absent or not ours."""
        name = self._name(key)
        informer = self._informer
        if informer is not None and informer.synced:
            pod = informer.get(name)
        else:
            pod = await self._in_thread(
                f"inspecting {key}", lambda: self._api.get().read("pods", name)
            )
        return pod if self._is_ours(key, pod) else None

    def _refuse_foreign(self, kind: str, key: PodKey, obj: Obj) -> None:
        if not self._is_ours(key, obj):
            name = (obj.get("metadata") or {}).get("name", "")
            raise PermanentError(
                f"a {kind} named {name!r} exists in namespace {self.config.namespace!r} that "
                f"deployment {self.deployment_id!r} did not create for pod {key.pod_id!r} of "
                f"tenant {key.tenant_id!r}; it is left untouched"
            )

    def _create_or_read(self, kind: Kind, body: Obj) -> Obj:
        """Creates `body`; when another creator was first, their object instead."""
        api = self._api.get()
        try:
            return api.create(kind, body)
        except AlreadyExists:
            current = api.read(kind, body["metadata"]["name"])
        if current is None:
            raise TemporaryError(f"{kind}/{body['metadata']['name']} came and went; retrying")
        return current

    # -- ensure ------------------------------------------------------------------------

    def _ensure_sync(self, spec: ContainerSpec) -> EnsureResult:
        spec = spec if spec.spec_hash else with_hash(spec)
        name = self._name(spec.key)
        pod_body = pod_manifest(self.deployment_id, spec, self.config)  # PermanentError first
        secret = self._ensure_secret(spec, name)
        pod, action = self._ensure_pod(spec, name, pod_body)
        uid = str(pod["metadata"]["uid"])
        self._ensure_service(spec, name, uid)
        self._own_secret(secret, uid)
        return EnsureResult(action, pod_state(spec.key, pod))

    def _ensure_secret(self, spec: ContainerSpec, name: str) -> Obj:
        desired = secret_manifest(self.deployment_id, spec, self.config)
        api = self._api.get()
        current = api.read("secrets", name)
        if current is None:
            current = self._create_or_read("secrets", desired)
        self._refuse_foreign("secret", spec.key, current)
        data = current.get("data") or {}
        if data != desired["data"]:
            removed = {key: None for key in data if key not in desired["data"]}
            current = api.patch("secrets", name, {"data": {**desired["data"], **removed}})
        return current

    def _ensure_pod(self, spec: ContainerSpec, name: str, body: Obj) -> tuple[Obj, str]:
        api = self._api.get()
        pod = api.read("pods", name)
        if pod is None:
            try:
                return api.create("pods", body), "created"
            except AlreadyExists:  # another spawner was first: adopt theirs below
                pod = api.read("pods", name)
            if pod is None:
                raise TemporaryError(f"pod {name} came and went; retrying")
        self._refuse_foreign("pod", spec.key, pod)
        meta = pod.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            raise TemporaryError(
                f"pod {name} is still terminating; it is created again once it is gone",
                delay=TERMINATING_RETRY_DELAY,
            )
        if (meta.get("annotations") or {}).get(ANNOTATION_SPEC_HASH) == spec.spec_hash:
            return pod, "adopted"
        # The spec changed: the Service and the Secret are kept (Orphan) and re-owned.
        api.delete("pods", name, propagation="Orphan")
        if api.read("pods", name) is None:
            return self._create_or_read("pods", body), "replaced"
        raise TemporaryError(
            f"replacing pod {name}: waiting for the previous one to terminate",
            delay=TERMINATING_RETRY_DELAY,
        )

    def _ensure_service(self, spec: ContainerSpec, name: str, pod_uid: str) -> None:
        api = self._api.get()
        desired = service_manifest(self.deployment_id, spec, self.config, pod_uid)
        current = api.read("services", name)
        if current is not None:
            self._refuse_foreign("service", spec.key, current)
        if desired is None:
            if current is not None:
                api.delete("services", name)
            return
        if current is None:
            current = self._create_or_read("services", desired)
            self._refuse_foreign("service", spec.key, current)
        want, have = desired["spec"], current.get("spec") or {}
        spec_patch: Obj = {}
        if _port_view(have.get("ports") or []) != _port_view(want["ports"]):
            spec_patch["ports"] = want["ports"]
        if have.get("selector") != want["selector"]:
            spec_patch["selector"] = want["selector"]
        if spec_patch or _owner_uids(current) != [pod_uid]:
            owners = desired["metadata"]["ownerReferences"]
            patch: Obj = {"metadata": {"ownerReferences": owners}}
            if spec_patch:
                patch["spec"] = spec_patch
            api.patch("services", name, patch)

    def _own_secret(self, secret: Obj, pod_uid: str) -> None:
        if _owner_uids(secret) == [pod_uid]:
            return
        name = str(secret["metadata"]["name"])
        owners = [owner_reference(name, pod_uid)]
        self._api.get().patch("secrets", name, {"metadata": {"ownerReferences": owners}})

    # -- remove ------------------------------------------------------------------------

    def _remove_sync(self, key: PodKey) -> bool:
        name = self._name(key)
        api = self._api.get()
        removed = False
        kinds: tuple[Kind, ...] = ("pods", "services", "secrets")
        for kind in kinds:
            if self._is_ours(key, api.read(kind, name)):
                removed = api.delete(kind, name, propagation="Background") or removed
        return removed

    # -- logs --------------------------------------------------------------------------

    def _logs_sync(self, key: PodKey, after: int | None, cursor: str, limit: int) -> LogChunk:
        name = self._name(key)
        page = max(limit, MIN_LOG_PAGE_BYTES)
        text, newest = "", cursor
        for _ in range(MAX_LOG_PAGES):
            try:
                raw = self._api.get().pod_log(
                    name,
                    CONTAINER_NAME,
                    since_time=None if after is None else since_time(after),
                    limit_bytes=page,
                )
            except KubeError as exc:
                if exc.status in (400, 404):  # not started yet, or gone meanwhile
                    break
                raise
            full = len(raw) >= page
            fresh, stamp = lines_after(complete_lines(raw.decode(errors="replace"), full), after)
            text = tail_text(text + fresh, limit)
            if stamp:
                newest, after = stamp, stamp_nanos(stamp)
            if not full or not stamp:
                break
        return LogChunk(text=text, cursor=newest)

    # -- events ------------------------------------------------------------------------

    def _running_informer(self) -> PodInformer:
        """The pod cache, started (or restarted, if its task ended) on the running loop."""
        task = self._informer_task
        if self._informer is None or task is None or task.done():
            if task is not None and task.done() and not task.cancelled() and task.exception():
                log.error("the pod cache stopped; restarting it", exc_info=task.exception())
            self._informer = PodInformer(
                self._api.get(),
                self._selector(),
                self.config.informer,
                clock=self._clock,
                sleep=self._sleep,
            )
            self._informer_task = asyncio.get_running_loop().create_task(
                self._informer.run(), name="pod-informer"
            )
        return self._informer

    async def _watch(self) -> AsyncIterator[RuntimeEvent]:
        with translated_kube_errors("following pods"):  # connecting may fail: TemporaryError
            informer = self._running_informer()
        queue = informer.subscribe()
        try:
            while True:
                change = await queue.get()
                key = owned_key(self.deployment_id, change.pod.get("metadata"))
                if key is not None:
                    yield RuntimeEvent(key=key, action=change.action)
        finally:
            informer.unsubscribe(queue)

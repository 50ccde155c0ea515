"""DockerRuntime: the Runtime seam implemented with the Docker SDK on one machine.

Called by services/spawner (ensure, remove) and services/health (inspect, list_managed,
logs_since, watch), built by platforms/factory.py. Blocking SDK calls
run on the runtime's own worker threads (`lifecycle_workers` of them, each with an engine
connection, so a burst of creates reaches the engine at once rather than a few at a time
through asyncio's small default pool); commands in pods have threads of their own, and the
endless event stream a daemon thread. SDK errors are translated once (errors.py) into
TemporaryError and PermanentError.
The pure translations (spec -> SDK arguments, SDK data -> our records) are translate.py's;
the event stream and exec threads are sessions.py's.

Isolation (network.py explains it; network_choice.py picks the network): by default
(`network_mode` "auto") every pod container joins the engine's default bridge while the engine
keeps inter-container traffic off there, else the deployment's one bridge, on which it is off
(shared_network.py); "shared", "per-pod" (a bridge of its own per pod, or a warm one) and
"default-bridge" fix the choice. A container of ours on any other network (made by an earlier
version) is replaced, and a pod's own network is removed with it in all modes. Every
container is hardened as platforms/hardening.py describes: no new privileges, all
capabilities dropped but the few an image needs to step down from root, a pids limit, never
privileged, only named volumes.

Ownership: a container is ours when its labels name this deployment and the pod its name
belongs to. Anything else is never started, replaced or removed; `ensure` reports it as a
PermanentError and the read methods treat it as absent.

Logs: the cursor is the RFC3339Nano timestamp Docker put on the newest line returned. Docker
honours `since` to the nanosecond and includes lines stamped exactly `since`, so the next read
asks from one microsecond before the cursor and drops lines not strictly after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn, TypeVar

import docker
import docker.errors
import docker.types

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.naming import (
    container_name,
    owned_key,
    tail_text,
    validate_slug,
    with_hash,
)
from services.common.runtime.types import (
    LABEL_DEPLOYMENT,
    ContainerSpec,
    ContainerState,
    EnsureResult,
    ExecResult,
    LogChunk,
    Phase,
    PodKey,
    RuntimeEvent,
)
from services.spawner.platforms.docker.copy_in import put_file
from services.spawner.platforms.docker.errors import translated_docker_errors
from services.spawner.platforms.docker.lean_calls import container_logs, create_container
from services.spawner.platforms.docker.network import PodNetworks
from services.spawner.platforms.docker.network_choice import (
    NETWORK_MODES,
    NetworkChoice,
    Placement,
)
from services.spawner.platforms.docker.network_pool import NetworkPool
from services.spawner.platforms.docker.sessions import EventPump, ExecSession, kill_exec
from services.spawner.platforms.docker.translate import (
    WATCHED_ACTIONS,
    Attrs,
    create_kwargs,
    docker_cursor_nanos,
    event_from_raw,
    lines_after,
    since_param,
    state_from_attrs,
)
from services.spawner.platforms.hardening import DEFAULT_PIDS_LIMIT

T = TypeVar("T")
# A concurrent creator reserves the name before its container can be inspected (409 on
# create, 404 on inspect for ~0.1 s): retry the lookup with these pauses, in seconds.
NAME_TAKEN_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)


LIFECYCLE_WORKERS = 32  # engine calls of ensure/remove/inspect/list/logs in flight at once
EXEC_KILL_GRACE = 5.0  # seconds for a killed command's output to end before it is closed
EXEC_START_WAIT = 5.0  # seconds to wait for a just-started exec to report its pid

log = logging.getLogger(__name__)


class _NameTaken(Exception):
    """Another creator took the container name between our lookup and our create."""


# --- errors ---------------------------------------------------------------------------


def _translated(action: str) -> contextlib.AbstractContextManager[None]:
    """Turns SDK and transport errors into TemporaryError / PermanentError."""
    return translated_docker_errors(action, vanished="the container")


# --- the runtime ----------------------------------------------------------------------


class DockerRuntime:
    """Runtime over one Docker engine; manages only containers labelled `deployment_id`."""

    def __init__(
        self,
        deployment_id: str,
        client: Any | None = None,
        *,
        base_url: str | None = None,
        exec_workers: int = 32,
        lifecycle_workers: int = LIFECYCLE_WORKERS,
        pids_limit: int = DEFAULT_PIDS_LIMIT,
        network_mode: str = "auto",
        network_subnet: str = "",
        network_pool: int = 0,
    ) -> None:
        """`network_mode`: one of network_choice.NETWORK_MODES ("auto", "shared", "per-pod",
        "default-bridge"); `network_subnet`: the shared network's, when it is made;
        `network_pool`: per-pod only, how many warm networks to keep ready (0: a network is
        created for each pod with its container)."""
        self.deployment_id = validate_slug("deployment id", deployment_id)
        if network_mode not in NETWORK_MODES:
            raise ValueError(f"network_mode must be one of {NETWORK_MODES}, got {network_mode!r}")
        if network_mode != "per-pod" and network_pool:
            raise ValueError("warm networks (network_pool) are for the per-pod network mode")
        if pids_limit <= 0:
            raise ValueError(f"the pids limit must be positive, got {pids_limit}")
        if lifecycle_workers <= 0:
            raise ValueError(f"lifecycle_workers must be positive, got {lifecycle_workers}")
        self.pids_limit = pids_limit
        self._client = client
        self._owns_client = client is None
        self._base_url = base_url
        self._client_lock = threading.Lock()
        # One engine connection for each thread that may use it at once.
        self.lifecycle_workers = lifecycle_workers
        self._connections = lifecycle_workers + exec_workers + 2
        self._lifecycle_pool = ThreadPoolExecutor(lifecycle_workers, thread_name_prefix="engine")
        # Commands run on threads of their own: lifecycle calls never wait behind them, and
        # killing one never waits behind the others.
        self._exec_pool = ThreadPoolExecutor(exec_workers, thread_name_prefix="exec")
        self._kill_pool = ThreadPoolExecutor(2, thread_name_prefix="exec-kill")
        self._pool = NetworkPool(self.deployment_id, lambda: self._docker().api, network_pool)
        self._pool.start()
        self._choice = NetworkChoice(
            self.deployment_id, lambda: self._docker().api, network_mode, self._pool, network_subnet
        )

    def close(self) -> None:
        """Closes the SDK client if this runtime created it (a client passed in is left open).

        Not part of the Runtime protocol: whoever built the DockerRuntime calls it at exit."""
        self._pool.close()
        self._lifecycle_pool.shutdown(wait=False, cancel_futures=True)
        self._exec_pool.shutdown(wait=False, cancel_futures=True)
        self._kill_pool.shutdown(wait=False, cancel_futures=True)
        with self._client_lock:
            if self._owns_client and self._client is not None:
                self._client.close()
                self._client = None

    # public API (the Runtime protocol)

    async def ensure(self, spec: ContainerSpec) -> EnsureResult:
        """Creates, starts, adopts or replaces the pod's container (see types.Runtime)."""
        return await self._in_thread(f"ensuring {spec.key}", self._ensure_sync, spec)

    async def remove(self, key: PodKey) -> bool:
        """Force-removes the pod's container and its anonymous volumes; False if none."""
        return await self._in_thread(f"removing {key}", self._remove_sync, key)

    async def inspect(self, key: PodKey) -> ContainerState | None:
        """The pod's container as Docker reports it, or None."""
        return await self._in_thread(f"inspecting {key}", self._inspect_sync, key)

    async def ping(self) -> None:
        """One round trip to the engine (its /_ping): the spawner's health check, which must
        not cost an inspect of every container as list_managed does.

        Not part of the Runtime protocol (services/spawner/server.py uses it when present)."""
        await self._in_thread("pinging the engine", lambda: self._docker().ping())

    async def list_managed(self) -> list[ContainerState]:
        """Every container (running or not) labelled with this deployment, by key."""
        return await self._in_thread("listing containers", self._list_sync)

    async def logs_since(self, key: PodKey, cursor: str, limit_bytes: int) -> LogChunk:
        """Output after `cursor`, at most its last `limit_bytes`; see the module docstring."""
        return await self._in_thread(
            f"reading logs of {key}", self._logs_sync, key, cursor, limit_bytes
        )

    def watch(self) -> AsyncIterator[RuntimeEvent]:
        """Events of managed containers from now on (the moment watch() is called)."""
        return self._watch(since=f"{time.time():.6f}")

    async def exec(
        self, key: PodKey, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        """Runs `argv` in the pod's running container (docker exec, no shell) on the exec
        threads, never the lifecycle ones. At `timeout`, or when the caller is cancelled, the
        process and its children are killed inside the container (see _kill_exec_sync)."""
        session = ExecSession(limit_bytes)
        loop = asyncio.get_running_loop()
        with _translated(f"running a command in {key}"):
            run = loop.run_in_executor(
                self._exec_pool, self._run_exec_sync, session, key, list(argv)
            )
            try:
                done, _ = await asyncio.wait({run}, timeout=timeout)
            except asyncio.CancelledError:
                await self._stop_exec(session, run)
                raise
            if not done:
                await self._stop_exec(session, run)
                return session.result(None, timed_out=True)
            return session.result(run.result(), timed_out=False)

    async def copy_into(self, key: PodKey, dest_path: str, data: bytes) -> None:
        """Writes the file into the pod's running container (copy_in.py: Docker's archive
        endpoint, so the image needs no shell or tar)."""
        await self._in_thread(f"copying a file into {key}", self._copy_sync, key, dest_path, data)

    # plumbing

    def _copy_sync(self, key: PodKey, dest_path: str, data: bytes) -> None:
        attrs = self._owned_attrs(key)
        if attrs is None or not (attrs.get("State") or {}).get("Running"):
            raise PermanentError(f"pod '{key.pod_id}' has no running container")
        put_file(self._docker().api, attrs["Id"], dest_path, data)

    async def _in_thread(self, action: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on a lifecycle thread, in a copy of this task's context (its log and
        trace context), as asyncio.to_thread would on the default pool."""
        call = functools.partial(contextvars.copy_context().run, fn, *args)
        with _translated(action):
            return await asyncio.get_running_loop().run_in_executor(self._lifecycle_pool, call)

    async def _stop_exec(self, session: ExecSession, run: asyncio.Future[int | None]) -> None:
        """Kills a command that outlived its caller or its timeout, then waits for its thread
        (closing the output stream if the output does not end by itself)."""
        session.cancel()
        loop = asyncio.get_running_loop()
        kill = loop.run_in_executor(self._kill_pool, self._kill_exec_sync, session)
        await asyncio.wait({kill})  # a second cancellation ends this wait, not the kill
        if kill.exception() is not None:
            log.warning("could not kill a command: %s", kill.exception())
        await asyncio.wait({run}, timeout=EXEC_KILL_GRACE)
        if not run.done():
            session.close_output()
            await asyncio.wait({run}, timeout=EXEC_KILL_GRACE)
        if run.done() and not run.cancelled() and run.exception() is not None:
            log.info("a killed command's thread ended with: %s", run.exception())

    def _docker(self) -> Any:
        """The SDK client, created on first use (creating it already talks to the engine)."""
        with self._client_lock:
            if self._client is None:
                pool = self._connections
                self._client = (
                    docker.DockerClient(base_url=self._base_url, max_pool_size=pool)
                    if self._base_url
                    else docker.from_env(max_pool_size=pool)
                )
            return self._client

    def _networks(self) -> PodNetworks:
        return PodNetworks(self.deployment_id, self._docker().api)

    def _name(self, key: PodKey) -> str:
        try:
            return container_name(self.deployment_id, key)
        except ValueError as exc:
            raise PermanentError(str(exc)) from exc

    def _attrs_by_name(self, key: PodKey) -> Attrs | None:
        """Inspect result of the container carrying the pod's name, whoever owns it."""
        name = self._name(key)
        try:
            attrs: Attrs = self._docker().api.inspect_container(name)
        except docker.errors.NotFound:
            return None
        return attrs

    def _is_ours(self, key: PodKey, attrs: Attrs) -> bool:
        labels = (attrs.get("Config") or {}).get("Labels")
        return owned_key(self.deployment_id, labels) == key

    def _owned_attrs(self, key: PodKey) -> Attrs | None:
        """Inspect result of the pod's container, None when absent or not ours."""
        attrs = self._attrs_by_name(key)
        return attrs if attrs is not None and self._is_ours(key, attrs) else None

    def _state(self, key: PodKey, container_id: str) -> ContainerState:
        attrs: Attrs = self._docker().api.inspect_container(container_id)
        return state_from_attrs(key, attrs)

    # ensure

    def _ensure_sync(self, spec: ContainerSpec) -> EnsureResult:
        """Creates the container first, without looking for one by name, where its network
        exists already (network_choice.place_existing: the default mode's): most ensures are
        a pod's first container or a restart's (the old one removed), where that lookup would
        only say "none". When the name is taken the existing container is looked up and
        adopted, started or replaced, as before; so it is when the image is missing (a
        running container of that image is still adopted, not failed)."""
        spec = spec if spec.spec_hash else with_hash(spec)
        self._name(spec.key)  # a key no container can be named after fails here, at once
        with self._pool.working():
            try:  # a refusal (the default bridge no longer isolates) is the lookup's to act on
                placement = self._choice.place_existing()
                if placement is not None:
                    return self._create_and_start(spec, "created", placement)
            except (_NameTaken, PermanentError):
                pass  # a container may hold the name: ours, or a stranger's
        for pause in (*NAME_TAKEN_PAUSES, None):
            try:
                with self._pool.working():
                    return self._ensure_once(spec)
            except _NameTaken:
                if pause is not None:
                    time.sleep(pause)  # a worker thread: the event loop is not blocked
        raise TemporaryError(f"ensuring {spec.key}: another creator holds the container name")

    def _ensure_once(self, spec: ContainerSpec) -> EnsureResult:
        attrs = self._attrs_by_name(spec.key)
        if attrs is None:
            return self._create_and_start(spec, "created")
        if not self._is_ours(spec.key, attrs):
            raise PermanentError(
                f"a container named {self._name(spec.key)!r} exists that deployment "
                f"{self.deployment_id!r} did not create for pod {spec.key.pod_id!r}; "
                "it is left untouched"
            )
        changed = state_from_attrs(spec.key, attrs).spec_hash != spec.spec_hash
        if changed or not self._choice.keeps(spec.key, attrs):
            self._remove_container(attrs)
            return self._create_and_start(spec, "replaced")
        if attrs["State"]["Status"] == Phase.CREATED:
            self._docker().api.start(attrs["Id"])
            return EnsureResult("started", self._state(spec.key, attrs["Id"]))
        return EnsureResult("adopted", state_from_attrs(spec.key, attrs))

    def _create_and_start(
        self, spec: ContainerSpec, action: str, placement: Placement | None = None
    ) -> EnsureResult:
        placement = placement or self._choice.place(spec.key)
        kwargs = create_kwargs(self.deployment_id, spec, self.pids_limit, placement.network)
        try:
            container_id = create_container(self._docker().api, kwargs)
        except Exception as exc:
            self._choice.create_failed(spec.key, placement, exc)
            self._raise_create_error(spec, exc)
        with self._choice.starting(placement, container_id):
            self._docker().api.start(container_id)
        return EnsureResult(action, self._state(spec.key, container_id))

    @staticmethod
    def _raise_create_error(spec: ContainerSpec, exc: Exception) -> NoReturn:
        if isinstance(exc, docker.errors.ImageNotFound):
            raise PermanentError(
                f"image '{spec.image}' is not available on this machine (no registry is "
                "reachable here: build or load the image first)"
            ) from exc
        if isinstance(exc, docker.errors.APIError) and exc.status_code == 409:
            raise _NameTaken from exc
        raise exc

    # remove / inspect / list

    def _remove_id(self, container_id: str) -> bool:
        try:
            self._docker().api.remove_container(container_id, v=True, force=True)
        except docker.errors.NotFound:
            return False
        return True

    def _remove_container(self, attrs: Attrs) -> bool:
        """Removes the container, then gives its warm network (if any) back to the pool."""
        removed = self._remove_id(attrs["Id"])
        for network_id in self._choice.warm_networks(attrs):
            self._pool.give_back(network_id)
        return removed

    def _remove_sync(self, key: PodKey) -> bool:
        """The container first, then the network (also when the container was gone)."""
        with self._pool.working():
            attrs = self._owned_attrs(key)
            container_removed = attrs is not None and self._remove_container(attrs)
            network_removed = self._networks().remove(key)
            return container_removed or network_removed

    def _inspect_sync(self, key: PodKey) -> ContainerState | None:
        attrs = self._owned_attrs(key)
        return None if attrs is None else state_from_attrs(key, attrs)

    def _list_sync(self) -> list[ContainerState]:
        api = self._docker().api
        label = f"{LABEL_DEPLOYMENT}={self.deployment_id}"
        states = []
        for summary in api.containers(all=True, filters={"label": label}):
            key = owned_key(self.deployment_id, summary.get("Labels"))
            if key is None:
                continue
            try:
                states.append(self._state(key, summary["Id"]))
            except docker.errors.NotFound:
                continue  # removed since the listing
        return sorted(states, key=lambda state: state.key)

    # logs

    def _logs_sync(self, key: PodKey, cursor: str, limit_bytes: int) -> LogChunk:
        after = docker_cursor_nanos(cursor)
        attrs = self._owned_attrs(key)
        if attrs is None:
            return LogChunk(text="", cursor=cursor)
        try:
            raw = container_logs(self._docker().api, attrs, since_param(after))
        except docker.errors.NotFound:  # removed since the lookup
            return LogChunk(text="", cursor=cursor)
        text, newest = lines_after(raw.decode(errors="replace"), after)
        return LogChunk(text=tail_text(text, limit_bytes), cursor=newest or cursor)

    # exec

    def _run_exec_sync(self, session: ExecSession, key: PodKey, argv: list[str]) -> int | None:
        """Creates and starts the exec, collects its output until it ends; its exit code."""
        attrs = self._owned_attrs(key)
        if attrs is None or not (attrs.get("State") or {}).get("Running"):
            raise PermanentError(f"pod '{key.pod_id}' has no running container")
        api = self._docker().api
        exec_id = api.exec_create(attrs["Id"], cmd=argv, stdout=True, stderr=True)["Id"]
        stream = session.started(attrs["Id"], exec_id, api)
        if stream is None:  # cancelled before it started
            return None
        session.pump(stream)
        code = api.exec_inspect(exec_id).get("ExitCode")
        return None if code is None else int(code)

    def _kill_exec_sync(self, session: ExecSession) -> None:
        kill_exec(self._docker().api, session)

    # events

    def _open_events(self, since: str) -> Any:
        filters = {
            "type": "container",
            "label": f"{LABEL_DEPLOYMENT}={self.deployment_id}",
            "event": sorted(WATCHED_ACTIONS),  # "health_status" matches its "health_status: ..."
        }
        return self._docker().events(since=since, decode=True, filters=filters)

    async def _watch(self, since: str) -> AsyncIterator[RuntimeEvent]:
        stream = await self._in_thread("subscribing to events", self._open_events, since)
        pump = EventPump(stream, asyncio.get_running_loop())
        pump.start()
        try:
            while True:
                event = event_from_raw(self.deployment_id, await pump.next())
                if event is not None:
                    yield event
        finally:
            pump.close()

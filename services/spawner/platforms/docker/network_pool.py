"""A few warm pod networks, made ahead so that creating a pod does not wait for Docker to
create a bridge (the slowest engine call on that path: 100 to 200 ms on a quiet 2-core machine,
far more under load). Used by runtime.DockerRuntime when its `network_pool` size is above 0
(the spawner's `PODS_DOCKER_NETWORK_POOL`); off (0), every pod gets a network named after it
(network.py), as before.

A warm network is made exactly like a pod's own (network.NETWORK_OPTIONS: a bridge with
inter-container traffic off, ports published on 127.0.0.1), but is named
`pods-<deployment>.pool.<hex>` (pod and tenant ids never hold '.', so no pod's name can be one)
and labelled with the deployment and POOL_LABEL instead of a pod: Docker cannot relabel or
rename a network, so a pod on a warm network is found through its container's attachment. A
pod's container is created on a network taken from the pool; when the container is removed
the emptied network comes back to the pool (or is removed when the pool is full), so churn
costs no bridge at all.

Crash safety: nothing lives only in memory. At start the pool adopts every warm network of the
deployment that no container of the deployment is attached to (one a killed spawner took, or
one whose container was removed behind its back) and removes those beyond its size. The
harness and the stack's clean-up remove them with the deployment's label. One spawner per
deployment is assumed (as for commands): two spawners starting at once could both adopt the
same free network.

Refilling runs on a daemon thread of its own and only after `IDLE_BEFORE_REFILL` seconds
without pod work (ensure or remove) in this runtime: it never competes with a create.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import docker.errors

from services.common.runtime.types import LABEL_DEPLOYMENT
from services.spawner.platforms.docker.network import bridge_options, remove_network_id

log = logging.getLogger(__name__)

POOL_LABEL = "org.pods-service.network-pool"
IDLE_BEFORE_REFILL = 1.0  # seconds without pod work before a warm network is made
REFILL_ERROR_PAUSE = 30.0  # seconds after a failed creation (address pools exhausted, ...)


def pool_prefix(deployment_id: str) -> str:
    """The name prefix of the deployment's warm networks."""
    return f"pods-{deployment_id}.pool."


def is_pool_network(deployment_id: str, name: str) -> bool:
    """Whether `name` is the name of one of the deployment's warm networks."""
    return name.startswith(pool_prefix(deployment_id))


def pool_network_kwargs(deployment_id: str) -> dict[str, Any]:
    """Keyword arguments for `api.create_network` of a new warm network."""
    return {
        "name": pool_prefix(deployment_id) + uuid.uuid4().hex[:16],
        "driver": "bridge",
        "options": bridge_options(),
        "check_duplicate": True,
        "internal": False,
        "labels": {LABEL_DEPLOYMENT: deployment_id, POOL_LABEL: "warm"},
    }


class NetworkPool:
    """Up to `size` free warm networks of one deployment, kept by a daemon thread."""

    def __init__(
        self,
        deployment_id: str,
        api: Callable[[], Any],
        size: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if size < 0:
            raise ValueError(f"the network pool size must be 0 or more, got {size}")
        self._deployment_id = deployment_id
        self._api = api  # returns the docker.APIClient (created on first use)
        self._clock = clock
        self._size = size
        self._free: list[str] = []  # network ids
        self._lock = threading.Lock()
        self._busy = 0  # pod operations in flight
        self._last_work = 0.0  # clock() when the last one ended
        self._adopted = False
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def size(self) -> int:
        return self._size

    def free_count(self) -> int:
        with self._lock:
            return len(self._free)

    def start(self) -> None:
        """Starts the thread that adopts leftovers, then keeps the pool full."""
        if self._size == 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._keep_full, name="network-pool", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stops the thread; the free networks stay (the next start adopts them)."""
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """Marks pod work in flight: the pool does not refill meanwhile."""
        with self._lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1
                self._last_work = self._clock()
            self._wake.set()

    def take(self) -> str | None:
        """The id of a free warm network, now the caller's; None when the pool is empty."""
        with self._lock:
            return self._free.pop() if self._free else None

    def give_back(self, network_id: str) -> None:
        """Takes back a network the caller no longer uses: kept when it is empty and the pool
        has room, removed otherwise. Blocking (engine calls)."""
        api = self._api()
        try:
            attrs = api.inspect_network(network_id)
        except docker.errors.NotFound:
            return
        with self._lock:
            keep = not attrs.get("Containers") and len(self._free) < self._size
            if keep:
                self._free.append(network_id)
        if not keep:
            remove_network_id(api, network_id)

    # the thread

    def _keep_full(self) -> None:
        while not self._closed.is_set():
            try:
                if not self._adopted:
                    self._adopt()
                    self._adopted = True
                wait = self._refill_once()
            except Exception as exc:  # the engine is down or refuses: try again later
                log.warning("warm networks: %s; trying again in %.0fs", exc, REFILL_ERROR_PAUSE)
                wait = REFILL_ERROR_PAUSE
            self._wake.wait(wait)
            self._wake.clear()

    def _refill_once(self) -> float | None:
        """Creates one warm network when due; the seconds to wait before looking again (None:
        until woken)."""
        with self._lock:
            if len(self._free) >= self._size:
                return None
            idle = self._clock() - self._last_work
            if self._busy or idle < IDLE_BEFORE_REFILL:
                return IDLE_BEFORE_REFILL if self._busy else IDLE_BEFORE_REFILL - idle
        created = self._api().create_network(**pool_network_kwargs(self._deployment_id))
        with self._lock:
            self._free.append(str(created["Id"]))
        return 0.0

    def _adopt(self) -> None:
        """Adopts the deployment's warm networks no container is attached to; removes those
        beyond the pool's size."""
        api = self._api()
        label = f"{LABEL_DEPLOYMENT}={self._deployment_id}"
        networks = api.networks(filters={"label": [label, POOL_LABEL]})
        used: set[str] = set()
        for summary in api.containers(all=True, filters={"label": label}):
            attached = ((summary.get("NetworkSettings") or {}).get("Networks")) or {}
            used.update(str(n.get("NetworkID", "")) for n in attached.values())
        for network in networks:
            network_id = str(network["Id"])
            if network_id in used or not is_pool_network(self._deployment_id, network["Name"]):
                continue
            with self._lock:
                keep = len(self._free) < self._size and network_id not in self._free
                if keep:
                    self._free.append(network_id)
            if not keep:
                remove_network_id(api, network_id)

"""Which network a new pod container joins, and which networks a running one may stay on, in
each network mode (`PODS_DOCKER_NETWORK_MODE`; network.py says why pods have networks at all).
Used by runtime.DockerRuntime, in its worker threads (blocking SDK calls).

- `auto` (the default): the engine's default bridge while the engine keeps it with
  inter-container traffic off (dockerd `--icc=false`, as scripts/setup starts it), else the
  deployment's shared network. Decided at every create, so an engine restarted with other
  flags sends new pods to the shared network, and ensure's isolation check moves the pods
  already on the default bridge there.
- `shared`: the deployment's one bridge (shared_network.py).
- `per-pod`: a bridge of its own for each pod, or a warm one (network.py, network_pool.py).
- `default-bridge`: the engine's default bridge, and a PermanentError naming the flag while
  it lets containers talk (default_bridge.py).

A container on the shared network, on its pod's own network or on a warm one is kept in every
mode, so switching modes restarts no pod; one on the default bridge is kept only by `auto` and
`default-bridge`, and only while that bridge isolates.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import docker.errors

from services.common.runtime.types import PodKey
from services.spawner.platforms.docker.default_bridge import DEFAULT_BRIDGE, DefaultBridge
from services.spawner.platforms.docker.network import PodNetworks, network_name
from services.spawner.platforms.docker.network_pool import NetworkPool, is_pool_network
from services.spawner.platforms.docker.shared_network import SharedNetwork, shared_network_name

NETWORK_MODES = ("auto", "shared", "per-pod", "default-bridge")

log = logging.getLogger(__name__)

Attrs = dict[str, Any]


@dataclass(frozen=True)
class Placement:
    """Where one new container goes: `network` (an id, or the default bridge's name) for
    `create_kwargs`; `warm` when it is a warm network taken from the pool."""

    network: str
    warm: str | None = None
    shared: bool = False  # the deployment's shared network


class NetworkChoice:
    """The network rules of one runtime's mode."""

    def __init__(
        self,
        deployment_id: str,
        api: Callable[[], Any],
        mode: str,
        pool: NetworkPool,
        subnet: str = "",
    ) -> None:
        """`api` returns the docker.APIClient; `pool` holds the warm networks (per-pod mode
        takes from it; every mode gives back the warm networks of the containers it removes)."""
        if mode not in NETWORK_MODES:
            raise ValueError(f"network_mode must be one of {NETWORK_MODES}, got {mode!r}")
        self._deployment_id = deployment_id
        self._api = api
        self._mode = mode
        self._pool = pool
        self._shared = (
            SharedNetwork(deployment_id, api, subnet) if mode in ("auto", "shared") else None
        )
        self._bridge = DefaultBridge(api) if mode in ("auto", "default-bridge") else None
        self._bridge_isolated: bool | None = None  # auto: what the last create found

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def per_pod(self) -> bool:
        """Whether each pod gets a network of its own (or a warm one)."""
        return self._mode == "per-pod"

    def place(self, key: PodKey) -> Placement:
        """The network the pod's new container joins (made when it is missing)."""
        existing = self.place_existing()
        if existing is not None:
            return existing
        if self._shared is not None:
            return Placement(self._shared.ensure(), shared=True)
        warm = self._pool.take()
        return Placement(warm or PodNetworks(self._deployment_id, self._api()).ensure(key), warm)

    def place_existing(self) -> Placement | None:
        """Where `place` puts a new container when that makes no network: the default bridge
        (default-bridge mode; auto while it isolates) or the shared network once this process
        knows it. None when placing would make one (per-pod mode, or the shared network not
        seen yet): the runtime then looks for the pod's container before it creates one."""
        if self._mode == "default-bridge":
            assert self._bridge is not None
            return Placement(self._bridge.ensure())
        if self._bridge is not None and self._auto_bridge_isolates():
            return Placement(DEFAULT_BRIDGE)
        if self._shared is not None and (known := self._shared.known_id) is not None:
            return Placement(known, shared=True)
        return None

    def keeps(self, key: PodKey, attrs: Attrs) -> bool:
        """Whether an existing container is on one network of ours alone, where it may stay:
        the shared one, the pod's own, a warm one, or (auto and default-bridge modes) the
        engine's default bridge while it isolates."""
        names = list(_attachments(attrs))
        if self._bridge is not None and names == [DEFAULT_BRIDGE]:
            return self._bridge.isolates()
        if len(names) == 1 and is_pool_network(self._deployment_id, names[0]):
            return True
        own = network_name(self._deployment_id, key)
        return names in ([own], [shared_network_name(self._deployment_id)])

    def create_failed(self, key: PodKey, placement: Placement, exc: Exception) -> None:
        """Tidies after a failed create: an unused warm network goes back to the pool, a pod
        whose image is missing holds no network of its own, and a shared network removed
        behind our back is forgotten (the next create makes it again)."""
        if placement.warm is not None:
            self._pool.give_back(placement.warm)
        elif isinstance(exc, docker.errors.ImageNotFound):
            if self.per_pod:
                PodNetworks(self._deployment_id, self._api()).remove(key)
        elif placement.shared and isinstance(exc, docker.errors.NotFound):
            assert self._shared is not None
            self._shared.forget()

    def starting(
        self, placement: Placement, container_id: str
    ) -> contextlib.AbstractContextManager[None]:
        """Around the start of a container just created at `placement`."""
        if placement.shared:
            assert self._shared is not None
            return self._shared.starting(container_id)
        return contextlib.nullcontext()

    def warm_networks(self, attrs: Attrs) -> Iterator[str]:
        """Ids of the warm networks a container is attached to."""
        for name, network in _attachments(attrs).items():
            if is_pool_network(self._deployment_id, name) and network.get("NetworkID"):
                yield str(network["NetworkID"])

    def _auto_bridge_isolates(self) -> bool:
        """auto: whether the default bridge isolates now; a change is logged once."""
        assert self._bridge is not None
        isolates = self._bridge.isolates()
        if isolates != self._bridge_isolated:
            self._bridge_isolated = isolates
            if isolates:
                log.info("network mode auto: new pods go onto the engine's default bridge")
            else:
                log.warning(
                    "network mode auto: the engine's default bridge lets containers talk, so "
                    "new pods go onto the shared network %s (about 60 ms slower to start; "
                    "start dockerd with --icc=false for the default bridge)",
                    shared_network_name(self._deployment_id),
                )
        return isolates


def _attachments(attrs: Attrs) -> dict[str, Any]:
    """A container's networks by name, as the engine's inspect reports them."""
    return dict((attrs.get("NetworkSettings") or {}).get("Networks") or {})

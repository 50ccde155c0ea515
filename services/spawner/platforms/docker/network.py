"""Pod networks and why there are any; in the per-pod network mode
(`PODS_DOCKER_NETWORK_MODE=per-pod`), one Docker bridge network per pod: created or adopted
before the pod's container, removed with it. Called by runtime.DockerRuntime (in its worker
threads, blocking SDK calls).

Why: containers on Docker's default bridge reach each other by address. Every bridge of ours
has inter-container traffic off (`enable_icc` false, NETWORK_OPTIONS), so the engine drops
traffic from one container of the bridge to another, and Docker isolates bridge networks from
one another (its DOCKER-ISOLATION chains). So a pod reaches neither other pods (routed or
local_only ports) nor, as long as they listen on 127.0.0.1, the host's services; the gateway
reaches the pod through the ports published on 127.0.0.1 (host_binding_ipv4, also for ports
published without an address), and the network is not `internal`, so the pod still reaches the
outside world.

A third mode, `default-bridge` (default_bridge.py), makes no network at all: pods go onto the
engine's default bridge, which must have inter-container traffic off (dockerd --icc=false).
The default mode, `auto`, takes the default bridge while it isolates and the shared one
otherwise (network_choice.py).

The `shared` mode (shared_network.py) puts all of a deployment's pods on one such
bridge: isolation then rests on ICC being off. It replaced one bridge per pod because making
and removing a bridge for every pod is engine work that serializes (a burst of 30 took 2.22
times as long as 30 `docker run`s against 1.62 shared; BENCHMARKS.md) and Docker's default
address pools hold only about 30 bridges. A start on any user-defined bridge, shared or not,
still costs more than on Docker's default bridge. Docker's DNS on the shared bridge resolves a
pod's container name to its address; connecting to it is still dropped.

Docker's own isolation of bridges has a gap: Docker 20.10 deletes and re-inserts the FORWARD
jump to its DOCKER-ISOLATION chains each time it makes a network. So every bridge of ours is
named BRIDGE_PREFIX and random hex digits, and scripts/pod-firewall drops traffic between such
bridges in DOCKER-USER (SECURITY.md).

Per-pod mode: the network has the container's name (networks and containers are separate
namespaces) and the pod's labels. A network with the pod's name but without this deployment's
labels is never used nor removed. With PODS_DOCKER_NETWORK_POOL the pods take warm networks
made ahead instead (network_pool.py). A pod's own network is removed with the pod in both
modes (one made before a switch to `shared`).

Address space (per-pod): each network takes one subnet of the engine's default address pools.
Docker's built-in pools hold about 30 bridge networks; an engine meant for many pods needs
`--default-address-pool` (see SECURITY.md). When the pools are exhausted creating a
pod fails with a TemporaryError naming that flag; it succeeds again once pods are deleted.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from typing import Any

import docker.errors

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.naming import container_name, labels_for, owned_key
from services.common.runtime.types import LABEL_SPEC_HASH, PodKey

ICC_OPTION = "com.docker.network.bridge.enable_icc"  # "false": the bridge drops container traffic
NETWORK_OPTIONS = {
    ICC_OPTION: "false",
    "com.docker.network.bridge.host_binding_ipv4": "127.0.0.1",
    "com.docker.network.bridge.enable_ip_masquerade": "true",
}
# The Linux names of our bridges: BRIDGE_PREFIX and 9 random hex digits (15 characters, the
# kernel's limit). scripts/pod-firewall drops traffic between bridges with this prefix.
BRIDGE_PREFIX = "podsbr"
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"
POOL_EXHAUSTED_HINT = "could not find an available, non-overlapping"
POOL_RETRY_DELAY = 30.0


def bridge_options() -> dict[str, str]:
    """NETWORK_OPTIONS for a new network, with a fresh bridge name under BRIDGE_PREFIX."""
    return {**NETWORK_OPTIONS, BRIDGE_NAME_OPTION: BRIDGE_PREFIX + uuid.uuid4().hex[:9]}


def network_name(deployment_id: str, key: PodKey) -> str:
    """The pod's network name: the same as its container's."""
    return container_name(deployment_id, key)


def network_labels(deployment_id: str, key: PodKey) -> dict[str, str]:
    """The labels of a pod's network: the container's, without the spec hash."""
    labels = labels_for(deployment_id, key, "")
    labels.pop(LABEL_SPEC_HASH, None)
    return labels


def create_network_kwargs(deployment_id: str, key: PodKey) -> dict[str, Any]:
    """Keyword arguments for `api.create_network` of the pod's network."""
    return {
        "name": network_name(deployment_id, key),
        "driver": "bridge",
        "options": bridge_options(),
        "check_duplicate": True,
        "internal": False,
        "labels": network_labels(deployment_id, key),
    }


_LOCKS_GUARD = threading.Lock()
_CREATION_LOCKS: dict[str, threading.Lock] = {}


def creation_lock(name: str) -> threading.Lock:
    """The lock creators of network `name` in this process take turns with (kept for the
    process's life: one small lock per network name ever ensured here)."""
    with _LOCKS_GUARD:
        return _CREATION_LOCKS.setdefault(name, threading.Lock())


def _is_ours(deployment_id: str, key: PodKey, attrs: dict[str, Any]) -> bool:
    return owned_key(deployment_id, attrs.get("Labels")) == key


class PodNetworks:
    """Creates, finds and removes the networks of one deployment's pods on one engine."""

    def __init__(self, deployment_id: str, api: Any) -> None:
        self._deployment_id = deployment_id
        self._api = api  # docker.APIClient

    def _named(self, key: PodKey) -> list[dict[str, Any]]:
        """Every network carrying exactly the pod's name (Docker's name filter matches parts),
        oldest first; normally at most one."""
        name = network_name(self._deployment_id, key)
        found = [n for n in self._api.networks(names=[name]) if n.get("Name") == name]
        return sorted(found, key=lambda n: (str(n.get("Created", "")), str(n.get("Id", ""))))

    def ensure(self, key: PodKey) -> str:
        """The id of the pod's network, created when missing. Idempotent; creators in this
        process take turns per name. Docker's duplicate-name check is not atomic, so creators
        in two processes may both succeed: everyone then uses the oldest network of the name
        (the others stay empty and go with `remove`)."""
        name = network_name(self._deployment_id, key)
        with creation_lock(name):
            found = self._named(key)
            if not found:
                self._create(key)
                found = self._named(key)
        if not found:
            raise TemporaryError(f"the network {name!r} vanished while it was created")
        first = found[0]
        if not _is_ours(self._deployment_id, key, first):
            raise PermanentError(
                f"a network named {name!r} exists that deployment {self._deployment_id!r} "
                f"did not create for pod {key.pod_id!r}; it is left untouched"
            )
        return str(first["Id"])

    def _create(self, key: PodKey) -> None:
        try:
            self._api.create_network(**create_network_kwargs(self._deployment_id, key))
        except docker.errors.APIError as exc:
            if POOL_EXHAUSTED_HINT in str(exc.explanation or exc):
                raise TemporaryError(
                    f"no address space left for the network of pod '{key.pod_id}': the "
                    "engine's address pools are exhausted (start dockerd with a larger "
                    "--default-address-pool, or delete pods)",
                    delay=POOL_RETRY_DELAY,
                ) from exc
            if exc.status_code != 409:  # 409: another process created it just now
                raise

    def remove(self, key: PodKey) -> bool:
        """Removes the pod's network(s) of this deployment, disconnecting whatever is still
        attached; False when there was none."""
        removed = False
        for network in self._named(key):
            if _is_ours(self._deployment_id, key, network):
                removed = self._remove_id(str(network["Id"])) or removed
        return removed

    def _remove_id(self, network_id: str) -> bool:
        return remove_network_id(self._api, network_id)


def remove_network_id(api: Any, network_id: str) -> bool:
    """Removes a network, disconnecting whatever is still attached; False when it was gone.
    Also used for the warm networks of network_pool.py."""
    try:
        attrs = api.inspect_network(network_id)
        for container_id in attrs.get("Containers") or {}:
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                api.disconnect_container_from_network(container_id, network_id, force=True)
        api.remove_network(network_id)
    except docker.errors.NotFound:
        return False
    return True

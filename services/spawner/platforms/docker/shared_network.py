"""The deployment's one shared pod network (`PODS_DOCKER_NETWORK_MODE=shared`, and `auto`, the
default, where the engine's default bridge lets containers talk): a bridge that every pod
container of the deployment joins, made on first use and never removed with a pod. Called
by runtime.DockerRuntime (in its worker threads, blocking SDK calls).

Why one bridge and not one per pod (network.py explains the isolation both give): no bridge
is made or removed per pod (engine work that serializes, which bursts of creates felt most),
and Docker's default address pools hold only about 30 bridges. On the shared bridge inter-container
traffic is off (`enable_icc` false, network.NETWORK_OPTIONS), so the engine drops traffic from
one container of the bridge to another: pods still cannot reach each other.

The network is `pods-<deployment>.shared` (deployment ids never hold '.', so no pod's or
another deployment's network can bear the name) and is labelled with the deployment and
SHARED_LABEL. Creating it is idempotent and race-safe: creators in one process take turns,
and one that finds it exists (or is told 409 by the engine) adopts it. Docker's duplicate-name
check is not atomic, so two processes creating it at the same moment may make two; everyone
then uses the oldest and removes the others once they are empty, and a start that meets two
(Docker: "ambiguous") is a TemporaryError that drops the container and the remembered id, so
the next attempt looks again. (One spawner per deployment is assumed, as for commands.) A
network of that name without this deployment's label is refused (PermanentError) and left
alone. The harness and the stack's clean-up remove it with the deployment's other labelled
networks.

Address space: the bridge holds as many pods as its subnet has addresses. Docker picks the
subnet from its default address pools unless `subnet` (PODS_DOCKER_NETWORK_SUBNET) names one;
a stock engine hands out a /16 or a /20, scripts/setup's engine a /22 (1021 pods). A subnet for
fewer than SMALL_SUBNET_PODS is logged as a warning when the network is first found or made;
a full one fails the container's start with a TemporaryError naming the setting.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import docker.errors
import docker.types

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.naming import validate_slug
from services.common.runtime.types import LABEL_DEPLOYMENT
from services.spawner.platforms.docker.network import (
    POOL_EXHAUSTED_HINT,
    POOL_RETRY_DELAY,
    bridge_options,
    creation_lock,
)

SHARED_LABEL = "org.pods-service.network"
SHARED_VALUE = "shared"
SUBNET_FULL_HINT = "no available IPv4 addresses"
AMBIGUOUS_HINT = "is ambiguous"  # Docker finds two networks of the name when it starts one
OVERLAP_HINT = "overlaps"
SMALL_SUBNET_PODS = 250  # fewer pods than this in the subnet: a warning at the spawner's start

log = logging.getLogger(__name__)


def pods_held(subnet: str) -> int | None:
    """How many containers an IPv4 subnet holds (not the network, broadcast and gateway
    addresses); None for anything else."""
    try:
        network = ipaddress.ip_network(subnet)
    except ValueError:
        return None
    return network.num_addresses - 3 if network.version == 4 else None


def shared_network_name(deployment_id: str) -> str:
    """The name of the deployment's shared pod network."""
    return f"pods-{validate_slug('deployment id', deployment_id)}.shared"


def shared_network_labels(deployment_id: str) -> dict[str, str]:
    return {LABEL_DEPLOYMENT: deployment_id, SHARED_LABEL: SHARED_VALUE}


def create_shared_network_kwargs(deployment_id: str, subnet: str = "") -> dict[str, Any]:
    """Keyword arguments for `api.create_network` of the shared network; `subnet` (CIDR)
    empty: Docker picks one from its default address pools."""
    kwargs: dict[str, Any] = {
        "name": shared_network_name(deployment_id),
        "driver": "bridge",
        "options": bridge_options(),
        "check_duplicate": True,
        "internal": False,
        "labels": shared_network_labels(deployment_id),
    }
    if subnet:
        kwargs["ipam"] = docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet=subnet)]
        )
    return kwargs


class SharedNetwork:
    """Finds or makes the deployment's shared network once, then remembers its id."""

    def __init__(self, deployment_id: str, api: Callable[[], Any], subnet: str = "") -> None:
        if subnet:
            ipaddress.ip_network(subnet)  # ValueError: not a CIDR subnet
        self._deployment_id = deployment_id
        self._api = api  # returns the docker.APIClient (created on first use)
        self._subnet = subnet
        self._lock = threading.Lock()
        self._id: str | None = None

    @property
    def name(self) -> str:
        return shared_network_name(self._deployment_id)

    def ensure(self) -> str:
        """The shared network's id, made when missing (see the module docstring). Creators
        in this process take turns, also those of other runtimes of the deployment."""
        with self._lock:
            if self._id is None:
                with creation_lock(self.name):
                    self._id = self._find_or_create()
            return self._id

    @property
    def known_id(self) -> str | None:
        """The network's id once found or made by this process (None before, or forgotten)."""
        with self._lock:
            return self._id

    def forget(self) -> None:
        """Drops the remembered id (the network vanished): the next ensure looks again."""
        with self._lock:
            self._id = None

    @contextlib.contextmanager
    def starting(self, container_id: str) -> Iterator[None]:
        """Around the start of a container created on the network: a full subnet becomes a
        TemporaryError naming the setting; a network removed behind our back is forgotten and
        the container (which could never start) removed, so that the next attempt makes both
        again. Any other error passes unchanged."""
        try:
            yield
        except docker.errors.APIError as exc:
            explanation = str(exc.explanation or exc)
            if SUBNET_FULL_HINT in explanation:
                raise TemporaryError(
                    f"the shared pod network {self.name!r} has no address left (give it a "
                    "larger subnet with PODS_DOCKER_NETWORK_SUBNET, or delete pods)",
                    delay=POOL_RETRY_DELAY,
                ) from exc
            gone = isinstance(exc, docker.errors.NotFound) and "network" in explanation
            if not gone and AMBIGUOUS_HINT not in explanation:
                raise
            self.forget()
            with contextlib.suppress(docker.errors.APIError):
                self._api().remove_container(container_id, v=True, force=True)
            raise TemporaryError(f"the network {self.name!r}: {explanation}") from exc

    def _named(self) -> list[dict[str, Any]]:
        """Every network carrying exactly the name (Docker's filter matches parts), oldest
        first."""
        found = [n for n in self._api().networks(names=[self.name]) if n.get("Name") == self.name]
        return sorted(found, key=lambda n: (str(n.get("Created", "")), str(n.get("Id", ""))))

    def _find_or_create(self) -> str:
        found = self._named()
        if not found:
            self._create()
            found = self._named()
        if not found:
            raise TemporaryError(f"the network {self.name!r} vanished while it was created")
        first = found[0]
        if (first.get("Labels") or {}).get(LABEL_DEPLOYMENT) != self._deployment_id:
            raise PermanentError(
                f"a network named {self.name!r} exists that deployment "
                f"{self._deployment_id!r} did not create; it is left untouched"
            )
        for other in found[1:]:  # another process's twin: removed once empty
            self._remove_if_empty(str(other["Id"]))
        self._warn_if_small(first)
        return str(first["Id"])

    def _warn_if_small(self, network: dict[str, Any]) -> None:
        configs = (network.get("IPAM") or {}).get("Config") or []
        for subnet in (c.get("Subnet", "") for c in configs):
            holds = pods_held(subnet)
            if holds is not None and holds < SMALL_SUBNET_PODS:
                log.warning(
                    "the shared pod network %s has the subnet %s: at most %d pods (set "
                    "PODS_DOCKER_NETWORK_SUBNET to a larger one)",
                    self.name,
                    subnet,
                    holds,
                )

    def _remove_if_empty(self, network_id: str) -> None:
        with contextlib.suppress(docker.errors.APIError):
            attrs = self._api().inspect_network(network_id)
            if (attrs.get("Labels") or {}).get(LABEL_DEPLOYMENT) == self._deployment_id and not (
                attrs.get("Containers")
            ):
                self._api().remove_network(network_id)

    def _create(self) -> None:
        """Creates the network; fine when another creator's exists already."""
        try:
            self._api().create_network(
                **create_shared_network_kwargs(self._deployment_id, self._subnet)
            )
        except docker.errors.APIError as exc:
            explanation = str(exc.explanation or exc)
            if POOL_EXHAUSTED_HINT in explanation:
                raise TemporaryError(
                    f"no address space left for the shared pod network {self.name!r}: the "
                    "engine's address pools are exhausted (set PODS_DOCKER_NETWORK_SUBNET, or "
                    "start dockerd with a larger --default-address-pool)",
                    delay=POOL_RETRY_DELAY,
                ) from exc
            if self._subnet and OVERLAP_HINT in explanation:
                raise PermanentError(
                    f"PODS_DOCKER_NETWORK_SUBNET {self._subnet} overlaps another network of "
                    f"the engine ({explanation}); choose a free subnet"
                ) from exc
            if exc.status_code != 409:  # 409: another process created it just now
                raise

"""The warm network pool's bookkeeping against an in-memory engine: when it refills (only
after pod work has been idle a while), what it keeps when a network is given back, and what
it adopts or removes at start (the real engine: tests/integration/runtime/
test_docker_network_pool.py)."""

from __future__ import annotations

import itertools
from typing import Any

import docker.errors
import pytest

from services.spawner.platforms.docker import network_pool
from services.spawner.platforms.docker.network import BRIDGE_NAME_OPTION, BRIDGE_PREFIX
from services.spawner.platforms.docker.network_pool import (
    POOL_LABEL,
    NetworkPool,
    is_pool_network,
    pool_network_kwargs,
    pool_prefix,
)


class FakeApi:
    """Networks by id, each with the containers attached; containers with their networks."""

    def __init__(self) -> None:
        self.networks_by_id: dict[str, dict[str, Any]] = {}
        self.container_networks: dict[str, list[str]] = {}  # container id -> network ids
        self.removed: list[str] = []
        self._ids = itertools.count(1)

    def add(self, name: str, containers: tuple[str, ...] = ()) -> str:
        network_id = f"n{next(self._ids)}"
        self.networks_by_id[network_id] = {"Id": network_id, "Name": name}
        for container in containers:
            self.container_networks.setdefault(container, []).append(network_id)
        return network_id

    def create_network(self, **kwargs: Any) -> dict[str, str]:
        return {"Id": self.add(kwargs["name"])}

    def networks(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.networks_by_id.values())

    def containers(self, all: bool, filters: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"Id": c, "NetworkSettings": {"Networks": {n: {"NetworkID": n} for n in ids}}}
            for c, ids in self.container_networks.items()
        ]

    def inspect_network(self, network_id: str) -> dict[str, Any]:
        if network_id not in self.networks_by_id:
            raise docker.errors.NotFound("no such network")
        attached = [c for c, ids in self.container_networks.items() if network_id in ids]
        return {**self.networks_by_id[network_id], "Containers": {c: {} for c in attached}}

    def remove_network(self, network_id: str) -> None:
        del self.networks_by_id[network_id]
        self.removed.append(network_id)

    def disconnect_container_from_network(
        self, container: str, network_id: str, force: bool
    ) -> None:
        self.container_networks[container].remove(network_id)


def warm(deployment: str = "local") -> str:
    return str(pool_network_kwargs(deployment)["name"])


def test_names_and_labels_of_a_warm_network() -> None:
    kwargs = pool_network_kwargs("local")
    assert kwargs["name"].startswith(pool_prefix("local"))
    assert kwargs["labels"] == {"org.pods-service.deployment": "local", POOL_LABEL: "warm"}
    assert kwargs["options"]["com.docker.network.bridge.enable_icc"] == "false"
    assert kwargs["options"][BRIDGE_NAME_OPTION].startswith(BRIDGE_PREFIX)
    assert is_pool_network("local", kwargs["name"])
    assert not is_pool_network("other", kwargs["name"])
    assert not is_pool_network("local", "pods-local-dev-web1")


def test_an_empty_pool_gives_nothing_and_a_size_below_zero_is_refused() -> None:
    assert NetworkPool("local", FakeApi, 0).take() is None
    with pytest.raises(ValueError, match="0 or more"):
        NetworkPool("local", FakeApi, -1)


def test_it_refills_only_when_pod_work_has_been_idle() -> None:
    api = FakeApi()
    now = [100.0]
    pool = NetworkPool("local", lambda: api, 2, clock=lambda: now[0])
    assert pool._refill_once() == 0.0  # never worked: made at once
    with pool.working():
        assert pool._refill_once() == network_pool.IDLE_BEFORE_REFILL  # a create is running
    now[0] += 0.25
    assert pool._refill_once() == pytest.approx(network_pool.IDLE_BEFORE_REFILL - 0.25)
    now[0] += network_pool.IDLE_BEFORE_REFILL
    assert pool._refill_once() == 0.0
    assert pool._refill_once() is None  # full: wait until woken
    assert pool.free_count() == 2
    assert pool.take() is not None and pool.free_count() == 1


def test_a_network_given_back_is_kept_when_empty_and_the_pool_has_room() -> None:
    api = FakeApi()
    pool = NetworkPool("local", lambda: api, 1)
    empty, other, attached = api.add(warm()), api.add(warm()), api.add(warm(), ("c1",))
    pool.give_back(attached)  # still in use by someone: never shared, removed like a pod's
    pool.give_back(empty)
    pool.give_back(other)  # the pool is full
    pool.give_back("gone")  # already removed: nothing to do
    assert pool.take() == empty
    assert api.removed == [attached, other]
    assert api.container_networks["c1"] == []


def test_at_start_it_adopts_free_warm_networks_and_removes_the_extras() -> None:
    api = FakeApi()
    used = api.add(warm(), ("c1",))
    free = [api.add(warm()) for _ in range(3)]
    pods_own = api.add("pods-local-dev-web1")  # a pod's own network: not the pool's
    pool = NetworkPool("local", lambda: api, 2)
    pool._adopt()
    assert pool.free_count() == 2
    assert sorted([pool.take(), pool.take()]) == free[:2]  # type: ignore[type-var]
    assert api.removed == [free[2]]
    assert {used, pods_own} <= set(api.networks_by_id)

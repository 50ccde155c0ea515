"""DockerRuntime with warm networks (network_pool.py), against the real Docker engine: a pod's
container goes alone onto a warm network made ahead, labelled for the deployment, and is
adopted there (not replaced); its removal gives the emptied network back for the next pod;
pods on warm networks still cannot reach each other; a runtime started after a crash adopts
the warm networks nobody is attached to and removes those beyond its size."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import docker
import pytest

from services.common.runtime.naming import container_name
from services.common.runtime.types import LABEL_DEPLOYMENT, PodKey
from services.spawner.platforms.docker.network import (
    BRIDGE_NAME_OPTION,
    BRIDGE_PREFIX,
    NETWORK_OPTIONS,
)
from services.spawner.platforms.docker.network_pool import (
    POOL_LABEL,
    is_pool_network,
    pool_network_kwargs,
)
from services.spawner.platforms.docker.runtime import DockerRuntime

from .conftest import remove_deployment
from .test_docker_isolation import address, fetch, our_networks, two_ports
from .test_docker_runtime import KEY, get_when_ready, web

pytestmark = pytest.mark.docker


@pytest.fixture
def pooled(docker_client: docker.DockerClient, deployment_id: str) -> Iterator[DockerRuntime]:
    """A runtime keeping one warm network, already made."""
    runtime = DockerRuntime(deployment_id, network_mode="per-pod", network_pool=1)
    try:
        wait_until(lambda: runtime._pool.free_count() == 1, "the warm network is made")
        yield runtime
    finally:
        runtime.close()
        remove_deployment(docker_client, deployment_id)


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def networks_of(client: docker.DockerClient, name: str) -> list[str]:
    return list(client.api.inspect_container(name)["NetworkSettings"]["Networks"])


async def test_a_pod_goes_alone_onto_a_warm_network_made_for_the_deployment(
    pooled: DockerRuntime, test_image: str, docker_client: docker.DockerClient
) -> None:
    (warm,) = our_networks(docker_client, pooled.deployment_id)
    result = await pooled.ensure(web(test_image))
    assert result.action == "created"
    assert await get_when_ready(result.state.published[5000])
    assert networks_of(docker_client, result.state.name) == [warm["Name"]]
    network = docker_client.api.inspect_network(str(warm["Id"]))
    assert network["Labels"] == {LABEL_DEPLOYMENT: pooled.deployment_id, POOL_LABEL: "warm"}
    assert network["Options"].pop(BRIDGE_NAME_OPTION).startswith(BRIDGE_PREFIX)
    assert network["Options"] == NETWORK_OPTIONS
    container_id = docker_client.api.inspect_container(result.state.name)["Id"]
    assert list(network["Containers"]) == [container_id]
    assert (await pooled.ensure(web(test_image))).action == "adopted"  # not replaced


async def test_removing_the_pod_gives_its_network_to_the_next_pod(
    pooled: DockerRuntime, test_image: str, docker_client: docker.DockerClient
) -> None:
    (warm,) = our_networks(docker_client, pooled.deployment_id)
    await pooled.ensure(web(test_image))
    assert await pooled.remove(KEY) is True
    assert pooled._pool.free_count() == 1
    assert [n["Id"] for n in our_networks(docker_client, pooled.deployment_id)] == [warm["Id"]]
    other = PodKey("dev", "other")
    state = (await pooled.ensure(web(test_image, other))).state
    assert networks_of(docker_client, state.name) == [warm["Name"]]
    assert await pooled.remove(other) is True
    assert await pooled.remove(other) is False


async def test_pods_on_warm_networks_cannot_reach_each_other(
    docker_client: docker.DockerClient, deployment_id: str, test_image: str
) -> None:
    runtime = DockerRuntime(deployment_id, network_mode="per-pod", network_pool=2)
    try:
        wait_until(lambda: runtime._pool.free_count() == 2, "two warm networks are made")
        a, b = PodKey("dev", "a"), PodKey("dev", "b")
        await runtime.ensure(two_ports(test_image, a))
        await runtime.ensure(two_ports(test_image, b))
        name_a = container_name(deployment_id, a)
        name_b = container_name(deployment_id, b)
        assert networks_of(docker_client, name_a) != networks_of(docker_client, name_b)
        b_ip = address(docker_client, deployment_id, b)
        async with asyncio.timeout(20):
            while "side-door" not in (await fetch(runtime, b, f"http://{b_ip}:6000/"))[1]:
                await asyncio.sleep(0.2)  # control: B serves on its address
        for port in (5000, 6000):
            code, output = await fetch(runtime, a, f"http://{b_ip}:{port}/")
            assert code != 0 and output == "", f"pod a reached pod b on port {port}"
    finally:
        runtime.close()
        remove_deployment(docker_client, deployment_id)


async def test_a_new_runtime_adopts_free_warm_networks_and_removes_the_extra_ones(
    docker_client: docker.DockerClient, deployment_id: str, test_image: str
) -> None:
    # What a killed spawner leaves: three free warm networks and one in use by a pod.
    first = DockerRuntime(deployment_id, network_mode="per-pod", network_pool=4)
    try:
        wait_until(lambda: first._pool.free_count() == 4, "four warm networks are made")
        in_use = (await first.ensure(web(test_image))).state.name
    finally:
        first.close()
    free = {
        str(n["Id"])
        for n in our_networks(docker_client, deployment_id)
        if n["Name"] not in networks_of(docker_client, in_use)
    }
    assert len(free) == 3
    second = DockerRuntime(deployment_id, network_mode="per-pod", network_pool=2)
    try:
        wait_until(lambda: len(our_networks(docker_client, deployment_id)) == 3, "extras go")
        assert second._pool.free_count() == 2
        left = {str(n["Id"]) for n in our_networks(docker_client, deployment_id)}
        assert len(left & free) == 2  # adopted, not made anew
        assert (await second.ensure(web(test_image))).action == "adopted"  # the pod stays
    finally:
        second.close()
        remove_deployment(docker_client, deployment_id)


def test_warm_network_names_cannot_be_a_pods_name() -> None:
    name = pool_network_kwargs("local")["name"]
    assert is_pool_network("local", name)
    assert "." in name  # pod and tenant ids never hold a '.'
    assert not is_pool_network("local", container_name("local", PodKey("pool", "abc")))

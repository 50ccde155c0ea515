"""DockerRuntime in the default-bridge network mode, and in the auto mode (the default), which
chooses the same on this machine, against the real Docker engine of this machine, which
scripts/setup starts with --icc=false: pods (also one user's) on the engine's
default bridge cannot reach each other, nor resolve each other's names, while their published
ports answer; no network is made or removed for them; a container on the default bridge is
adopted in this mode and replaced by the modes that do not keep it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import docker
import pytest

from services.common.outcomes import PermanentError
from services.common.runtime.naming import container_name
from services.common.runtime.types import PodKey
from services.spawner.platforms.docker.default_bridge import (
    DEFAULT_BRIDGE,
    DefaultBridge,
    icc_is_off,
)
from services.spawner.platforms.docker.runtime import DockerRuntime

from .conftest import runtime_in
from .test_docker_isolation import SIDE, address, fetch, our_networks, two_ports
from .test_docker_network_pool import networks_of
from .test_docker_runtime import KEY, get_when_ready, web

pytestmark = pytest.mark.docker


@pytest.fixture(params=["default-bridge", "auto"])
def bridge_mode(
    request: pytest.FixtureRequest, docker_client: docker.DockerClient, deployment_id: str
) -> Iterator[DockerRuntime]:
    """A runtime in the default-bridge and in the auto mode, on an engine whose default bridge
    isolates."""
    assert icc_is_off(docker_client.api.inspect_network(DEFAULT_BRIDGE)), (
        "this engine's default bridge lets containers talk: restart dockerd with --icc=false "
        "(scripts/setup starts it so)"
    )
    yield from runtime_in(docker_client, deployment_id, request.param)


async def test_pods_on_the_default_bridge_cannot_reach_each_other_and_the_gateway_reaches_both(
    bridge_mode: DockerRuntime, test_image: str, docker_client: docker.DockerClient
) -> None:
    a, b = PodKey("dev", "a"), PodKey("dev", "b")  # the same tenant and user
    state_a = (await bridge_mode.ensure(two_ports(test_image, a))).state
    state_b = (await bridge_mode.ensure(two_ports(test_image, b))).state
    for state in (state_a, state_b):
        assert networks_of(docker_client, state.name) == [DEFAULT_BRIDGE]
    a_ip = address(docker_client, bridge_mode.deployment_id, a)
    b_ip = address(docker_client, bridge_mode.deployment_id, b)
    async with asyncio.timeout(20):
        while SIDE not in (await fetch(bridge_mode, b, f"http://{b_ip}:6000/"))[1]:
            await asyncio.sleep(0.2)  # control: B serves both ports on its address
    assert (await fetch(bridge_mode, a, f"http://{a_ip}:5000/"))[1] == "main\n"  # control
    for port in (5000, 6000):
        code, output = await fetch(bridge_mode, a, f"http://{b_ip}:{port}/")
        assert code != 0 and output == "", f"pod a reached pod b on port {port}"
    name_b = container_name(bridge_mode.deployment_id, b)
    code, output = await fetch(bridge_mode, a, f"http://{name_b}:5000/")
    assert code != 0 and output == "", "pod a resolved pod b's name"
    assert await get_when_ready(state_a.published[5000])  # the gateway's way in
    assert await get_when_ready(state_b.published[5000])


async def test_no_network_is_made_or_removed_for_pods(
    bridge_mode: DockerRuntime, test_image: str, docker_client: docker.DockerClient
) -> None:
    key = PodKey("dev", "web")
    await bridge_mode.ensure(web(test_image, key))
    assert (await bridge_mode.ensure(web(test_image, key))).action == "adopted"
    assert our_networks(docker_client, bridge_mode.deployment_id) == []
    assert await bridge_mode.remove(key) is True
    assert docker_client.api.inspect_network(DEFAULT_BRIDGE)["Name"] == DEFAULT_BRIDGE


async def test_switching_keeps_shared_pods_and_the_shared_mode_moves_default_bridge_pods(
    bridge_mode: DockerRuntime, test_image: str, docker_client: docker.DockerClient
) -> None:
    shared = DockerRuntime(bridge_mode.deployment_id, network_mode="shared")
    try:
        kept, moved = PodKey("dev", "kept"), PodKey("dev", "moved")
        await shared.ensure(web(test_image, kept))
        assert (await bridge_mode.ensure(web(test_image, kept))).action == "adopted"
        await bridge_mode.ensure(web(test_image, moved))
        result = await shared.ensure(web(test_image, moved))
        assert result.action == "replaced"
        assert networks_of(docker_client, result.state.name) != [DEFAULT_BRIDGE]
    finally:
        shared.close()


async def test_a_pod_on_a_default_bridge_that_stopped_isolating_is_not_kept_there(
    bridge_mode: DockerRuntime,
    test_image: str,
    docker_client: docker.DockerClient,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """As if the engine were restarted without --icc=false: the next ensure takes the pod's
    container off the default bridge (auto: onto the shared network; default-bridge: none,
    refused naming the flag), even though it creates before it looks a name up."""
    first = await bridge_mode.ensure(web(test_image))
    monkeypatch.setattr(DefaultBridge, "isolates", lambda self: False)
    name = container_name(bridge_mode.deployment_id, KEY)
    if request.node.callspec.params["bridge_mode"] == "default-bridge":
        with pytest.raises(PermanentError, match="--icc=false"):
            await bridge_mode.ensure(web(test_image))
        assert not docker_client.containers.list(all=True, filters={"name": f"^{name}$"})
    else:
        result = await bridge_mode.ensure(web(test_image))
        assert result.action == "replaced" and result.state.name == first.state.name
        assert networks_of(docker_client, name) != [DEFAULT_BRIDGE]

"""Pods on bridges of their own stay apart while the engine makes other networks, against the
real Docker engine and the host's firewall.

Docker 20.10 moves its DOCKER-ISOLATION-STAGE-1 jump back to the top of FORWARD every time it
makes a network, by deleting the jump and inserting it again; in between, a pod reaches
another bridge's published port (seen as "pod a reached pod b on port 5000" with warm
networks, which the pool makes while pods run). Our bridges are named `podsbr…`
(network.BRIDGE_PREFIX) and scripts/pod-firewall drops traffic between them in DOCKER-USER,
whose jump Docker moves at another moment, so one of the two always holds."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import uuid

import docker
import pytest

from services.common.runtime.naming import container_name
from services.common.runtime.types import PodKey
from services.spawner.platforms.docker.network import BRIDGE_PREFIX
from services.spawner.platforms.docker.runtime import DockerRuntime

from .conftest import remove_deployment
from .test_docker_isolation import SIDE, address, fetch, two_ports

pytestmark = pytest.mark.docker

GUARD = ["DOCKER-USER", "-i", f"{BRIDGE_PREFIX}+", "-o", f"{BRIDGE_PREFIX}+", "-j", "DROP"]
NETWORKS_MADE = 20  # each one opens Docker's window once
TRIERS = 8  # loops in pod a, each trying pod b's published port once a second
TRY = "/bin/busybox timeout 1 /bin/busybox wget -q -O - http://{ip}:5000/ >/dev/null 2>&1"
TRIER = f"while [ ! -e /tmp/stop ]; do echo >> /tmp/tries; {TRY} && echo hit >> /tmp/hits; done"


def test_the_host_drops_traffic_between_pod_bridges() -> None:
    check = subprocess.run(["iptables", "-w", "-C", *GUARD], capture_output=True, text=True)
    assert check.returncode == 0, f"scripts/pod-firewall's rule is missing: {check.stderr}"


def test_a_pod_network_s_bridge_has_our_prefix(
    docker_client: docker.DockerClient, deployment_id: str, test_image: str
) -> None:
    for mode in ("shared", "per-pod"):
        runtime = DockerRuntime(deployment_id, network_mode=mode)
        try:
            state = asyncio.run(
                runtime.ensure(two_ports(test_image, PodKey("dev", mode.replace("-", ""))))
            )
            attrs = docker_client.api.inspect_container(state.state.name)
            (network,) = attrs["NetworkSettings"]["Networks"]
            options = docker_client.api.inspect_network(network)["Options"]
            bridge = options["com.docker.network.bridge.name"]
            assert bridge.startswith(BRIDGE_PREFIX) and len(bridge) <= 15, bridge
        finally:
            runtime.close()
            remove_deployment(docker_client, deployment_id)


def make_networks(client: docker.DockerClient, prefix: str) -> None:
    for n in range(NETWORKS_MADE):
        network = client.networks.create(f"{prefix}-{n}", driver="bridge")
        network.remove()


async def in_pod(runtime: DockerRuntime, key: PodKey, script: str) -> str:
    result = await runtime.exec(key, ["/bin/busybox", "sh", "-c", script], 10, 4096)
    assert result.exit_code == 0, result
    return result.stdout


async def test_pods_stay_apart_while_the_engine_makes_networks(
    docker_client: docker.DockerClient, deployment_id: str, test_image: str
) -> None:
    runtime = DockerRuntime(deployment_id, network_mode="per-pod")
    churn_prefix = f"guard-churn-{uuid.uuid4().hex[:8]}"
    try:
        a, b = PodKey("dev", "a"), PodKey("dev", "b")
        await runtime.ensure(two_ports(test_image, a))
        await runtime.ensure(two_ports(test_image, b))
        b_ip = address(docker_client, deployment_id, b)
        async with asyncio.timeout(20):
            while SIDE not in (await fetch(runtime, b, f"http://{b_ip}:6000/"))[1]:
                await asyncio.sleep(0.2)  # control: B serves on its address
        name_a = container_name(deployment_id, a)
        script = " & ".join([TRIER.format(ip=b_ip)] * TRIERS) + " & wait"
        docker_client.api.exec_start(
            docker_client.api.exec_create(name_a, ["/bin/busybox", "sh", "-c", script]),
            detach=True,
        )
        churn = threading.Thread(target=make_networks, args=(docker_client, churn_prefix))
        churn.start()
        await asyncio.to_thread(churn.join, 120)
        assert not churn.is_alive(), "the engine did not make the networks within 120 s"
        stop = await runtime.exec(a, ["/bin/busybox", "touch", "/tmp/stop"], 10, 100)
        assert stop.exit_code == 0
        tries = (await in_pod(runtime, a, "wc -l < /tmp/tries")).strip()
        assert int(tries) >= TRIERS * 2, f"only {tries} tries"  # control: the loops ran
        hits = await in_pod(runtime, a, "cat /tmp/hits 2>/dev/null || true")
        assert hits == "", f"pod a reached pod b {hits.count('hit')} times in {tries} tries"
    finally:
        for network in docker_client.networks.list(names=[churn_prefix]):
            network.remove()
        runtime.close()
        remove_deployment(docker_client, deployment_id)

"""The whole stack in the shared network mode (PODS_DOCKER_NETWORK_MODE=shared): pods created
through tapipy all join the deployment's one bridge, with inter-container traffic off, become
AVAILABLE and answer through the gateway by name, cannot reach each other, and leave the
bridge when deleted; the bridge stays, empty. (The default mode, auto, on this machine:
tests/e2e/test_isolation.py; the default-bridge mode: tests/integration/runtime/
test_docker_default_bridge.py.)
Real API, spawner, health, Docker engine and gateway."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest
from tapipy.tapis import Tapis

from services.spawner.platforms.docker.shared_network import shared_network_name
from tests.e2e.harness import Stack, eventually, start_stack, stop_stack
from tests.e2e.test_isolation import _answers, addresses, deployment_networks, fetch_from, running
from tests.e2e.test_lifecycle import client
from tests.e2e.test_networking import DOMAIN

pytestmark = [pytest.mark.docker, pytest.mark.stack]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running_stack = start_stack(
        tmp_path_factory.mktemp("stack-shared"),
        extra_env={"PODS_DOCKER_NETWORK_MODE": "shared"},
    )
    try:
        yield running_stack
    finally:
        stop_stack(running_stack)


@pytest.fixture(scope="module")
def t(stack: Stack) -> Tapis:
    return client(stack)


def test_pods_on_the_shared_network_serve_through_the_gateway_and_stay_apart(
    t: Tapis, stack: Stack
) -> None:
    pod_a = running(stack, t, pod_id="sha", image="pods-http:latest")
    pod_b = running(stack, t, pod_id="shb", image="pods-http:latest")
    shared = shared_network_name(stack.deployment_id)
    for pod in (pod_a, pod_b):
        assert list(pod.attrs["NetworkSettings"]["Networks"]) == [shared]
    (network,) = deployment_networks(stack)
    assert network["Options"]["com.docker.network.bridge.enable_icc"] == "false"
    (a_ip,), (b_ip,) = addresses(pod_a), addresses(pod_b)
    assert "pods-http" in fetch_from(pod_a, f"http://{a_ip}:5000/")[1]  # control
    code, output = fetch_from(pod_a, f"http://{b_ip}:5000/")
    assert code != 0 and "pods-http" not in output, "pod A reached pod B"
    for pod_id in ("sha", "shb"):
        host = f"{pod_id}.{DOMAIN}"
        eventually(functools.partial(_answers, stack, host), 30, f"{host} through the gateway")
    for pod_id in ("sha", "shb"):
        t.pods.delete_pod(pod_id=pod_id)
    eventually(lambda: not stack.containers("sha") and not stack.containers("shb"), 60)

    def only_the_shared_network_left_empty() -> bool:
        left = deployment_networks(stack)
        return [n["Name"] for n in left] == [shared] and not left[0]["Containers"]

    eventually(only_the_shared_network_left_empty, 30, "the pods left it")

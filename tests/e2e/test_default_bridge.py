"""The whole stack in the default-bridge network mode (PODS_DOCKER_NETWORK_MODE=default-bridge,
on this machine's engine, which scripts/setup starts with --icc=false): pods created through
tapipy run on the engine's default bridge, become AVAILABLE and answer through the gateway by
name, cannot reach each other, and no network is made for them.
Real API, spawner, health, Docker engine and gateway."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import docker
import pytest
from tapipy.tapis import Tapis

from services.common.runtime.types import LABEL_DEPLOYMENT
from tests.e2e.harness import Stack, eventually, start_stack, stop_stack
from tests.e2e.test_isolation import _answers, addresses, fetch_from, running
from tests.e2e.test_lifecycle import client
from tests.e2e.test_networking import DOMAIN

pytestmark = [pytest.mark.docker, pytest.mark.stack]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running_stack = start_stack(
        tmp_path_factory.mktemp("stack-bridge"),
        extra_env={"PODS_DOCKER_NETWORK_MODE": "default-bridge"},
    )
    try:
        yield running_stack
    finally:
        stop_stack(running_stack)


@pytest.fixture(scope="module")
def t(stack: Stack) -> Tapis:
    return client(stack)


def test_pods_on_the_default_bridge_serve_through_the_gateway_and_stay_apart(
    t: Tapis, stack: Stack
) -> None:
    pod_a = running(stack, t, pod_id="bra", image="pods-http:latest")
    pod_b = running(stack, t, pod_id="brb", image="pods-http:latest")
    for pod in (pod_a, pod_b):
        assert list(pod.attrs["NetworkSettings"]["Networks"]) == ["bridge"]
    (a_ip,), (b_ip,) = addresses(pod_a), addresses(pod_b)
    assert "pods-http" in fetch_from(pod_a, f"http://{a_ip}:5000/")[1]  # control
    code, output = fetch_from(pod_a, f"http://{b_ip}:5000/")
    assert code != 0 and "pods-http" not in output, "pod A reached pod B"
    for pod_id in ("bra", "brb"):
        host = f"{pod_id}.{DOMAIN}"
        eventually(functools.partial(_answers, stack, host), 30, f"{host} through the gateway")
    engine = docker.from_env()
    try:
        label = f"{LABEL_DEPLOYMENT}={stack.deployment_id}"
        assert engine.api.networks(filters={"label": label}) == []
    finally:
        engine.close()
    for pod_id in ("bra", "brb"):
        t.pods.delete_pod(pod_id=pod_id)
    eventually(lambda: not stack.containers("bra") and not stack.containers("brb"), 60)

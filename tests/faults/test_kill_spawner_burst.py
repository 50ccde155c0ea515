"""SIGKILL of the spawner in the middle of a burst: a dozen pods created at once, so that the
spawner works on many of them together (PODS_SPAWNER_CONCURRENCY), killed by a failpoint right
after its first container is made (spawner-after-ensure: the database not updated yet, the
other pods' commands in hand); then all deleted at once, killed right after the first removal
(spawner-after-remove-delete). The commands it held come back to the restarted spawner, which
finishes them: every pod ends AVAILABLE with exactly one container, then gone with no
container, and no network left but the deployment's shared one, empty. The stack runs in the
shared network mode, the one whose network the pods' containers join and leave (the default,
auto, puts them on the engine's default bridge on this machine)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker
import pytest

from services.common.runtime.types import LABEL_DEPLOYMENT
from services.spawner.platforms.docker.shared_network import shared_network_name
from tests.e2e.harness import Stack, eventually, start_stack, stop_stack
from tests.faults.convergence import (
    action_count,
    assert_converged,
    call_until_answered,
    failpoint_env,
    fired,
    restarted,
)

pytestmark = [pytest.mark.faults, pytest.mark.docker, pytest.mark.stack]
PODS = [f"kb{n}" for n in range(12)]


POINTS = ["spawner-after-ensure", "spawner-after-remove-delete"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("spawnerburst"),
        {**failpoint_env(POINTS), "PODS_DOCKER_NETWORK_MODE": "shared"},
    )
    try:
        yield running
    finally:
        stop_stack(running)


def all_at_once(stack: Stack, token: str, operation: str) -> None:
    with ThreadPoolExecutor(len(PODS)) as pool:
        statuses = list(
            pool.map(lambda p: call_until_answered(stack, token, operation, p, 90), PODS)
        )
    assert statuses == [200] * len(PODS), statuses


def networks(stack: Stack) -> list[dict[str, Any]]:
    """The deployment's networks, inspected (with their containers and labels)."""
    client = docker.from_env()
    try:
        label = f"{LABEL_DEPLOYMENT}={stack.deployment_id}"
        return [
            client.api.inspect_network(network.id)
            for network in client.networks.list(filters={"label": label})
        ]
    finally:
        client.close()


def only_the_empty_shared_network_left(stack: Stack) -> bool:
    """The deployment's shared pod network stays (by design), with no container on it."""
    left = networks(stack)
    return [n["Name"] for n in left] == [shared_network_name(stack.deployment_id)] and not (
        left[0]["Containers"]
    )


def killed_and_back(stack: Stack, point: str, pid: int) -> None:
    eventually(lambda: fired(stack, point), 120, f"failpoint {point}")
    print(f"{point}: killed with {len(stack.containers())} containers of the deployment")
    eventually(lambda: restarted(stack, "spawner", pid), 60, "the spawner restarted")


def test_a_burst_of_creates_then_deletes_survives_a_spawner_kill(stack: Stack) -> None:
    token = stack.token()

    pid = stack.pid_of("spawner")
    all_at_once(stack, token, "create")
    killed_and_back(stack, "spawner-after-ensure", pid)
    assert_converged(stack, token, dict.fromkeys(PODS, "create"), timeout=240)
    for pod_id in PODS:
        assert len(stack.containers(pod_id)) == 1, pod_id
        assert action_count(stack, token, pod_id, "status AVAILABLE") == 1, pod_id
    (shared,) = networks(stack)  # the shared network mode: one bridge for all pods
    assert shared["Name"] == shared_network_name(stack.deployment_id)
    assert len(shared["Containers"]) == len(PODS), shared

    pid = stack.pid_of("spawner")
    all_at_once(stack, token, "delete")
    killed_and_back(stack, "spawner-after-remove-delete", pid)
    assert_converged(stack, token, dict.fromkeys(PODS, "delete"), timeout=240)
    eventually(lambda: only_the_empty_shared_network_left(stack), 120, "the pods left it")

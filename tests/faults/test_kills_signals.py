"""SIGKILL of each process of the stack by signal (health, the pod router, nats-server, api,
spawner), through the stack as `scripts/up` runs it: the supervisor (the launcher, for
nats-server) starts it again, and a pod created afterwards comes up exactly once and goes away
reachable by name through the gateway, and goes away without leaving a container behind."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from services.common.runtime.types import LABEL_POD
from tests.e2e.harness import Stack, eventually, start_stack, stop_stack
from tests.e2e.test_networking import _status as pod_answers
from tests.faults.convergence import (
    action_count,
    assert_converged,
    call_until_answered,
    failpoint_env,
    restarted,
)

pytestmark = [pytest.mark.faults, pytest.mark.docker, pytest.mark.stack]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("sigkills"), failpoint_env([]))
    try:
        yield running
    finally:
        stop_stack(running)


@pytest.fixture(scope="module")
def token(stack: Stack) -> str:
    return stack.token()


@pytest.mark.parametrize("name", ["health", "router", "nats", "api", "spawner"])
def test_sigkill_then_a_pod_comes_and_goes(stack: Stack, token: str, name: str) -> None:
    pid = stack.pid_of(name)
    os.kill(pid, signal.SIGKILL)
    eventually(lambda: restarted(stack, name, pid), 60, f"{name} restarted")
    pod_id = f"after{name}"
    assert call_until_answered(stack, token, "create", pod_id) == 200
    assert_converged(stack, token, {pod_id: "create"})
    assert action_count(stack, token, pod_id, "status AVAILABLE") == 1
    host = f"{pod_id}.pods.localhost"  # routed by name through the gateway's TLS port
    eventually(lambda: pod_answers(stack, host) == 200, 30, f"{host} routed")
    assert call_until_answered(stack, token, "delete", pod_id) == 200
    assert_converged(stack, token, {pod_id: "delete"})


def test_no_container_of_the_deployment_is_left_without_a_pod(stack: Stack, token: str) -> None:
    """Orphans: every container of this deployment belongs to a pod that exists."""
    status, _, data = stack.request("GET", "/v3/pods", token=token)
    assert status == 200 and isinstance(data, dict)
    listed = {p["pod_id"] for p in data["result"]}
    owners = [c.labels.get(LABEL_POD) for c in stack.containers()]
    assert set(owners) <= listed, (owners, listed)

"""Kill the spawner (SIGKILL) between applying a create and acknowledging its command: the
command is redelivered to the restarted spawner, which adopts the container, and the pod
reaches AVAILABLE exactly once with exactly one container, whose log run it records."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tapipy.tapis import Tapis

from tests.e2e.harness import Stack, start_stack, stop_stack
from tests.e2e.sse import Sse

pytestmark = [pytest.mark.docker, pytest.mark.stack]


@pytest.fixture(scope="module")
def crashy_stack(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_stack(
        tmp_path_factory.mktemp("crash"),
        {"PODS_FAILPOINTS": "spawner-after-ensure", "PODS_ACK_WAIT": "3"},
        database=database,
    )
    try:
        yield stack
    finally:
        stop_stack(stack)


def test_spawner_killed_mid_create_converges_to_one_available_pod(crashy_stack: Stack) -> None:
    stack = crashy_stack
    t = Tapis(base_url=stack.url, username="testuser", password="testpass")
    t.get_tokens()
    first_pid = stack.pid_of("spawner")
    t.pods.create_pod(pod_id="crashpod", image="pods-http:latest")

    marker = Path(stack.data_dir) / "failpoint-spawner-after-ensure.fired"
    max_containers = 0
    deadline = time.monotonic() + 90
    status = ""
    while time.monotonic() < deadline:
        max_containers = max(max_containers, len(stack.containers("crashpod")))
        status = t.pods.get_pod(pod_id="crashpod").status
        if status == "AVAILABLE" and stack.pid_of("spawner") != first_pid:
            break
        time.sleep(0.2)

    assert marker.exists(), "the failpoint never fired"
    assert stack.pid_of("spawner") != first_pid, "the spawner was not restarted"
    assert status == "AVAILABLE"
    assert max_containers == 1
    time.sleep(2)  # let any duplicate work show itself
    assert len(stack.containers("crashpod")) == 1
    action_logs = t.pods.get_pod_logs(pod_id="crashpod").action_logs
    assert sum("status AVAILABLE" in line for line in action_logs) == 1, action_logs
    assert sum("container created" in line for line in action_logs) <= 1, action_logs
    # The adopted container's run is recorded: its output is the pod's run 1, not output
    # of no container (run 0, which it stayed in when the restarted spawner only adopted).
    follow = Sse(stack, "/v3/pods/crashpod/logs?follow=true", stack.token())
    try:
        first = follow.next()
    finally:
        follow.close()
    assert (first.event, first.data["run"]) == ("log", 1), first
    t.pods.delete_pod(pod_id="crashpod")

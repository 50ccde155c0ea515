"""Exec cannot starve the service (issue 9), through the whole stack on real Docker: long execs
never hold up another user's new pod, and a command is really killed inside the container when
its timeout passes or its HTTP client goes away."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator

import pytest

from tests.e2e.exec_support import (
    available_pod,
    exec_body,
    exec_in_background,
    exec_pod,
    measure_until_available,
    stack_with_limits,
    wait_for_processes,
    wait_until_gone,
)
from tests.e2e.harness import Stack, stop_stack

pytestmark = [pytest.mark.docker, pytest.mark.stack]

HOGS = 40


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Limits high enough that all 40 execs run at once: what is tested is the separation of
    # exec from container lifecycle work, not the limits (test_exec_limits.py).
    running = stack_with_limits(tmp_path_factory.mktemp("execiso"), HOGS, HOGS, HOGS)
    try:
        yield running
    finally:
        stop_stack(running)


def test_forty_long_execs_do_not_delay_another_users_new_pod(stack: Stack) -> None:
    hog, other = stack.token("testuser", "testpass"), stack.token("otheruser", "otherpass")
    available_pod(stack, hog, "hogpod")
    baseline = measure_until_available(stack, other, "basepod", 60)
    answers = [exec_in_background(stack, hog, "hogpod", ["sleep", "241"], 240) for _ in range(HOGS)]
    # Before the fix only the default executor's few workers (min(32, cores + 4)) ran execs.
    wait_for_processes(stack, "hogpod", "sleep 241", 6, 30)
    took = measure_until_available(stack, other, "newpod", deadline=3 * baseline + 15)
    print(f"baseline {baseline:.2f}s, with {HOGS} execs running {took:.2f}s")
    wait_for_processes(stack, "hogpod", "sleep 241", HOGS, 30)
    assert not any(answers), "no exec should have ended yet"
    stack.request("DELETE", "/v3/pods/hogpod", token=hog)


def test_a_timed_out_command_is_killed_in_the_container(stack: Stack) -> None:
    token = stack.token()
    available_pod(stack, token, "timeoutpod")
    status, data = exec_pod(stack, token, "timeoutpod", ["sleep", "242"], 2)
    assert status == 200, data
    (result,) = data["result"]["execution_results"]
    assert (result["timed_out"], result["success"]) == (True, False)
    wait_until_gone(stack, "timeoutpod", "sleep 242", 10)


def test_a_command_is_killed_when_its_client_goes_away(stack: Stack) -> None:
    token = stack.token()
    available_pod(stack, token, "gonepod")
    connection = http.client.HTTPConnection("127.0.0.1", int(stack.env["PODS_GATEWAY_PORT"]))
    connection.request(
        "POST",
        "/v3/pods/gonepod/exec",
        body=exec_body(["sleep", "243"], 240),
        headers={"Content-Type": "application/json", "X-Tapis-Token": token},
    )
    wait_for_processes(stack, "gonepod", "sleep 243", 1, 30)
    connection.close()  # the client goes away without reading the answer
    started = time.monotonic()
    wait_until_gone(stack, "gonepod", "sleep 243", 15)
    print(f"killed {time.monotonic() - started:.2f}s after the client went away")

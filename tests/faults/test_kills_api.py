"""SIGKILL of the api after the desired state is written and before its command is published
(failpoint api-before-publish-<operation>), for create, update, stop, start, restart and
delete in turn on one pod, through the stack as `scripts/up` runs it. The client does not
retry: the command that was never published is recovered from the database by health's
resync, and the pod converges exactly once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import Stack, eventually, start_stack, stop_stack
from tests.faults.convergence import (
    action_count,
    assert_converged,
    call,
    failpoint_env,
    fired,
    restarted,
)

pytestmark = [pytest.mark.faults, pytest.mark.docker, pytest.mark.stack]
OPERATIONS = ["create", "update", "stop", "start", "restart", "delete"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    points = [f"api-before-publish-{op}" for op in OPERATIONS]
    running = start_stack(tmp_path_factory.mktemp("apikills"), failpoint_env(points))
    try:
        yield running
    finally:
        stop_stack(running)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_api_killed_after_the_write_and_before_the_publish_converges(
    stack: Stack, operation: str
) -> None:
    token = stack.token()
    pid = stack.pid_of("api")
    status = call(stack, token, operation, "apipod")
    assert status != 200, "the api answered although it should have died"
    assert fired(stack, f"api-before-publish-{operation}")
    eventually(lambda: restarted(stack, "api", pid), 60, "the api restarted")
    assert_converged(stack, token, {"apipod": operation})
    if operation == "create":
        assert action_count(stack, token, "apipod", "status AVAILABLE") == 1

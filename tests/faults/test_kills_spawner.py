"""SIGKILL of the spawner in the middle of operations, through the stack as `scripts/up` runs
it: after acknowledging nothing yet (spawner-before-ack-<reason>: applied and recorded, not
acked), and after removing a container for stop, restart and delete before recording it
(spawner-after-remove-<what>). The command comes back to the restarted spawner, which
finishes the work: one container or none, as asked, never two. (Killing it after a create
and before the database knows is tests/e2e/test_crash_safety.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
STEPS = [
    ("create", "spawner-before-ack-create"),
    ("stop", "spawner-after-remove-stop"),
    ("start", "spawner-before-ack-start"),
    ("restart", "spawner-after-remove-restart"),
    ("delete", "spawner-after-remove-delete"),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    points = [point for _, point in STEPS]
    running = start_stack(tmp_path_factory.mktemp("spawnerkills"), failpoint_env(points))
    try:
        yield running
    finally:
        stop_stack(running)


@pytest.mark.parametrize(("operation", "point"), STEPS)
def test_spawner_killed_mid_operation_converges(stack: Stack, operation: str, point: str) -> None:
    token = stack.token()
    pid = stack.pid_of("spawner")
    assert call_until_answered(stack, token, operation, "sppod") == 200
    eventually(lambda: fired(stack, point), 60, f"failpoint {point}")
    eventually(lambda: restarted(stack, "spawner", pid), 60, "the spawner restarted")
    assert_converged(stack, token, {"sppod": operation})
    if operation == "create":
        assert action_count(stack, token, "sppod", "status AVAILABLE") == 1
        assert action_count(stack, token, "sppod", "container created") == 1

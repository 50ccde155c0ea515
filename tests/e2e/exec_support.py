"""Helpers of the exec e2e tests: a private stack with given exec limits, pods, execs sent in
the background, and the processes seen in a pod's container (`docker top`, from the host)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from tests.e2e.harness import Stack, eventually, start_stack


def stack_with_limits(tmp: Path, per_pod: int, per_user: int, total: int) -> Stack:
    return start_stack(
        tmp,
        {
            "PODS_EXEC_MAX_PER_POD": str(per_pod),
            "PODS_EXEC_MAX_PER_USER": str(per_user),
            "PODS_EXEC_MAX_TOTAL": str(total),
        },
    )


def pod_status(stack: Stack, token: str, pod_id: str) -> str:
    status, _, data = stack.request("GET", f"/v3/pods/{pod_id}", token=token)
    return str(data["result"]["status"]) if status == 200 and isinstance(data, dict) else ""


def create_pod(stack: Stack, token: str, pod_id: str) -> None:
    body = json.dumps({"pod_id": pod_id, "image": "pods-http:latest"}).encode()
    status, _, data = stack.request("POST", "/v3/pods", body, token=token)
    assert status == 200, data


def available_pod(stack: Stack, token: str, pod_id: str) -> None:
    create_pod(stack, token, pod_id)
    eventually(lambda: pod_status(stack, token, pod_id) == "AVAILABLE", 60, f"{pod_id} up")


def exec_body(argv: list[str], timeout: int) -> bytes:
    return json.dumps(
        {"commands": [argv], "command_timeout": timeout, "total_timeout": timeout}
    ).encode()


def exec_pod(
    stack: Stack, token: str, pod_id: str, argv: list[str], timeout: int
) -> tuple[int, Any]:
    status, _, data = stack.request(
        "POST", f"/v3/pods/{pod_id}/exec", exec_body(argv, timeout), token=token
    )
    return status, data


def exec_in_background(
    stack: Stack, token: str, pod_id: str, argv: list[str], timeout: int
) -> list[tuple[int, Any]]:
    """Starts the exec on a daemon thread; its (status, body) is appended to the list."""
    answers: list[tuple[int, Any]] = []

    def call() -> None:
        try:
            answers.append(exec_pod(stack, token, pod_id, argv, timeout))
        except OSError as exc:  # the stack went away at teardown
            answers.append((0, str(exc)))

    threading.Thread(target=call, daemon=True).start()
    return answers


def processes(stack: Stack, pod_id: str, command: str) -> int:
    """How many processes whose command line is exactly `command` run in the pod's container,
    as the host sees them (no `ps` needed in the image)."""
    containers = stack.containers(pod_id)
    if len(containers) != 1:
        return 0
    top = containers[0].top()
    column = top["Titles"].index("CMD")
    return sum(1 for row in top["Processes"] or [] if row[column] == command)


def wait_for_processes(stack: Stack, pod_id: str, command: str, count: int, timeout: float) -> None:
    eventually(
        lambda: processes(stack, pod_id, command) >= count,
        timeout,
        f"{count} x '{command}' running in {pod_id}",
    )


def wait_until_gone(stack: Stack, pod_id: str, command: str, timeout: float) -> None:
    eventually(
        lambda: processes(stack, pod_id, command) == 0, timeout, f"'{command}' gone in {pod_id}"
    )


def measure_until_available(stack: Stack, token: str, pod_id: str, deadline: float) -> float:
    """Seconds from create to AVAILABLE; AssertionError after `deadline` seconds."""
    started = time.monotonic()
    create_pod(stack, token, pod_id)
    eventually(
        lambda: pod_status(stack, token, pod_id) == "AVAILABLE", deadline, f"{pod_id} AVAILABLE"
    )
    return time.monotonic() - started

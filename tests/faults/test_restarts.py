"""Pods come back after their container dies, and permanent failures are not retried, through
the real stack (tests/e2e/harness.py) with short restart backoffs and a short drift grace.

- a container killed, removed or paused behind the service's back: the pod converges back to
  AVAILABLE with exactly one (new) container, its restart counted once;
- a container that keeps crashing is restarted while the pod is ON, each time a little later
  (exponential backoff, capped), with a restart count, its exit reason and one action_logs
  line per restart; stopping the pod ends the loop;
- an image that does not exist: ERROR with one action_logs line, not retried however many
  resyncs follow; a user's start tries once more. (A command that cannot be found is not a
  permanent failure here: the container's init starts, then exits with 127, a crash loop.)
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.harness import Stack, eventually, serve_stack
from tests.faults.pod_checks import action_logs, pod, resync_and_drain

pytestmark = [pytest.mark.docker, pytest.mark.stack]

FAULT_ENV = {
    "PODS_RESTART_BACKOFF": "1",
    "PODS_RESTART_BACKOFF_MAX": "4",
    "PODS_DRIFT_GRACE": "1",
}
GRACE = float(FAULT_ENV["PODS_DRIFT_GRACE"])
RESTART_LINE = re.compile(r"container exited with code 3; restart (\d+) in ([0-9.]+) s$")


@pytest.fixture(scope="module")
def restart_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from serve_stack(tmp_path_factory.mktemp("restarts"), FAULT_ENV)


def _converges_after(
    stack: Stack, pod_id: str, fault: Callable[[Any], None], reason_word: str
) -> None:
    token = stack.token()
    body = f'{{"pod_id": "{pod_id}", "image": "pods-http:latest"}}'.encode()
    status, _, created = stack.request("POST", "/v3/pods", body, token=token)
    assert status == 200, created
    eventually(lambda: pod(stack, token, pod_id)["status"] == "AVAILABLE", what=f"{pod_id} up")
    (before,) = stack.containers(pod_id)

    fault(before)

    def back() -> bool:
        containers = stack.containers(pod_id)
        current = pod(stack, token, pod_id)
        return (
            current["status"] == "AVAILABLE"
            and current.get("restart_count") == 1
            and len(containers) == 1
            and containers[0].id != before.id
            and containers[0].status == "running"
        )

    eventually(back, timeout=60, what=f"{pod_id} AVAILABLE again in a new container")
    resync_and_drain(stack)  # nothing left to do: still one container, counted once
    (after,) = stack.containers(pod_id)
    current = pod(stack, token, pod_id)
    assert after.id != before.id and after.status == "running"
    assert current["status"] == "AVAILABLE" and current["restart_count"] == 1, current
    assert reason_word in current["last_exit_reason"], current
    assert stack.request("DELETE", f"/v3/pods/{pod_id}", token=token)[0] == 200
    eventually(lambda: not stack.containers(pod_id), what=f"{pod_id} container removed")


def test_a_killed_container_is_replaced(restart_stack: Stack) -> None:
    _converges_after(restart_stack, "killedpod", lambda c: c.kill(), "137")


def test_a_removed_container_is_replaced(restart_stack: Stack) -> None:
    _converges_after(restart_stack, "removedpod", lambda c: c.remove(force=True), "")


def test_a_paused_container_is_replaced(restart_stack: Stack) -> None:
    _converges_after(restart_stack, "pausedpod", lambda c: c.pause(), "paused")


def test_a_crashing_container_is_restarted_with_growing_backoff(restart_stack: Stack) -> None:
    stack = restart_stack
    token = stack.token()
    body = json.dumps(
        {"pod_id": "crashloop", "image": "pods-http:latest", "command": ["sh", "-c", "exit 3"]}
    )
    status, _, created = stack.request("POST", "/v3/pods", body.encode(), token=token)
    assert status == 200, created

    eventually(
        lambda: pod(stack, token, "crashloop").get("restart_count", 0) >= 4,
        timeout=90,
        what="four restarts",
    )
    current = pod(stack, token, "crashloop")
    assert current["last_exit_reason"] == "container exited with code 3", current
    lines = [
        m for line in action_logs(stack, token, "crashloop") if (m := RESTART_LINE.search(line))
    ]
    numbers = [int(m[1]) for m in lines]
    delays = [float(m[2]) for m in lines]
    assert numbers[:5] == [1, 2, 3, 4, 5][: len(numbers[:5])], lines
    # backoff base 1 s, cap 4 s (tests/faults/conftest.py): at once, then 1, 2, 4, 4, ...
    assert delays[:4] == [0, 1, 2, 4], delays
    assert all(d <= 4 for d in delays), delays
    assert len(stack.containers("crashloop")) == 1

    assert stack.request("GET", "/v3/pods/crashloop/stop", token=token)[0] == 200
    eventually(
        lambda: pod(stack, token, "crashloop")["status"] == "STOPPED", what="crashloop stopped"
    )
    stopped_at = pod(stack, token, "crashloop")["restart_count"]
    eventually(lambda: not stack.containers("crashloop"), what="crashloop container removed")
    assert pod(stack, token, "crashloop")["restart_count"] == stopped_at
    assert stack.request("DELETE", "/v3/pods/crashloop", token=token)[0] == 200


def test_automatic_restarts_keep_the_run_s_time_limit(restart_stack: Stack) -> None:
    """A crash loop is still the run the user started: its time_to_stop_ts stands, and the
    pod is stopped when it passes (before the fix every restart pushed it back)."""
    stack = restart_stack
    token = stack.token()
    body = {
        "pod_id": "timedloop",
        "image": "pods-http:latest",
        "command": ["sh", "-c", "exit 3"],
        "time_to_stop_instance": 10,
    }
    started = time.monotonic()
    status, _, created = stack.request("POST", "/v3/pods", json.dumps(body).encode(), token=token)
    assert status == 200, created
    eventually(
        lambda: pod(stack, token, "timedloop").get("restart_count", 0) >= 2,
        timeout=30,
        what="timedloop restarting",
    )
    first_limit = pod(stack, token, "timedloop")["time_to_stop_ts"]
    eventually(
        lambda: pod(stack, token, "timedloop")["status_requested"] == "OFF",
        timeout=40,
        what="timedloop stopped by its time limit",
    )
    assert time.monotonic() - started < 40
    current = pod(stack, token, "timedloop")
    assert current["restart_count"] >= 2, current
    assert any("time_to_stop reached" in line for line in action_logs(stack, token, "timedloop"))
    assert first_limit, current
    eventually(lambda: not stack.containers("timedloop"), what="timedloop container removed")
    assert stack.request("DELETE", "/v3/pods/timedloop", token=token)[0] == 200


@pytest.fixture(scope="module")
def late_record_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The spawner is killed once between making a container and recording it; its command
    comes back 8 s later (after health's sweep on the reopened event stream), and no stuck
    pod is asked for again meanwhile."""
    env = {
        **FAULT_ENV,
        "PODS_FAILPOINTS": "spawner-after-ensure",
        "PODS_ACK_WAIT": "8",
        "PODS_DRIFT_GRACE": "30",
    }
    yield from serve_stack(tmp_path_factory.mktemp("laterecord"), env)


def test_a_crash_loop_goes_on_when_its_run_is_recorded_after_the_container_ended(
    late_record_stack: Stack,
) -> None:
    """The first container exits at once while the spawner that made it is down; the
    restarted spawner adopts it and records its run. No runtime event follows that record,
    yet the run's end counts and the loop goes on at the backoff's pace (before the fix it
    waited for health's full sweep, a minute)."""
    stack = late_record_stack
    token = stack.token()
    pid = stack.pid_of("spawner")
    body = {"pod_id": "lateloop", "image": "pods-http:latest", "command": ["sh", "-c", "exit 3"]}
    status, _, created = stack.request("POST", "/v3/pods", json.dumps(body).encode(), token=token)
    assert status == 200, created
    eventually(lambda: stack.pid_of("spawner") != pid, timeout=30, what="the spawner restarted")
    eventually(
        lambda: pod(stack, token, "lateloop").get("restart_count", 0) >= 2,
        timeout=25,
        what="lateloop restarting",
    )
    assert stack.request("DELETE", "/v3/pods/lateloop", token=token)[0] == 200
    eventually(lambda: not stack.containers("lateloop"), what="lateloop container removed")


def _error_lines(stack: Stack, token: str, pod_id: str) -> list[str]:
    return [line for line in action_logs(stack, token, pod_id) if ": error: " in line]


def _quiet_for(stack: Stack, seconds: float) -> None:
    """Resyncs (each one publishing whatever health finds stuck) and lets the spawner handle
    it, until `seconds` (several drift graces) have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        resync_and_drain(stack)


def test_a_missing_image_is_recorded_once_and_not_retried(restart_stack: Stack) -> None:
    stack = restart_stack
    token = stack.token()
    pod_id, named = "ghostpod", "ghost-image:never"
    body = json.dumps({"pod_id": pod_id, "image": named}).encode()
    assert stack.request("POST", "/v3/pods", body, token=token)[0] == 200
    eventually(lambda: pod(stack, token, pod_id)["status"] == "ERROR", what=f"{pod_id} ERROR")

    _quiet_for(stack, 4 * GRACE + 2)
    errors = _error_lines(stack, token, pod_id)
    assert len(errors) == 1, errors
    assert named in errors[0]
    current = pod(stack, token, pod_id)
    assert current["status"] == "ERROR", current
    assert current["observed_generation"] == current["generation"], current
    assert current["restart_count"] == 0, current

    # a user's start is a change: tried once more, failing the same way, once
    assert stack.request("GET", f"/v3/pods/{pod_id}/start", token=token)[0] == 200
    eventually(lambda: len(_error_lines(stack, token, pod_id)) == 2, what="a second attempt")
    _quiet_for(stack, 4 * GRACE + 2)
    assert len(_error_lines(stack, token, pod_id)) == 2, _error_lines(stack, token, pod_id)
    assert pod(stack, token, pod_id)["status"] == "ERROR"
    assert stack.request("DELETE", f"/v3/pods/{pod_id}", token=token)[0] == 200

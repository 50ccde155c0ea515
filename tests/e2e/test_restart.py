"""Ctrl-C stops the stack but not the pods; the next start picks them up as they are."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tapipy.tapis import Tapis

from tests.e2e.harness import interrupt, launch, start_stack, stop_stack

pytestmark = [pytest.mark.docker, pytest.mark.stack]


def wait_available(t: Tapis, pod_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while t.pods.get_pod(pod_id=pod_id).status != "AVAILABLE":
        assert time.monotonic() < deadline, f"{pod_id} never became AVAILABLE"
        time.sleep(0.2)


def test_a_second_start_adopts_the_pods_still_running(tmp_path: Path, database: str) -> None:
    stack = start_stack(tmp_path, database=database)
    try:
        t = Tapis(base_url=stack.url, username="testuser", password="testpass")
        t.get_tokens()
        t.pods.create_pod(pod_id="keeppod", image="pods-http:latest")
        wait_available(t, "keeppod")
        (before,) = stack.containers("keeppod")

        interrupt(stack)
        (during,) = stack.containers("keeppod")
        assert during.id == before.id and during.status == "running"

        stack = launch(stack.env, tmp_path)
        t = Tapis(base_url=stack.url, username="testuser", password="testpass")
        t.get_tokens()
        wait_available(t, "keeppod")
        time.sleep(2)  # a resync or two
        (after,) = stack.containers("keeppod")
        assert after.id == before.id
        assert t.pods.get_pod(pod_id="keeppod").status == "AVAILABLE"
    finally:
        stop_stack(stack)

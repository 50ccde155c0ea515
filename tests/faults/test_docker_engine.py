"""The Docker engine stopped and started with pods running, through the whole stack pointed
at a private engine (DOCKER_HOST), never the machine's shared one.

With live-restore the pod's container keeps running while the engine is down (its published
port, served by the engine's docker-proxy, answers again when the engine is back); the spawner and
health report NOT_SERVING (the runtime check) while the API keeps answering from the database;
a pod created during the outage waits (its command is not lost) and is started exactly once
when the engine is back; the running pod keeps its one container and stays AVAILABLE."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_POD
from tests.e2e.harness import Stack, eventually, start_stack, stop_stack
from tests.faults.private_docker import PrivateDockerd
from tests.faults.probes import grpc_health, service_port

pytestmark = [pytest.mark.faults, pytest.mark.docker, pytest.mark.stack]


@pytest.fixture
def engine_stack(private_dockerd: PrivateDockerd, tmp_path: Path) -> Iterator[Stack]:
    private_dockerd.start()
    private_dockerd.load_image("pods-http:latest")
    stack = start_stack(tmp_path, {"DOCKER_HOST": private_dockerd.host})
    try:
        yield stack
    finally:
        stop_stack(stack)  # its containers are removed with the private engine


def containers(engine: PrivateDockerd, stack: Stack, pod_id: str) -> list[Any]:
    client = engine.client()
    try:
        labels = [f"{LABEL_DEPLOYMENT}={stack.deployment_id}", f"{LABEL_POD}={pod_id}"]
        return list(client.containers.list(all=True, filters={"label": labels}))
    finally:
        client.close()


def status_of(stack: Stack, token: str, pod_id: str) -> str:
    code, _, data = stack.request("GET", f"/v3/pods/{pod_id}", token=token)
    assert code == 200, data
    assert isinstance(data, dict)
    return str(data["result"]["status"])


def create(stack: Stack, token: str, pod_id: str) -> None:
    body = json.dumps({"pod_id": pod_id, "image": "pods-http:latest"}).encode()
    code, _, data = stack.request("POST", "/v3/pods", body, token=token)
    assert code == 200, data


def test_engine_stopped_and_started_with_live_restore_keeps_pods_and_loses_no_command(
    engine_stack: Stack, private_dockerd: PrivateDockerd
) -> None:
    stack, engine = engine_stack, private_dockerd
    token = stack.token()
    create(stack, token, "running")
    eventually(lambda: status_of(stack, token, "running") == "AVAILABLE", 90, "running AVAILABLE")
    [before] = containers(engine, stack, "running")

    engine.stop()
    assert not engine.answers()
    for name in ("spawner", "health"):

        def not_serving(name: str = name) -> bool:
            return grpc_health(service_port(stack, name)) == "NOT_SERVING"

        eventually(not_serving, 20, f"{name} NOT_SERVING while the engine is down")
    assert grpc_health(service_port(stack, "api")) == "SERVING"  # the API needs no engine
    create(stack, token, "waiting")  # accepted: desired state is in the database
    # Published ports go through docker-proxy, a child of the engine: while it is down the pod
    # runs but does not answer, so health may report it not ready. The API still reads it.
    assert status_of(stack, token, "running") in {"AVAILABLE", "CREATING"}

    engine.start()
    back = time.monotonic()
    for name in ("spawner", "health"):

        def serving(name: str = name) -> bool:
            return grpc_health(service_port(stack, name)) == "SERVING"

        eventually(serving, 30, f"{name} SERVING again")
    eventually(lambda: status_of(stack, token, "waiting") == "AVAILABLE", 90, "waiting AVAILABLE")
    print(f"pod created during the outage AVAILABLE {time.monotonic() - back:.1f}s after")
    eventually(lambda: status_of(stack, token, "running") == "AVAILABLE", 30, "running again")
    print(f"the running pod AVAILABLE again {time.monotonic() - back:.1f}s after the engine")
    [after] = containers(engine, stack, "running")
    assert after.id == before.id, "the running pod's container was replaced"
    after.reload()
    assert after.status == "running"
    assert after.attrs["RestartCount"] == 0
    assert status_of(stack, token, "running") == "AVAILABLE"
    assert len(containers(engine, stack, "waiting")) == 1
    code, _, data = stack.request("GET", "/v3/pods/waiting/logs", token=token)
    assert code == 200 and isinstance(data, dict)
    actions = data["result"]["action_logs"]
    assert sum("status AVAILABLE" in line for line in actions) == 1, actions

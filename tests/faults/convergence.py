"""Driving pods through the gateway while processes die, and checking that they converge:
each pod ends in the state last asked for, with exactly the containers that state needs, and
nothing more appears after the system has been told to re-check everything."""

from __future__ import annotations

import functools
import json
import time
from typing import Any

import grpc

from services.common.generated.pods.v1 import health_service_pb2 as health_pb
from services.common.generated.pods.v1 import health_service_pb2_grpc as health_grpc
from services.common.generated.pods.v1 import spawner_service_pb2 as spawner_pb
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as spawner_grpc
from tests.e2e.harness import Stack, eventually
from tests.faults.probes import service_port

TENANT = "dev"
# What each operation leaves the pod as: (status, containers); None = the pod is gone.
FINAL: dict[str, tuple[str, int] | None] = {
    "create": ("AVAILABLE", 1),
    "update": ("AVAILABLE", 1),
    "start": ("AVAILABLE", 1),
    "restart": ("AVAILABLE", 1),
    "stop": ("STOPPED", 0),
    "delete": None,
}


def call(stack: Stack, token: str, operation: str, pod_id: str, attempt: int = 0) -> int:
    """One operation through the REST gateway; the HTTP status."""
    if operation == "create":
        body = json.dumps({"pod_id": pod_id, "image": "pods-http:latest"}).encode()
        return stack.request("POST", "/v3/pods", body, token=token)[0]
    if operation == "delete":
        return stack.request("DELETE", f"/v3/pods/{pod_id}", token=token)[0]
    if operation == "update":
        body = json.dumps({"environment_variables": {"POD_MESSAGE": f"v{attempt}"}}).encode()
        return stack.request("PUT", f"/v3/pods/{pod_id}", body, token=token)[0]
    return stack.request("GET", f"/v3/pods/{pod_id}/{operation}", token=token)[0]


def call_until_answered(
    stack: Stack, token: str, operation: str, pod_id: str, timeout: float = 60
) -> int:
    """Repeats `operation` while the API is away (Envoy's 502/503, a reset): a client's retry.
    A retried create that finds its pod (409) or a delete that finds it gone (404) succeeded."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        try:
            status = call(stack, token, operation, pod_id, attempt)
        except OSError:  # the connection was reset while the API died
            status = 0
        if status == 200 or (attempt and (operation, status) in {("create", 409), ("delete", 404)}):
            return 200
        if status not in (0, 502, 503, 504) or time.monotonic() > deadline:
            return status
        attempt += 1
        time.sleep(0.3)


def pod(stack: Stack, token: str, pod_id: str) -> dict[str, Any] | None:
    try:
        status, _, data = stack.request("GET", f"/v3/pods/{pod_id}", token=token)
    except OSError:
        return {}
    if status == 404:
        return None
    if status != 200 or not isinstance(data, dict):
        return {}  # unknown just now (the API is restarting)
    result = data["result"]
    assert isinstance(result, dict)
    return result


def nudge(stack: Stack, pod_ids: list[str]) -> None:
    """Makes health resync every pod and the spawner reconcile each one now, so that any work
    still pending would show itself before the final count."""
    with grpc.insecure_channel(f"127.0.0.1:{service_port(stack, 'health')}") as channel:
        health_grpc.HealthServiceStub(channel).Resync(health_pb.ResyncRequest(), timeout=60)
    with grpc.insecure_channel(f"127.0.0.1:{service_port(stack, 'spawner')}") as channel:
        stub = spawner_grpc.SpawnerServiceStub(channel)
        for pod_id in pod_ids:
            stub.ReconcilePod(
                spawner_pb.ReconcilePodRequest(tenant_id=TENANT, pod_id=pod_id), timeout=60
            )


def assert_converged(
    stack: Stack, token: str, wanted: dict[str, str], timeout: float = 120
) -> None:
    """Every pod reaches the state of the last operation asked of it (`wanted`: pod id →
    operation), applied (observed generation = generation, not reconciling), with exactly as
    many containers as that state needs; then health resyncs and the spawner reconciles every
    pod once more, and nothing may change: no container is created, replaced or removed."""

    def settled(pod_id: str) -> bool:
        final = FINAL[wanted[pod_id]]
        found = pod(stack, token, pod_id)
        count = len(stack.containers(pod_id))
        if final is None:
            return found is None and count == 0
        return (
            found is not None
            and found.get("status") == final[0]
            and found.get("generation") == found.get("observed_generation")
            and not found.get("reconciling")
            and count == final[1]
        )

    for pod_id in sorted(wanted):
        try:
            eventually(functools.partial(settled, pod_id), timeout, f"{pod_id} settled")
        except AssertionError as error:
            states = [(c.short_id, c.status) for c in stack.containers(pod_id)]
            found = pod(stack, token, pod_id)
            raise AssertionError(f"{error}: asked {wanted[pod_id]}, containers {states}, "
                                 f"pod {found}") from None  # fmt: skip
    before = {pod_id: container_ids(stack, pod_id) for pod_id in wanted}
    eventually(lambda: _nudged(stack, list(wanted)), 60, "health and spawner to answer")
    for pod_id in sorted(wanted):
        assert container_ids(stack, pod_id) == before[pod_id], f"{pod_id} changed after a nudge"
        assert settled(pod_id), (pod_id, pod(stack, token, pod_id))


def container_ids(stack: Stack, pod_id: str) -> set[str]:
    return {c.id for c in stack.containers(pod_id)}


def _nudged(stack: Stack, pod_ids: list[str]) -> bool:
    try:
        nudge(stack, pod_ids)
    except grpc.RpcError:
        return False  # a process is restarting
    return True


def action_count(stack: Stack, token: str, pod_id: str, text: str) -> int:
    status, _, data = stack.request("GET", f"/v3/pods/{pod_id}/logs", token=token)
    assert status == 200 and isinstance(data, dict), data
    return sum(text in line for line in data["result"]["action_logs"])


def failpoint_env(points: list[str]) -> dict[str, str]:
    """Stack settings for the failpoint scenarios: the points armed, unacked commands back
    after 3 s, stuck pods republished by health after 3 s."""
    return {
        "PODS_FAILPOINTS": ",".join(points),
        "PODS_ACK_WAIT": "3",
        "PODS_DRIFT_GRACE": "3",
    }


def fired(stack: Stack, point: str) -> bool:
    return (stack.data_dir / f"failpoint-{point}.fired").exists()


def restarted(stack: Stack, name: str, old_pid: int) -> bool:
    try:
        return stack.pid_of(name) != old_pid
    except (FileNotFoundError, ValueError):
        return False

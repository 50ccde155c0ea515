"""PostgreSQL stopped and started under load, through the whole stack as `scripts/up` runs it
(pointed at a private cluster, never the machine's shared server).

While the database is down every call answers 503 naming the database (never 500) and the
gRPC health of the api, spawner and health processes is NOT_SERVING; once it is back they
recover by themselves (no restart), and every pod that exists is complete: it has its owner's
grant, reaches AVAILABLE and has exactly one container."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.e2e.harness import Stack, eventually, start_stack, stop_stack
from tests.faults.private_postgres import PrivatePostgres
from tests.faults.probes import Load, grpc_health, service_port

pytestmark = [pytest.mark.faults, pytest.mark.docker, pytest.mark.stack]
PROCESSES = ("api", "spawner", "health")


@pytest.fixture
def pg_stack(private_pg: PrivatePostgres, tmp_path: Path) -> Iterator[Stack]:
    stack = start_stack(tmp_path, {"PODS_DATABASE_URL": private_pg.url})
    try:
        yield stack
    finally:
        stop_stack(stack)


def _serving(port: int) -> bool:
    return grpc_health(port) == "SERVING"


def _pod(stack: Stack, token: str, pod_id: str) -> dict[str, object] | None:
    status, _, data = stack.request("GET", f"/v3/pods/{pod_id}", token=token)
    if status != 200 or not isinstance(data, dict):
        return None
    result = data["result"]
    assert isinstance(result, dict)
    return result


def test_postgres_outage_under_load_is_503_then_recovers_with_whole_rows(
    pg_stack: Stack, private_pg: PrivatePostgres
) -> None:
    stack = pg_stack
    token = stack.token()
    body = b'{"pod_id": "steady", "image": "pods-http:latest"}'
    assert stack.request("POST", "/v3/pods", body, token=token)[0] == 200
    eventually(
        lambda: (_pod(stack, token, "steady") or {}).get("status") == "AVAILABLE",
        what="steady AVAILABLE",
    )
    pids = {name: stack.pid_of(name) for name in PROCESSES}
    for name in PROCESSES:
        # Health reports the spawner among its dependencies, re-checked every 2 s: right after
        # start-up it may still show the spawner's first, refused connection.
        eventually(partial(_serving, service_port(stack, name)), 10, f"{name} SERVING")

    load = Load(stack, token, read_pod="steady")
    load.start()
    try:
        eventually(lambda: load.statuses()[200] >= 5, 30, "answers before the outage")
        private_pg.stop()
        stopped = time.monotonic()
        eventually(lambda: len(load.since(stopped)) >= 4, 30, "answers while it is down")
        last = load.since(stopped)[-1]
        assert last.status == 503, last
        assert "database is unavailable" in last.message, last
        for name in PROCESSES:

            def not_serving(name: str = name) -> bool:
                return grpc_health(service_port(stack, name)) == "NOT_SERVING"

            eventually(not_serving, 20, f"{name} NOT_SERVING")
            assert grpc_health(service_port(stack, name), "liveness") == "SERVING", name
        down_for = time.monotonic()
        eventually(lambda: len(load.since(down_for)) >= 5, 30, "answers during the outage")

        private_pg.start()
        restarted = time.monotonic()
        eventually(lambda: load.since(restarted) and load.since(restarted)[-1].status == 200,
                   60, "200 after the database is back")  # fmt: skip
        recovered = load.since(restarted)
        first_ok = next(a.at for a in recovered if a.status == 200)
        print(f"api answered 200 again {first_ok - restarted:.1f}s after PostgreSQL started")
        for name in PROCESSES:

            def serving(name: str = name) -> bool:
                return grpc_health(service_port(stack, name)) == "SERVING"

            eventually(serving, 20, f"{name} SERVING again")
        eventually(lambda: len(load.since(first_ok)) >= 5, 30, "answers after recovery")
    finally:
        load.stop()

    statuses = load.statuses()
    assert set(statuses) <= {200, 503}, statuses  # never a 500
    unavailable = [a for a in load.answers if a.status == 503]
    assert unavailable, "no call failed: the database was never seen down"
    for answer in unavailable:
        assert "database is unavailable" in answer.message, answer
        assert "try again" in answer.message, answer
    assert {name: stack.pid_of(name) for name in PROCESSES} == pids, "a process was restarted"

    # No lost and no half-written rows: every create that answered 200 is there, and every pod
    # that exists is whole (readable by its owner, AVAILABLE, exactly one container).
    status, _, data = stack.request("GET", "/v3/pods", token=token)
    assert status == 200 and isinstance(data, dict)
    listed = {p["pod_id"] for p in data["result"]}
    assert set(load.created) <= listed, set(load.created) - listed
    assert listed <= {"steady", *load.attempted}, listed
    for pod_id in sorted(listed):

        def available(pod_id: str = pod_id) -> bool:
            return (_pod(stack, token, pod_id) or {}).get("status") == "AVAILABLE"

        eventually(available, 120, f"{pod_id} AVAILABLE")
        assert len(stack.containers(pod_id)) == 1, pod_id

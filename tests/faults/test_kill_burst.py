"""A burst of 30 mixed operations (create, update, stop, start, restart, delete) on a few
pods while a killer SIGKILLs a random process of the stack (api, spawner, health, pod
router, nats-server) at random moments. The client retries what the gateway could not
answer, as a client would. Afterwards every pod converges to the state last asked of it,
with exactly the containers that state needs and none for deleted pods. The random choices
come from one seed, printed, so a failing run can be replayed (PODS_FAULTS_SEED)."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from services.common.runtime.types import LABEL_POD
from tests.e2e.harness import Stack, eventually, start_stack, stop_stack
from tests.faults.convergence import assert_converged, call_until_answered, failpoint_env, pod

pytestmark = [pytest.mark.faults, pytest.mark.docker, pytest.mark.stack]
PROCESSES = ["api", "spawner", "health", "router", "nats"]
OPERATIONS = 30
PODS = [f"burst{n}" for n in range(5)]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("burst"), failpoint_env([]))
    try:
        yield running
    finally:
        stop_stack(running)


def next_operation(rng: random.Random, state: str | None) -> str:
    """An operation that is valid for a pod last asked to be `state` (None: absent)."""
    if state is None or state == "delete":
        return "create"
    if state == "stop":
        return rng.choice(["start", "delete", "update"])
    return rng.choice(["update", "stop", "restart", "delete", "update"])


def killer(stack: Stack, rng: random.Random, stop: threading.Event, kills: list[str]) -> None:
    while not stop.wait(rng.uniform(1.5, 4.0)):
        name = rng.choice(PROCESSES)
        try:
            os.kill(stack.pid_of(name), signal.SIGKILL)
            kills.append(name)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            pass  # it is being restarted just now


def test_thirty_mixed_operations_under_random_sigkills_converge(stack: Stack) -> None:
    seed = int(os.environ.get("PODS_FAULTS_SEED", random.randrange(1 << 30)))
    print(f"seed {seed}")
    rng = random.Random(seed)
    token = stack.token()
    wanted: dict[str, str] = {}
    kills: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=killer, args=(stack, random.Random(seed + 1), stop, kills))
    thread.start()
    started = time.monotonic()
    try:
        for _ in range(OPERATIONS):
            pod_id = rng.choice(PODS)
            operation = next_operation(rng, wanted.get(pod_id))
            if wanted.get(pod_id) == "delete":  # its id is free once the deletion is done

                def gone(pod_id: str = pod_id) -> bool:
                    return pod(stack, token, pod_id) is None

                eventually(gone, 120, pod_id)
            status = call_until_answered(stack, token, operation, pod_id, timeout=90)
            assert status == 200, (seed, pod_id, operation, status)
            if not (operation == "update" and wanted.get(pod_id) == "stop"):
                wanted[pod_id] = operation  # an update leaves a stopped pod stopped
            time.sleep(rng.uniform(0.2, 1.0))  # pacing: the burst spans several kills
    finally:
        stop.set()
        thread.join()
    print(f"{OPERATIONS} operations in {time.monotonic() - started:.0f}s; killed {kills}")
    assert kills, "nothing was killed"
    assert_converged(stack, token, wanted, timeout=180)
    owners = {c.labels.get(LABEL_POD) for c in stack.containers()}
    alive = {p for p, op in wanted.items() if op not in ("delete", "stop")}
    assert owners == alive, (seed, owners, wanted)

"""Create → AVAILABLE: how much slower is a pod from this service than a bare `docker run`?

Measures, alternating in one run (after one warm-up of each):

(a) baseline: `docker run -d --init -p 127.0.0.1::5000 pods-http:latest` through the Docker
    SDK, then an HTTP GET on the published port every 10 ms until one answers 200. Time from
    just before the run call to the first 200 (it includes reading the published port back).
    The container is then removed.
(b) ours: POST /v3/pods through the REST gateway (Envoy) of a local stack, then
    GET /v3/pods/{id} every 10 ms (keep-alive connection) until status is AVAILABLE
    (`--wait poll`, the default), or reads the pod's event stream (SSE
    `GET /v3/pods/{id}/events`, opened right after the POST answers) until an event says
    AVAILABLE (`--wait watch`); `--wait both` alternates the two in each run. Time from
    just before the POST to the first AVAILABLE. The pod is then deleted and the run waits
    until its container is gone.

Prints per-run times, median and p90 of each, the ratio of medians (ours / baseline), the
machine, the load average at the start and the end, and the median of each phase, from the
engine's and the service's own timestamps (wall clock, the same machine):

  baseline: run call → container Created → StartedAt → client sees 200
  ours:     POST → POST answered (client) → pod row created (creation_ts) → the pod's network
            Created (when it was made during the create, not ahead) → container Created →
            StartedAt → AVAILABLE recorded (update_ts) → client sees it

Usage: python bench/create_to_available.py [--runs N] [--wait poll|watch|both]
    [--stack-env NAME=VALUE ...] [--compare-env NAME=VALUE ...]
(--compare-env runs a second stack with other settings, alternating with the first in the same
runs: e.g. `--compare-env PODS_DOCKER_NETWORK_POOL=0` measures the warm networks against a
network made per create under the same load.)
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import docker
from _common import (
    RestClient,
    Stack,
    gateway_port,
    http_ok,
    machine,
    percentile,
    running_stack,
    summary,
)

IMAGE = "pods-http:latest"
POLL = 0.01  # seconds between polls, both sides
TIMEOUT = 180.0  # generous: the machine may be shared


def wall_seconds(iso: str) -> float:
    """Unix time of an RFC 3339 UTC timestamp with up to nanosecond precision."""
    head, _, frac = iso.rstrip("Z").partition(".")
    stamp = datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp()
    return stamp + float(f"0.{frac or 0}")


@dataclass
class Sample:
    total: float  # seconds from the create call to the client seeing the pod serve
    to_started: float  # seconds from the create call to the container's State.StartedAt
    to_created: float  # seconds from the create call to the container's Created
    to_recorded: float = 0.0  # ours: to AVAILABLE being recorded (update_ts)
    to_answered: float = 0.0  # ours: to the POST's answer reaching the client
    to_row: float = 0.0  # ours: to the pod's creation_ts (the api's clock when it wrote it)
    to_network: float = 0.0  # ours: to the pod network's Created


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def baseline_once(client: docker.DockerClient) -> Sample:
    """`docker run` to the first 200 on the published port."""
    wall = time.time()
    start = time.perf_counter()
    container: Any = client.containers.run(
        IMAGE, detach=True, init=True, ports={"5000/tcp": ("127.0.0.1", None)}
    )
    try:
        container.reload()
        port = int(container.ports["5000/tcp"][0]["HostPort"])
        while not http_ok(port):
            if time.perf_counter() - start > TIMEOUT:
                raise TimeoutError("baseline container never answered")
            time.sleep(POLL)
        total = time.perf_counter() - start
        started = wall_seconds(container.attrs["State"]["StartedAt"])
        return Sample(total, started - wall, wall_seconds(container.attrs["Created"]) - wall)
    finally:
        container.remove(force=True)


def poll_available(gateway: RestClient, pod_id: str, start: float) -> dict[str, Any]:
    """GET the pod every POLL seconds until it is AVAILABLE; the pod."""
    while True:
        pod: dict[str, Any] = gateway.call("GET", f"/v3/pods/{pod_id}")["result"]
        if pod["status"] == "AVAILABLE":
            return pod
        if pod["status"] in ("ERROR", "COMPLETE") or time.perf_counter() - start > TIMEOUT:
            raise RuntimeError(f"pod {pod_id} ended {pod['status']}: {pod.get('status_container')}")
        time.sleep(POLL)


def watch_available(stack: Stack, token: str, pod_id: str, start: float) -> dict[str, Any]:
    """Read the pod's event stream (SSE) until an event says AVAILABLE; that event's pod."""
    conn = http.client.HTTPConnection("127.0.0.1", gateway_port(stack), timeout=TIMEOUT)
    headers = {"X-Tapis-Token": token, "Accept": "text/event-stream"}
    try:
        conn.request("GET", f"/v3/pods/{pod_id}/events", headers=headers)
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"events of {pod_id}: {response.status} {response.read()!r}")
        data = ""
        while True:
            line = response.readline().decode()
            if not line:
                raise RuntimeError(f"the event stream of {pod_id} ended")
            if line.startswith("data: "):
                data = line[len("data: ") :].strip()
            elif line == "\n" and data:
                pod: dict[str, Any] = json.loads(data)
                data = ""
                if pod.get("status") == "AVAILABLE":
                    return pod
                if pod.get("status") in ("ERROR", "COMPLETE"):
                    raise RuntimeError(f"pod {pod_id} ended {pod['status']}")
            if time.perf_counter() - start > TIMEOUT:
                raise TimeoutError(f"pod {pod_id} not AVAILABLE")
    finally:
        conn.close()


def ours_once(stack: Stack, gateway: RestClient, wait: str, token: str) -> Sample:
    """POST /v3/pods to the client seeing AVAILABLE (polling GetPod or reading the event
    stream); then deletes the pod and waits until its container is gone."""
    pod_id = f"bench{uuid.uuid4().hex[:10]}"
    wall = time.time()
    start = time.perf_counter()
    created = gateway.call("POST", "/v3/pods", {"pod_id": pod_id, "image": IMAGE})["result"]
    answered = time.perf_counter() - start
    if wait == "watch":
        watch_available(stack, token, pod_id, start)
        total = time.perf_counter() - start
        pod = gateway.call("GET", f"/v3/pods/{pod_id}")["result"]  # the event has no timestamps
    else:
        pod = poll_available(gateway, pod_id, start)
        total = time.perf_counter() - start
    container: Any = stack.containers(pod_id)[0]
    networks = list(container.attrs["NetworkSettings"]["Networks"])
    client = docker.from_env()
    try:
        network_created = wall_seconds(client.api.inspect_network(networks[0])["Created"])
    finally:
        client.close()
    sample = Sample(
        total,
        wall_seconds(pod["start_instance_ts"]) - wall,
        wall_seconds(container.attrs["Created"]) - wall,
        wall_seconds(pod["update_ts"]) - wall,
        answered,
        wall_seconds(created["creation_ts"]) - wall,
        network_created - wall,
    )
    gateway.call("DELETE", f"/v3/pods/{pod_id}")
    deadline = time.monotonic() + TIMEOUT
    while stack.containers(pod_id):
        if time.monotonic() > deadline:
            raise TimeoutError(f"container of {pod_id} not removed")
        time.sleep(0.05)
    return sample


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--wait", choices=("poll", "watch", "both"), default="poll")
    parser.add_argument(
        "--stack-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the stack (repeatable), e.g. PODS_DOCKER_NETWORK_POOL=0",
    )
    parser.add_argument(
        "--compare-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="also run a second stack with these settings, its creates alternating with the "
        "first's in the same runs (an A/B under the same load)",
    )
    args = parser.parse_args()
    runs, wait = args.runs, args.wait
    envs = [dict(e.split("=", 1) for e in args.stack_env)]
    if args.compare_env:
        envs.append({**envs[0], **dict(e.split("=", 1) for e in args.compare_env)})

    print(f"machine: {machine()}")
    print(f"load average at start: {load()}   client waits by: {wait}")
    client = docker.from_env()
    baseline: list[Sample] = []
    modes = ["poll", "watch"] if wait == "both" else [wait]
    ours: list[list[Sample]] = [[] for _ in envs for _ in modes]
    try:
        with contextlib.ExitStack() as exits:
            stacks = [exits.enter_context(running_stack(env)) for env in envs]
            gateways = [RestClient(stack) for stack in stacks]
            for gateway in gateways:
                exits.callback(gateway.close)
            tokens = [stack.token() for stack in stacks]
            stack_sides = list(zip(stacks, gateways, tokens, strict=True))
            sides = [(*side, mode) for side in stack_sides for mode in modes]
            baseline_once(client)
            for stack, gateway, token, mode in sides:
                ours_once(stack, gateway, mode, token)  # warm-ups, not counted
            for run in range(1, runs + 1):
                baseline.append(baseline_once(client))
                line = f"run {run:2d}: docker run {ms(baseline[-1].total)}"
                for (stack, gateway, token, mode), samples in zip(sides, ours, strict=True):
                    samples.append(ours_once(stack, gateway, mode, token))
                    o = samples[-1]
                    line += (
                        f"   pods {ms(o.total)} (started at {ms(o.to_started)},"
                        f" recorded at {ms(o.to_recorded)})"
                    )
                print(line, flush=True)
    finally:
        client.close()
    print(f"load average at end: {load()}")
    labels = [(env, mode) for env in envs for mode in modes]
    for (env, mode), samples in zip(labels, ours, strict=True):
        print(f"== stack settings: {env or 'defaults'}; client waits by: {mode}")
        report(baseline, samples)


def report(baseline: list[Sample], ours: list[Sample]) -> None:
    def median(values: list[float]) -> str:
        return ms(percentile(values, 50))

    print(f"docker run → 200    : {summary([s.total for s in baseline])}")
    print(f"POST → AVAILABLE    : {summary([s.total for s in ours])}")
    ratio = percentile([s.total for s in ours], 50) / percentile([s.total for s in baseline], 50)
    print(f"ratio of medians (ours / baseline): {ratio:.2f}  (target ≤ 1.15)")
    print("medians of phases (engine and service timestamps; each phase its own median):")
    print(
        f"  baseline: run → container Created {median([s.to_created for s in baseline])}"
        f"   Created → StartedAt {median([s.to_started - s.to_created for s in baseline])}"
        f"   StartedAt → client sees 200 {median([s.total - s.to_started for s in baseline])}"
    )
    print(
        f"  ours    : POST → answered {median([s.to_answered for s in ours])}"
        f"   POST → pod row {median([s.to_row for s in ours])}"
        f"   pod row → container Created {median([s.to_created - s.to_row for s in ours])}"
    )
    made = [s for s in ours if s.to_network > 0]  # else a warm network, made before the POST
    if made:
        print(
            f"            network made during the create in {len(made)} of {len(ours)} runs:"
            f" pod row → network Created {median([s.to_network - s.to_row for s in made])}"
            f"   network → container Created {median([s.to_created - s.to_network for s in made])}"
        )
    else:
        print(f"            network made during the create in 0 of {len(ours)} runs (warm)")
    print(
        f"            container Created → StartedAt "
        f"{median([s.to_started - s.to_created for s in ours])}"
        f"   StartedAt → AVAILABLE recorded {median([s.to_recorded - s.to_started for s in ours])}"
        f"   recorded → client sees it {median([s.total - s.to_recorded for s in ours])}"
    )
    print(
        f"  to StartedAt: baseline {median([s.to_started for s in baseline])}"
        f"   ours {median([s.to_started for s in ours])}"
    )


if __name__ == "__main__":
    main()

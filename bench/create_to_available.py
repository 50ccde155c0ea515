"""Create → AVAILABLE: how much slower is a pod from this service than a bare `docker run`?

Measures, alternating in one run (after one warm-up of each):

(a) baseline: `docker run -d --init -p 127.0.0.1::5000 pods-http:latest` through the Docker
    SDK, then an HTTP GET on the published port every 10 ms until one answers 200. Time from
    just before the run call to the first 200 (it includes reading the published port back).
    The container is then removed.
(b) ours: POST /v3/pods through the REST gateway (Envoy) of a local stack, then
    GET /v3/pods/{id} every 10 ms (keep-alive connection) until status is AVAILABLE. Time
    from just before the POST to the first AVAILABLE. The pod is then deleted and the run
    waits until its container is gone.

Prints per-run times, median and p90 of each, the ratio of medians (ours / baseline) and the
machine. Usage: python bench/create_to_available.py [--runs N]
"""

from __future__ import annotations

import argparse
import http.client
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import docker
from _common import RestClient, Stack, machine, percentile, running_stack, summary

IMAGE = "pods-http:latest"
POLL = 0.01  # seconds between polls, both sides
TIMEOUT = 60.0


def wall_seconds(iso: str) -> float:
    """Unix time of an RFC 3339 UTC timestamp with up to nanosecond precision."""
    head, _, frac = iso.rstrip("Z").partition(".")
    stamp = datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp()
    return stamp + float(f"0.{frac or 0}")


@dataclass
class Sample:
    total: float  # seconds from the create call to the client seeing the pod serve
    to_started: float  # seconds from the create call to the container's State.StartedAt
    to_recorded: float | None = None  # ours: to AVAILABLE being recorded (update_ts)


def _http_ok(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


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
        while not _http_ok(port):
            if time.perf_counter() - start > TIMEOUT:
                raise TimeoutError("baseline container never answered")
            time.sleep(POLL)
        total = time.perf_counter() - start
        started = wall_seconds(container.attrs["State"]["StartedAt"])
        return Sample(total, started - wall)
    finally:
        container.remove(force=True)


def ours_once(stack: Stack, gateway: RestClient) -> Sample:
    """POST /v3/pods to the first GET that says AVAILABLE; then deletes the pod and waits
    until its container is gone."""
    pod_id = f"bench{uuid.uuid4().hex[:10]}"
    wall = time.time()
    start = time.perf_counter()
    gateway.call("POST", "/v3/pods", {"pod_id": pod_id, "image": IMAGE})
    while True:
        pod = gateway.call("GET", f"/v3/pods/{pod_id}")["result"]
        if pod["status"] == "AVAILABLE":
            total = time.perf_counter() - start
            break
        if pod["status"] in ("ERROR", "COMPLETE") or time.perf_counter() - start > TIMEOUT:
            raise RuntimeError(f"pod {pod_id} ended {pod['status']}")
        time.sleep(POLL)
    sample = Sample(
        total,
        wall_seconds(pod["start_instance_ts"]) - wall,
        wall_seconds(pod["update_ts"]) - wall,
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
    runs = parser.parse_args().runs

    print(f"machine: {machine()}")
    client = docker.from_env()
    baseline: list[Sample] = []
    ours: list[Sample] = []
    try:
        with running_stack() as stack:
            gateway = RestClient(stack)
            try:
                baseline_once(client)
                ours_once(stack, gateway)  # warm-ups, not counted
                for run in range(1, runs + 1):
                    baseline.append(baseline_once(client))
                    ours.append(ours_once(stack, gateway))
                    b, o = baseline[-1], ours[-1]
                    print(
                        f"run {run:2d}: docker run {ms(b.total)} (started at {ms(b.to_started)})"
                        f"   pods {ms(o.total)} (started at {ms(o.to_started)},"
                        f" AVAILABLE recorded at {ms(o.to_recorded or 0.0)})"
                    )
            finally:
                gateway.close()
    finally:
        client.close()

    def median(values: list[float]) -> str:
        return ms(percentile(values, 50))

    print(f"docker run → 200    : {summary([s.total for s in baseline])}")
    print(f"POST → AVAILABLE    : {summary([s.total for s in ours])}")
    ratio = percentile([s.total for s in ours], 50) / percentile([s.total for s in baseline], 50)
    print(f"ratio of medians (ours / baseline): {ratio:.2f}  (target ≤ 1.3)")
    print("medians of phases (server timestamps: docker State.StartedAt, pod update_ts):")
    print(
        f"  baseline: run → StartedAt {median([s.to_started for s in baseline])}"
        f"   StartedAt → client sees 200 {median([s.total - s.to_started for s in baseline])}"
    )
    recorded = [s.to_recorded or 0.0 for s in ours]
    print(
        f"  ours    : POST → StartedAt {median([s.to_started for s in ours])}"
        f"   StartedAt → AVAILABLE recorded "
        f"{median([r - s.to_started for r, s in zip(recorded, ours, strict=True)])}"
        f"   recorded → client sees it "
        f"{median([s.total - r for r, s in zip(recorded, ours, strict=True)])}"
    )


if __name__ == "__main__":
    main()

"""GetPod latency at a fixed request rate, by path: REST through Envoy, gRPC through Envoy,
and gRPC straight to the API.

Starts a local stack (the API on a port chosen here, so it can be called directly), creates
one pods-http pod and waits until it is AVAILABLE. Each path is warmed up (200 calls), then
driven for --seconds at --rate requests/s on an open-loop schedule: request i is due at
start + i / rate, it is sent as soon as the previous one has returned if it is already late,
and its latency is measured from its due time, so queueing behind a slow call is counted
(no coordinated omission). One client thread and one connection per path: a keep-alive
http.client connection for REST (X-Tapis-Token header) and one gRPC channel (x-tapis-token
metadata) for each gRPC path. A path stops early if it falls more than --seconds behind.

Prints p50, p90, p99 and max per path, p50 and p99 of each path over direct gRPC, and the CPU
time the api and the gateway's processes (Envoy with its Python parent) spent per call on each
path (from /proc: less sensitive to other work on the machine than latencies), with `uptime`'s
load average at the start and end. The path on which only the gateway's CPU grows shows what
the Envoy hop (and the REST transcoding) costs.
Usage: python bench/getpod_latency.py [--rate R] [--seconds S]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from _common import (
    RestClient,
    Stack,
    free_port,
    gateway_port,
    machine,
    percentile,
    running_stack,
)

from services.common.generated.pods.v1 import pods_service_pb2, pods_service_pb2_grpc

IMAGE = "pods-http:latest"
WARMUP_CALLS = 200

Call = Callable[[], None]


@dataclass
class Result:
    name: str
    latencies: list[float]  # seconds, from due time to answer
    planned: int
    elapsed: float  # seconds from the first due time to the last answer
    cpu_ms: dict[str, float]  # process name → CPU ms per call during the timed calls

    def ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


def create_available_pod(stack: Stack) -> str:
    rest = RestClient(stack)
    try:
        pod_id = f"bench{uuid.uuid4().hex[:10]}"
        rest.call("POST", "/v3/pods", {"pod_id": pod_id, "image": IMAGE})
        deadline = time.monotonic() + 60
        while rest.call("GET", f"/v3/pods/{pod_id}")["result"]["status"] != "AVAILABLE":
            if time.monotonic() > deadline:
                raise TimeoutError(f"pod {pod_id} never became AVAILABLE")
            time.sleep(0.05)
        return pod_id
    finally:
        rest.close()


def rest_call(stack: Stack, token: str, pod_id: str) -> tuple[Call, Callable[[], None]]:
    conn = http.client.HTTPConnection("127.0.0.1", gateway_port(stack), timeout=10)
    headers = {"X-Tapis-Token": token}

    def call() -> None:
        conn.request("GET", f"/v3/pods/{pod_id}", headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200 or json.loads(body)["result"]["pod_id"] != pod_id:
            raise RuntimeError(f"REST GetPod: {response.status} {body[:200]!r}")

    return call, conn.close


def grpc_call(port: int, token: str, pod_id: str) -> tuple[Call, Callable[[], None]]:
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = pods_service_pb2_grpc.PodsServiceStub(channel)
    request = pods_service_pb2.GetPodRequest(pod_id=pod_id)
    metadata = (("x-tapis-token", token),)

    def call() -> None:
        response = stub.GetPod(request, metadata=metadata, timeout=10)
        if response.result.pod_id != pod_id:
            raise RuntimeError(f"gRPC GetPod on port {port}: {response}")

    return call, channel.close


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:13]) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (the gateway's Envoy is a child of it)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(p for c in children for p in process_tree(int(c)))]


def cpu_of(pids: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_seconds(p) for p in group) for name, group in pids.items()}


def drive(name: str, call: Call, rate: float, seconds: float, pids: dict[str, list[int]]) -> Result:
    """Open-loop: latency of request i counts from start + i / rate."""
    for _ in range(WARMUP_CALLS):
        call()
    cpu_before = cpu_of(pids)
    planned = round(rate * seconds)
    latencies: list[float] = []
    start = time.perf_counter() + 0.05
    for i in range(planned):
        due = start + i / rate
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        elif now - due > seconds:
            break  # hopelessly behind: bound the run
        call()
        latencies.append(time.perf_counter() - due)
    cpu = {k: (v - cpu_before[k]) * 1000 / max(len(latencies), 1) for k, v in cpu_of(pids).items()}
    return Result(name, latencies, planned, time.perf_counter() - start, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="per path")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    print(f"load average at start: {os.getloadavg()}")
    api_port = free_port()
    results: list[Result] = []
    with running_stack({"PODS_API_PORT": str(api_port)}) as stack:
        pod_id = create_available_pod(stack)
        token = stack.token()
        pids = {
            "api": process_tree(stack.pid_of("api")),
            "gateway": process_tree(stack.pid_of("gateway")),
        }
        paths = [
            ("REST via Envoy", rest_call(stack, token, pod_id)),
            ("gRPC via Envoy", grpc_call(gateway_port(stack), token, pod_id)),
            ("gRPC direct to API", grpc_call(api_port, token, pod_id)),
        ]
        for name, (call, close) in paths:
            try:
                results.append(drive(name, call, args.rate, args.seconds, pids))
            finally:
                close()

    print(f"GetPod at {args.rate:g} req/s for {args.seconds:g} s per path (open loop)")
    print(
        f"{'path':20} {'sent':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        f" {'p50/direct':>10} {'p99/direct':>10} {'api cpu ms':>10} {'gw cpu ms':>9}"
    )
    direct = results[-1]
    for r in results:
        print(
            f"{r.name:20} {len(r.latencies):4d}/{r.planned:<4d} {r.ms(50):8.2f} {r.ms(90):8.2f}"
            f" {r.ms(99):8.2f} {r.ms(100):8.2f} {r.ms(50) / direct.ms(50):10.2f}"
            f" {r.ms(99) / direct.ms(99):10.2f} {r.cpu_ms['api']:10.2f} {r.cpu_ms['gateway']:9.2f}"
        )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()

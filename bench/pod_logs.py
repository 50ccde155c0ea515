"""GetPodLogs of a pod that wrote 10 MB: REST through Envoy, against `docker logs` of the same
container in the same run.

Starts a local stack, creates a pods-http pod whose command writes --mb MB (decimal) of text
to stdout and then sleeps, and waits until GET /v3/pods/{id}/logs returns it all (health has
read it into the database). Then, alternating, --runs times each: (a) REST GET of the logs
through Envoy (keep-alive http.client, the whole body read and its JSON envelope parsed, as
tapipy does), (b) GetPodLogs over gRPC straight to the api (what the api itself costs),
(c) `docker logs` of the container to /dev/null (the engine's own path: the baseline).
Prints p50 and p90 of each, their ratio, the CPU milliseconds per call of the api and of
Envoy on each of our paths (load-independent: where the time goes), the body size, and the
RSS of the api, the spawner and Envoy before the first and after the last call, and the api's
RSS and peak RSS over --runs REST calls made alone before the others (memory flat
or not), with `uptime`'s load average at the start and end.

Usage: python bench/pod_logs.py [--runs N] [--mb M]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import time
import uuid
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
from _cpu import cpu_seconds

from services.common.generated.pods.v1 import pods_service_pb2, pods_service_pb2_grpc

IMAGE = "pods-http:latest"
PATHS = ("REST GetPodLogs via Envoy", "gRPC GetPodLogs direct", "docker logs")
LINE = 'the quick brown fox jumps over the lazy dog 0123456789 \\ " tab\tend'


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """The process's resident memory now (VmRSS) or at its peak so far (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def gateway_pids(stack: Stack) -> dict[str, int]:
    """The api, the spawner and Envoy (a child of the gateway process)."""
    pids = {name: stack.pid_of(name) for name in ("api", "spawner")}
    gateway = stack.pid_of("gateway")
    children = Path(f"/proc/{gateway}/task/{gateway}/children").read_text().split()
    for child in [gateway, *map(int, children)]:
        if "envoy" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="ignore"):
            pids["envoy"] = child
    return pids


def uptime() -> str:
    return os.getloadavg().__repr__()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--mb", type=float, default=10.0)
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)

    print(f"machine: {machine()}")
    print(f"load average at start: {uptime()}")
    api_port = free_port()
    with running_stack({"PODS_API_PORT": str(api_port)}) as stack:
        rest = RestClient(stack)
        pod_id = f"logs{uuid.uuid4().hex[:10]}"
        script = f"yes '{LINE}' | head -c {size}; exec sleep 100000"
        rest.call(
            "POST",
            "/v3/pods",
            {"pod_id": pod_id, "image": IMAGE, "command": ["sh", "-c", script]},
        )
        path = f"/v3/pods/{pod_id}/logs"
        deadline = time.monotonic() + 180
        while (got := len(rest.call("GET", path)["result"]["logs"])) < size * 0.97:
            print(f"  logs so far: {got} characters", flush=True)
            if time.monotonic() > deadline:
                raise TimeoutError("the logs never reached their size")
            time.sleep(0.5)
        rest.close()
        container = stack.containers(pod_id)[0].id
        conn = http.client.HTTPConnection("127.0.0.1", gateway_port(stack), timeout=60)
        headers = {"X-Tapis-Token": stack.token()}
        channel = grpc.insecure_channel(
            f"127.0.0.1:{api_port}", options=[("grpc.max_receive_message_length", 64 << 20)]
        )
        stub = pods_service_pb2_grpc.PodsServiceStub(channel)
        metadata = (("x-tapis-token", stack.token()),)
        pids = gateway_pids(stack)
        before = {name: rss_mib(pid) for name, pid in pids.items()}
        times: dict[str, list[float]] = {name: [] for name in PATHS}
        cpu: dict[str, dict[str, float]] = {name: {"api": 0.0, "envoy": 0.0} for name in PATHS}
        body_bytes = 0

        def rest_call() -> None:
            nonlocal body_bytes
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            logs = json.loads(body)["result"]["logs"]
            if response.status != 200 or len(logs) < size * 0.97:
                raise RuntimeError(f"GetPodLogs: {response.status}, {len(logs)} characters")
            body_bytes = len(body)

        def grpc_call() -> None:
            request = pods_service_pb2.GetPodLogsRequest(pod_id=pod_id)
            reply = stub.GetPodLogs(request, metadata=metadata, timeout=60)
            if len(reply.result.logs) < size * 0.97:
                raise RuntimeError(f"gRPC GetPodLogs: {len(reply.result.logs)} characters")

        def docker_call() -> None:
            subprocess.run(
                ["docker", "logs", container],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
            )

        calls = dict(zip(PATHS, (rest_call, grpc_call, docker_call), strict=True))
        # REST alone first: the unary gRPC call holds the whole text in the api by nature,
        # so the api's peak is read before any of it.
        api = pids["api"]
        rest_memory = [rss_mib(api), rss_mib(api, "VmHWM")]
        for _ in range(args.runs):
            rest_call()
        rest_memory += [rss_mib(api), rss_mib(api, "VmHWM")]
        for _ in range(args.runs):
            for name, call in calls.items():
                cpu_before = {who: cpu_seconds(pid) for who, pid in pids.items()}
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
                for who in cpu[name]:
                    cpu[name][who] += cpu_seconds(pids[who]) - cpu_before[who]
        after = {name: rss_mib(pid) for name, pid in pids.items()}
        conn.close()
        channel.close()

    print(f"logs of {size / 1e6:g} MB, body {body_bytes / 1e6:.2f} MB, {args.runs} runs each")
    print(f"{'path':26} {'p50 ms':>8} {'p90 ms':>8} {'api cpu ms':>10} {'envoy cpu ms':>12}")
    for name in PATHS:
        per_call = {who: spent * 1000 / args.runs for who, spent in cpu[name].items()}
        print(
            f"{name:26} {percentile(times[name], 50) * 1000:8.1f}"
            f" {percentile(times[name], 90) * 1000:8.1f}"
            f" {per_call['api']:10.1f} {per_call['envoy']:12.1f}"
        )
    ratio = percentile(times[PATHS[0]], 50) / percentile(times[PATHS[2]], 50)
    print(f"p50 REST / docker logs: {ratio:.2f}")
    print(
        "RSS MiB before -> after: "
        + ", ".join(f"{name} {before[name]:.0f} -> {after[name]:.0f}" for name in pids)
    )
    print(
        "api over {} REST calls alone: RSS {:.0f} -> {:.0f} MiB, peak (VmHWM) {:.0f} -> {:.0f}"
        " MiB".format(args.runs, *rest_memory)
    )
    print(f"load average at end: {uptime()}")


if __name__ == "__main__":
    main()

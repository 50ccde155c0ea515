"""Many real pods on one Docker engine: create N tiny HTTP pods (pods-http) in waves, then list,
read and count routes with all of them running, then delete them all and time convergence.

Real Docker, a local stack (tests/e2e/harness.py). Steps and what is printed:

1. Waves: `--wave` pods at a time are POSTed on `--parallelism` threads through the REST
   gateway and the wave waits until all are AVAILABLE (GET /v3/pods every `--poll` s) before
   the next starts; each wave's seconds, so a slowdown with the pod count shows.
2. With all N AVAILABLE: GET /v3/pods `--lists` times (p50 / p99, body size); GetPod of random
   pods `--gets` times on one keep-alive connection (p50 / p99); the routes the pod router
   publishes (its `pods_route_table_size` gauge) and Envoy's pods listener filter chains; the
   resident memory (VmRSS) and CPU time of every process of the stack, and the containers and
   networks of the deployment.
3. DELETE all on `--parallelism` threads; seconds until none is listed and no container or
   network of the deployment is left.

Load average and machine at the start and the end. In the default network mode all pods share
one bridge, given a subnet for N (burst.stack_env) when N is above 60; with
`PODS_DOCKER_NETWORK_MODE=per-pod` the engine's address pools must hold N bridge networks
(scripts/setup starts dockerd with a /14 pool in /26 subnets: 4096).

Usage: python bench/many_pods.py --count N [--wave W] [--parallelism P]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import threading
import time
import uuid

from _common import Stack, gateway_port, machine, percentile, running_stack
from burst import (
    Seen,
    create_all,
    delete_and_converge,
    deployment_objects,
    kept_log,
    list_pods,
    load_average,
    stack_env,
    watch_available,
)
from soak_client import Client
from soak_memory import cpu_seconds, envoy_heap_kib, rss_kib, stack_processes

WAVE_TIMEOUT = 900.0


def create_wave(
    stack: Stack, token: str, pod_ids: list[str], parallelism: int, poll: float
) -> float:
    """Seconds from the wave's first POST until all its pods were seen AVAILABLE."""
    start = time.monotonic()
    create_all(stack, token, pod_ids, parallelism)
    seen = Seen()
    stop = threading.Event()
    lister = Client(gateway_port(stack), token)
    watcher = threading.Thread(
        target=watch_available, args=(lister, set(pod_ids), poll, stop, seen), daemon=True
    )
    watcher.start()
    watcher.join(WAVE_TIMEOUT)
    stop.set()
    lister.close()
    if seen.failed:
        raise RuntimeError(f"{len(seen.at)} of {len(pod_ids)} AVAILABLE: {seen.failed[:5]}")
    if seen.erred:
        print(f"  {len(seen.erred)} pods seen in ERROR on the way (then AVAILABLE)")
    return time.monotonic() - start


def timed_calls(client: Client, paths: list[str]) -> tuple[list[float], int]:
    """Seconds each GET took, and the size of the last body (bytes of its JSON)."""
    times, size = [], 0
    for path in paths:
        start = time.perf_counter()
        status, body = client.call("GET", path)
        times.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        size = len(json.dumps(body))
    return times, size


def metric(port: int, name: str) -> dict[str, float]:
    """The samples of Prometheus metric `name` on 127.0.0.1:`port`, by label text."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    out = {}
    for line in text.splitlines():
        if line.startswith(name):
            key, _, value = line.rpartition(" ")
            out[key[len(name) :] or "-"] = float(value)
    return out


def filter_chains(admin_port: int) -> int:
    """Filter chains of Envoy's listeners now (its config dump)."""
    conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=30)
    try:
        conn.request("GET", "/config_dump?resource=dynamic_listeners")
        dump = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    chains = 0
    for config in dump.get("configs", []):
        active = (config.get("active_state") or {}).get("listener") or {}
        chains += len(active.get("filter_chains") or [])
    return chains


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:.1f} ms"


def report_running(stack: Stack, token: str, pod_ids: list[str], args: argparse.Namespace) -> None:
    client = Client(gateway_port(stack), token)
    try:
        lists, size = timed_calls(client, ["/v3/pods"] * args.lists)
        listed = len(list_pods(client))
        print(
            f"list GET /v3/pods ({listed} pods, {size / 1024:.0f} KiB) x{args.lists}: "
            f"p50 {ms(lists, 50)}  p99 {ms(lists, 99)}"
        )
        rng = random.Random(14)
        paths = [f"/v3/pods/{rng.choice(pod_ids)}" for _ in range(args.gets)]
        gets, _ = timed_calls(client, paths)
        print(f"GetPod of random pods x{args.gets}: p50 {ms(gets, 50)}  p99 {ms(gets, 99)}")
    finally:
        client.close()
    env = stack.env
    routes = metric(int(env["PODS_ROUTER_METRICS_PORT"]), "pods_route_table_size")
    print(f"routes published (pods_route_table_size): {routes}")
    print(f"Envoy listener filter chains: {filter_chains(int(env['PODS_GATEWAY_ADMIN_PORT']))}")
    print(f"containers + networks of the deployment: {deployment_objects(stack)}")


def report_processes(stack: Stack, label: str) -> None:
    processes = stack_processes(stack)
    heap = envoy_heap_kib(int(stack.env["PODS_GATEWAY_ADMIN_PORT"]))
    parts = []
    for name, pid in sorted(processes.items()):
        rss, cpu = rss_kib(pid), cpu_seconds(pid)
        parts.append(f"{name} {0 if rss is None else rss / 1024:.0f} MiB/{cpu or 0:.0f} s")
    allocated = heap["envoy allocated"]
    print(f"RSS/CPU time {label}: " + ", ".join(parts))
    print(f"  Envoy heap allocated {0 if allocated is None else allocated / 1024:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--wave", type=int, default=50)
    parser.add_argument("--parallelism", type=int, default=0, help="default: --wave")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between lists")
    parser.add_argument("--lists", type=int, default=50)
    parser.add_argument("--gets", type=int, default=1000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    parallelism = args.parallelism or args.wave

    print(f"machine: {machine()}")
    print(f"load average at start: {load_average()}")
    print(f"{args.count} pods in waves of {args.wave}, parallelism {parallelism}, {args.database}")
    prefix = f"m{uuid.uuid4().hex[:6]}"
    pod_ids = [f"{prefix}n{n}" for n in range(args.count)]
    with running_stack(stack_env(args.count), args.database) as stack, kept_log(stack):
        token = stack.token()
        report_processes(stack, "idle")
        started = time.monotonic()
        try:
            for first in range(0, args.count, args.wave):
                wave = pod_ids[first : first + args.wave]
                seconds = create_wave(stack, token, wave, parallelism, args.poll)
                print(
                    f"wave {first // args.wave + 1}: pods {first + 1}-{first + len(wave)}"
                    f" AVAILABLE in {seconds:.1f} s (load {load_average()})",
                    flush=True,
                )
            print(f"all {args.count} AVAILABLE after {time.monotonic() - started:.1f} s")
            report_running(stack, token, pod_ids, args)
            report_processes(stack, f"with {args.count} pods")
        finally:
            converged = delete_and_converge(stack, token, pod_ids, parallelism)
            print(
                "deleted all: converged (nothing listed, no container or network) "
                f"in {converged:.1f} s"
            )
            report_processes(stack, "after deletion")
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()

"""Soak: N pods created and deleted over and over by N concurrent clients, plus GetPod at a
fixed rate, for S seconds, on one local stack. Prints the errors, whether everything
converged afterwards (no pod, no container left), GetPod latency percentiles, and the memory
(RSS) of every process of the stack at the start and at the end.

Usage: .venv/bin/python bench/soak.py [--pods 100] [--rate 300] [--seconds 60]
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import Stack, gateway_port, machine, percentile, running_stack

PROCESSES = ["api", "spawner", "health", "router", "gateway", "nats"]


def rss_mib(stack: Stack) -> dict[str, float]:
    """Resident memory of each process of the stack, MiB."""
    sizes = {}
    for name in PROCESSES:
        try:
            pid = stack.pid_of(name)
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes[name] = int(line.split()[1]) / 1024
        except (OSError, ValueError):
            continue
    return sizes


class Client:
    """One keep-alive connection to the gateway; counts every answer by status."""

    def __init__(self, stack: Stack, token: str, statuses: Counter[str]) -> None:
        self._port = gateway_port(stack)
        self._headers = {"Content-Type": "application/json", "X-Tapis-Token": token}
        self._statuses = statuses
        self._conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=60)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        payload = json.dumps(body).encode() if body is not None else None
        try:
            self._conn.request(method, path, body=payload, headers=self._headers)
            response = self._conn.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException):
            self._conn.close()
            self._conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=60)
            status, raw = 0, b"{}"
        self._statuses[f"{method} {status}"] += 1
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")


def cycler(client: Client, pod_id: str, until: float, cycles: Counter[str]) -> None:
    """Create, wait until AVAILABLE, delete, wait until gone; again until `until`."""
    give_up = until + 120  # a cycle that never finishes is reported, not waited for

    def status_of() -> str:
        answer = client.call("GET", f"/v3/pods/{pod_id}")[1]
        return str(answer.get("result", {}).get("status", "")) if isinstance(answer, dict) else ""

    while time.monotonic() < until:
        status, _ = client.call("POST", "/v3/pods", {"pod_id": pod_id, "image": "pods-http:latest"})
        if status != 200:
            time.sleep(0.5)
            continue
        while status_of() != "AVAILABLE" and time.monotonic() < give_up:
            time.sleep(0.5)
        client.call("DELETE", f"/v3/pods/{pod_id}")
        while client.call("GET", f"/v3/pods/{pod_id}")[0] != 404 and time.monotonic() < give_up:
            time.sleep(0.5)
        cycles["create+delete"] += 1


def reader(client: Client, rate: float, until: float, latencies: list[float]) -> None:
    """GetPod of one pod at `rate` per second (paced, not bursty)."""
    interval, next_at = 1 / rate, time.monotonic()
    while time.monotonic() < until:
        start = time.monotonic()
        client.call("GET", "/v3/pods/steady")
        latencies.append(time.monotonic() - start)
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    print(machine())
    with running_stack() as stack:
        token = stack.token()
        statuses: Counter[str] = Counter()
        cycles: Counter[str] = Counter()
        setup = Client(stack, token, Counter())
        setup.call("POST", "/v3/pods", {"pod_id": "steady", "image": "pods-http:latest"})
        memory_start = rss_mib(stack)
        until = time.monotonic() + args.seconds
        latencies: list[list[float]] = [[] for _ in range(4)]
        threads = [
            threading.Thread(target=cycler, args=(Client(stack, token, statuses), f"soak{n}",
                                                   until, cycles))
            for n in range(args.pods)
        ] + [
            threading.Thread(target=reader, args=(Client(stack, token, statuses), args.rate / 4,
                                                   until, latencies[n]))
            for n in range(4)
        ]  # fmt: skip
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        deadline, left = time.monotonic() + 120, -1
        while time.monotonic() < deadline:
            listed = setup.call("GET", "/v3/pods")[1].get("result", [])
            left = len([p for p in listed if p["pod_id"] != "steady"])
            if left == 0 and len(stack.containers()) == 1:
                break
            time.sleep(1)
        converged = time.monotonic() - (started + elapsed)
        memory_end = rss_mib(stack)
        gets = [x for chunk in latencies for x in chunk]
        errors = {k: v for k, v in statuses.items() if not k.endswith((" 200", " 404"))}
        print(f"{args.pods} cycling clients + GetPod at {args.rate:.0f}/s for {elapsed:.0f}s")
        print(f"create+delete cycles completed: {cycles['create+delete']}")
        print(f"answers: {dict(sorted(statuses.items()))}")
        print(f"errors (not 200/404): {errors or 'none'}")
        p50, p99 = percentile(gets, 50) * 1000, percentile(gets, 99) * 1000
        print(f"GetPod achieved {len(gets) / elapsed:.0f}/s  p50 {p50:.1f} ms  p99 {p99:.1f} ms"
              f"  max {max(gets) * 1000:.0f} ms")  # fmt: skip
        print(f"converged (no pod, no container left but 'steady'): {left == 0} "
              f"{converged:.1f}s after the load stopped")  # fmt: skip
        for name in PROCESSES:
            print(f"  {name:8s} RSS {memory_start.get(name, 0):6.1f} MiB -> "
                  f"{memory_end.get(name, 0):6.1f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()

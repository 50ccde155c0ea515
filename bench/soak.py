"""Soak: pods created and deleted by many concurrent clients while GetPod runs at a fixed rate,
with errors, latencies, convergence and the memory of every stack process.

Starts a local stack (SQLite, or --database postgres), creates --stable pods-http pods and
waits until they are AVAILABLE. Then:

1. baseline: GetPod at --rate requests/s for --baseline seconds, nothing else running;
2. soak, for --duration seconds: --concurrency worker threads, spread over the stack's three
   users, each cycling create (POST /v3/pods, pods-http) -> poll GetPod every --poll seconds
   until AVAILABLE (at most --available-timeout; --no-wait deletes at once) -> DELETE, while
   GetPod runs at --rate requests/s on the stable pods as in the baseline;
3. convergence: the workers finish the cycle they are in, the stable pods are deleted too,
   and the script waits (at most --converge-timeout) until no pod the run created is listed
   any more and no container of the deployment remains.
--rounds N repeats 2 and 3 (the stable pods kept until the last), to tell growth per round
from warm-up; --settle S keeps sampling memory for S idle seconds at the end.

GetPod is driven from a separate process (so the workers' threads do not share its GIL) on an
open-loop schedule: request i is due at start + i / rate, --getpod-clients threads with one
keep-alive connection each take the next due request, and its latency counts from its due
time (queueing behind slow calls is counted). A request more than the phase's length late is
dropped and counted as such (the phase stays bounded).

Prints errors by kind (HTTP status or exception, per call; pods a worker gave up waiting for
are counted apart), p50/p95/p99/max of GetPod (baseline and under load, the p99 ratio, and the
service time send -> answer), of create and delete calls, and of create -> AVAILABLE; creates
per second achieved; how long convergence took; the resident memory (VmRSS) and CPU of every
process of the stack (the processes under scripts/up: api, spawner, health, router, Envoy,
nats-server), Envoy's own heap figures and draining filter chains (admin port), before the
load, every 10 s, after the load and after convergence.

This module is the entry point (command line, setup, the rounds); the pieces are
bench/soak_client.py (HTTP client), soak_getpod.py (the GetPod load process), soak_churn.py
(create/delete workers, convergence), soak_memory.py (process memory and CPU) and
soak_report.py (the figures, as text or JSON).
Usage: python bench/soak.py [--duration S] [--concurrency N] [--rate R] [--json]
                            [--rounds N] [--settle S] [--no-wait] [--poll S]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from _common import Stack, gateway_port, running_stack
from soak_churn import IMAGE, Churn, churn_worker, converge, wait_available
from soak_client import HTTP_TIMEOUT, Client, error_kind
from soak_getpod import GetPodRun
from soak_memory import Memory, stack_processes
from soak_report import report, summarize

USERS = (("testuser", "testpass"), ("otheruser", "otherpass"), ("adminuser", "adminpass"))
MEMORY_EVERY = 10.0  # seconds between memory samples during the soak
WARMUP_CALLS = 100


# -- main -------------------------------------------------------------------------------------


def soak_round(
    stack: Stack,
    tokens: list[str],
    stable: list[tuple[str, str]],
    memory: Memory,
    args: argparse.Namespace,
    label: str,
) -> tuple[Churn, dict[str, Any], float]:
    """One soak: the churn workers and the GetPod load for --duration, until every worker has
    finished its last cycle. (churn, GetPod result, seconds the churn took)."""
    port = gateway_port(stack)
    churn = Churn()
    load = GetPodRun(port, stable, args, args.duration)  # forked before the threads
    began = time.perf_counter()
    end = began + args.duration
    workers = [
        threading.Thread(
            target=churn_worker,
            args=(port, tokens[i % len(tokens)], churn, args, end),
            daemon=True,
        )
        for i in range(args.concurrency)
    ]
    for worker in workers:
        worker.start()
    next_sample = began + MEMORY_EVERY
    hard_end = end + args.available_timeout + 2 * HTTP_TIMEOUT + 10
    while any(w.is_alive() for w in workers) and time.perf_counter() < hard_end:
        if time.perf_counter() >= next_sample:
            memory.sample(f"{label}soak +{next_sample - began:.0f} s")
            next_sample += MEMORY_EVERY
        time.sleep(0.2)
    if any(w.is_alive() for w in workers):
        churn.error("worker still busy at the hard end")
    churn_seconds = time.perf_counter() - began
    result = load.result()
    memory.sample(f"{label}end of load")
    return churn, result, churn_seconds


def run(args: argparse.Namespace) -> dict[str, Any]:
    with running_stack({}, database=args.database) as stack:
        port = gateway_port(stack)
        tokens = [stack.token(user, password) for user, password in USERS]
        clients = [Client(port, token) for token in tokens]
        admin = stack.env.get("PODS_GATEWAY_ADMIN_PORT")
        memory = Memory(stack_processes(stack), int(admin) if admin else None)
        stable: list[tuple[str, str]] = []
        for i in range(args.stable):
            token, client = tokens[i % len(tokens)], clients[i % len(clients)]
            pod_id = f"soakstable{uuid.uuid4().hex[:8]}"
            status, body = client.call("POST", "/v3/pods", {"pod_id": pod_id, "image": IMAGE})
            if status != 200:
                raise RuntimeError(f"stable pod: {status} {body}")
            stable.append((token, pod_id))
        for i, (_, pod_id) in enumerate(stable):
            wait_available(clients[i % len(clients)], pod_id, 120)
        for i in range(WARMUP_CALLS):
            token, pod_id = stable[i % len(stable)]
            clients[i % len(stable) % len(clients)].call("GET", f"/v3/pods/{pod_id}")
        memory.sample("start (before load)")

        baseline = GetPodRun(port, stable, args, args.baseline).result()
        memory.sample("after baseline")

        rounds = []
        for number in range(1, args.rounds + 1):
            label = f"r{number} " if args.rounds > 1 else ""
            churn, soak, churn_seconds = soak_round(stack, tokens, stable, memory, args, label)
            last = number == args.rounds
            if last:
                for i, (_, pod_id) in enumerate(stable):
                    status, body = clients[i % len(clients)].call("DELETE", f"/v3/pods/{pod_id}")
                    if status != 200:
                        churn.error(error_kind("DeletePod (stable)", status))
            with churn.lock:
                created = set(churn.created) | ({p for _, p in stable} if last else set())
            conv = converge(
                stack, clients, created, args.converge_timeout, 0 if last else len(stable)
            )
            memory.sample(f"{label}after convergence")
            rounds.append((churn, soak, churn_seconds, created, conv))
        settled = time.monotonic()
        while time.monotonic() - settled < args.settle:
            time.sleep(min(MEMORY_EVERY * 3, args.settle - (time.monotonic() - settled)))
            memory.sample(f"idle +{time.monotonic() - settled:.0f} s")
        for client in clients:
            client.close()
    return summarize(args, baseline, rounds, memory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arg: Callable[..., Any] = parser.add_argument
    arg("--duration", type=float, default=60.0, help="seconds of create/delete + GetPod load")
    arg("--concurrency", type=int, default=100, help="create/delete workers")
    arg("--rate", type=float, default=300.0, help="GetPod requests per second")
    arg("--json", action="store_true", help="print the figures as one JSON object")
    arg("--baseline", type=float, default=20.0, help="seconds of GetPod alone, before")
    arg("--stable", type=int, default=6, help="pods GetPod reads (spread over the users)")
    arg("--getpod-clients", type=int, default=16, help="GetPod threads/connections")
    arg("--poll", type=float, default=0.5, help="seconds between a worker's status polls")
    arg("--available-timeout", type=float, default=60.0, help="a worker's wait, seconds")
    arg("--no-wait", dest="wait", action="store_false", help="delete without waiting")
    arg("--converge-timeout", type=float, default=120.0, help="seconds")
    arg("--database", choices=("sqlite", "postgres"), default="sqlite")
    arg("--rounds", type=int, default=1, help="soaks in a row (memory growth across them)")
    arg("--settle", type=float, default=0.0, help="idle seconds sampled after the last round")
    args = parser.parse_args()
    if min(args.duration, args.rate) <= 0 or min(args.concurrency, args.stable, args.rounds) < 1:
        parser.error("--duration, --concurrency, --rate, --stable and --rounds must be positive")

    result = run(args)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "_lat"}, indent=2))
    else:
        report(result)


if __name__ == "__main__":
    main()

"""10,000 pods on the FAKE runtime: does the control plane scale? (issue 14)

Runs a whole local stack (API, NATS, spawner, health, the pod router, Envoy; SQLite or a
fresh PostgreSQL database) with PODS_RUNTIME=fake and PODS_ALLOW_FAKE_RUNTIME=1: no
container runs; every pod's port is one real loopback listener the fake starts, so health's
readiness probes pass and pods reach AVAILABLE through the normal path. THE RUNTIME IS A
FAKE: these figures are the control plane's, not Docker's.

In one run, through the REST gateway (Envoy), as one non-admin user:
1. create→AVAILABLE of `--sample` pods one at a time with ~0 pods (POST, then GET every
   10 ms until AVAILABLE): the baseline;
2. creates up to `--pods` in parallel batches (`--parallel` clients) and waits until all
   are AVAILABLE (counted through ListPods pages);
3. create→AVAILABLE of `--sample` more pods at that count: the ratio against 1;
4. ListPods pages (page_size=100, from random positions) p50/p99, the first page, and the
   full unpaged list (what Tapis clients get) median of 3;
5. GetPod and UpdatePod (a description change) p50/p99 on random pods;
6. RSS and CPU seconds of each process (the pod router and Envoy included) while idle at
   that count for `--idle` seconds, and the database's size.

Prints `uptime`'s load at the start and end. Usage:
  python bench/scale.py --pods 10000 [--database sqlite|postgres] [--parallel 16]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from _common import Stack, gateway_port, percentile, running_stack

from services.api.domain.paging import POD_TOKEN_SCHEME, token_after

IMAGE = "pods-http:latest"  # never pulled: the runtime is a fake
POLL = 0.01
PROCESSES = ("api", "spawner", "health", "router", "gateway")
TICKS = os.sysconf("SC_CLK_TCK")


class Client:
    """A keep-alive REST client of the gateway (one per thread)."""

    def __init__(self, port: int, token: str) -> None:
        self._port = port
        self._headers = {"Content-Type": "application/json", "X-Tapis-Token": token}
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.busy = 0  # 503s retried

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, retries: int = 20
    ) -> Any:
        """The parsed 200 answer; a 503 (the database busy) is retried after 0.2 s."""
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in range(3):
            try:
                self._conn.request(method, path, body=payload, headers=self._headers)
                response = self._conn.getresponse()
                data = json.loads(response.read())
                break
            except (OSError, http.client.HTTPException):
                self._conn.close()
                self._conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=120)
                if attempt == 2:
                    raise
        if response.status == 503 and retries > 0:  # a busy database: clients retry
            self.busy += 1
            time.sleep(0.2)
            return self.call(method, path, body, retries - 1)
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {data}")
        return data

    def timed(self, method: str, path: str, body: dict[str, Any] | None = None) -> float:
        started = time.perf_counter()
        self.call(method, path, body)
        return time.perf_counter() - started


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def create_body(pod_id: str) -> dict[str, Any]:
    return {"pod_id": pod_id, "image": IMAGE, "description": "scale bench"}


def create_to_available(client: Client, pod_id: str) -> float:
    started = time.perf_counter()
    client.call("POST", "/v3/pods", create_body(pod_id))
    while True:
        status = client.call("GET", f"/v3/pods/{pod_id}")["result"]["status"]
        if status == "AVAILABLE":
            return time.perf_counter() - started
        if time.perf_counter() - started > 120:
            raise TimeoutError(f"{pod_id} still {status}")
        time.sleep(POLL)


def sample(client: Client, prefix: str, count: int) -> list[float]:
    return [create_to_available(client, f"{prefix}{n:03}") for n in range(count)]


def create_many(port: int, token: str, pod_ids: list[str], parallel: int) -> float:
    """Creates the pods with `parallel` clients; seconds taken."""
    chunks = [pod_ids[i::parallel] for i in range(parallel)]
    errors: list[BaseException] = []

    def work(chunk: list[str]) -> None:
        client = Client(port, token)
        try:
            for pod_id in chunk:
                client.call("POST", "/v3/pods", create_body(pod_id))
        except BaseException as exc:  # reported below
            errors.append(exc)

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(chunk,), daemon=True) for chunk in chunks]
    for thread in threads:
        thread.start()
    reported = started
    for thread in threads:
        while thread.is_alive():
            thread.join(1.0)
            if time.perf_counter() - reported >= 30:
                reported = time.perf_counter()
                print(f"  … creating, {reported - started:6.0f} s, {uptime()[-38:]}")
    if errors:
        raise RuntimeError(f"{len(errors)} creators failed; first: {errors[0]}")
    return time.perf_counter() - started


def statuses(client: Client) -> dict[str, int]:
    """How many of the caller's pods have each status (through ListPods pages of 1000)."""
    counts: dict[str, int] = {}
    token = ""
    while True:
        path = "/v3/pods?page_size=1000" + (f"&page_token={token}" if token else "")
        answer = client.call("GET", path)
        for pod in answer["result"]:
            counts[pod["status"]] = counts.get(pod["status"], 0) + 1
        token = answer.get("next_page_token", "")
        if not token:
            return counts


def wait_all_available(client: Client, total: int, timeout: float) -> float:
    started = time.perf_counter()
    while True:
        counts = statuses(client)
        if counts.get("AVAILABLE", 0) >= total:
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"not all AVAILABLE after {timeout:.0f}s: {counts}")
        print(f"  … waiting for AVAILABLE: {counts}")
        time.sleep(5)


def process_facts(stack: Stack) -> dict[str, tuple[float, float]]:
    """RSS (MiB) and CPU seconds (user + system) of each process of the stack."""
    facts = {}
    for name in PROCESSES:
        try:
            pid = stack.pid_of(name)
            status = Path(f"/proc/{pid}/status").read_text()
            rss = next(int(line.split()[1]) for line in status.splitlines() if "VmRSS" in line)
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, StopIteration, ValueError):
            continue
        facts[name] = (rss / 1024, cpu)
    return facts


def database_size(stack: Stack) -> float:
    """MiB of the stack's database (the SQLite file and its WAL, or pg_database_size)."""
    url = stack.env.get("PODS_DATABASE_URL", "")
    if not url:
        return sum(p.stat().st_size for p in stack.data_dir.glob("*.db*")) / 2**20
    import asyncpg  # the driver the stack uses

    async def size() -> int:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            return int(await connection.fetchval("SELECT pg_database_size(current_database())"))
        finally:
            await connection.close()

    return asyncio.run(size()) / 2**20


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--sample", type=int, default=10)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--idle", type=float, default=30.0)
    args = parser.parse_args()
    print("FAKE RUNTIME (PODS_RUNTIME=fake): no container runs; control-plane figures only")
    print(f"load at start: {uptime()}")
    env = {
        "PODS_RUNTIME": "fake",
        "PODS_ALLOW_FAKE_RUNTIME": "1",
        "PODS_RESYNC_INTERVAL": "5",  # the default (the test harness uses 1)
        "PODS_QUOTA_PODS": str(args.pods + 1000),
        "PODS_LOG_LEVEL": "WARNING",
    }
    run = uuid.uuid4().hex[:4]
    with running_stack(env, args.database) as stack:
        port, token = gateway_port(stack), stack.token()
        client = Client(port, token)
        print(f"stack up ({args.database}); baseline: {args.sample} pods at ~0")
        at_few = sample(client, f"a{run}", args.sample)
        bulk = [f"p{run}{n:05}" for n in range(args.pods - 2 * args.sample)]
        took = create_many(port, token, bulk, args.parallel)
        print(f"created {len(bulk)} pods in {took:.0f} s ({len(bulk) / took:.0f}/s)")
        settle = wait_all_available(client, len(bulk) + args.sample, 3600)
        print(f"all AVAILABLE {settle:.0f} s after the last create")
        at_many = sample(client, f"z{run}", args.sample)
        ids = bulk + [f"a{run}{n:03}" for n in range(args.sample)]
        rng = random.Random(14)
        pages = [
            client.timed(
                "GET",
                "/v3/pods?page_size=100&page_token="
                + token_after(rng.choice(ids), POD_TOKEN_SCHEME),
            )
            for _ in range(args.requests)
        ]
        first = [client.timed("GET", "/v3/pods?page_size=100") for _ in range(50)]
        full = [client.timed("GET", "/v3/pods") for _ in range(3)]
        gets = [client.timed("GET", f"/v3/pods/{rng.choice(ids)}") for _ in range(args.requests)]
        updates = [
            client.timed("PUT", f"/v3/pods/{rng.choice(ids)}", {"description": f"updated {n}"})
            for n in range(min(args.requests, 200))
        ]
        before = process_facts(stack)
        time.sleep(args.idle)
        after = process_facts(stack)
        size = database_size(stack)
        total = len(ids) + args.sample
        print()
        print(f"== {total} pods on the FAKE runtime, {args.database}")
        print(f"create→AVAILABLE at ~0     : p50 {ms(at_few, 50)}  max {ms(at_few, 100)}")
        print(f"create→AVAILABLE at {total:<6} : p50 {ms(at_many, 50)}  max {ms(at_many, 100)}")
        ratio = percentile(at_many, 50) / percentile(at_few, 50)
        print(f"  ratio of medians (at {total} ÷ at ~0): {ratio:.2f}  (target ≤ 1.2)")
        print(
            f"bulk create rate           : {len(bulk) / took:.0f} pods/s ({args.parallel} clients)"
        )
        print(f"ListPods page of 100       : p50 {ms(pages, 50)}  p99 {ms(pages, 99)}  (≤ 50 ms)")
        print(f"ListPods first page of 100 : p50 {ms(first, 50)}  p99 {ms(first, 99)}")
        print(f"ListPods unpaged ({total})  : median {ms(full, 50)}")
        print(f"GetPod                     : p50 {ms(gets, 50)}  p99 {ms(gets, 99)}")
        print(f"UpdatePod (description)    : p50 {ms(updates, 50)}  p99 {ms(updates, 99)}")
        print(f"database size              : {size:.1f} MiB")
        print(f"processes, idle {args.idle:.0f} s at {total} pods: RSS, CPU share while idle")
        for name, (rss, cpu) in after.items():
            used = cpu - before.get(name, (0.0, cpu))[1]
            print(f"  {name:8s} RSS {rss:7.1f} MiB   CPU {100 * used / args.idle:5.1f} %")
    print(f"load at end: {uptime()}")


if __name__ == "__main__":
    main()

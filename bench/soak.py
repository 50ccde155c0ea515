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
Usage: python bench/soak.py [--duration S] [--concurrency N] [--rate R] [--json]
                            [--rounds N] [--settle S] [--no-wait] [--poll S]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import Stack, gateway_port, machine, percentile, running_stack

IMAGE = "pods-http:latest"
USERS = (("testuser", "testpass"), ("otheruser", "otherpass"), ("adminuser", "adminpass"))
HTTP_TIMEOUT = 30.0
MEMORY_EVERY = 10.0  # seconds between memory samples during the soak
WARMUP_CALLS = 100
TICKS = os.sysconf("SC_CLK_TCK")


# -- HTTP -------------------------------------------------------------------------------------


class Client:
    """A keep-alive connection to the gateway as one user; reconnects after any failure.
    Every call returns (status, parsed body or None); exceptions are left to the caller."""

    def __init__(self, port: int, token: str) -> None:
        self._port = port
        self._headers = {"Content-Type": "application/json", "X-Tapis-Token": token}
        self._conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=HTTP_TIMEOUT)
        payload = json.dumps(body).encode() if body is not None else None
        try:
            self._conn.request(method, path, body=payload, headers=self._headers)
            response = self._conn.getresponse()
            raw = response.read()
        except BaseException:
            self.close()
            raise
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def error_kind(call: str, status: int | None = None, exc: BaseException | None = None) -> str:
    if exc is not None:
        return f"{call} {type(exc).__name__}"
    return f"{call} HTTP {status}"


# -- GetPod load (runs in its own process) ---------------------------------------------------


def getpod_load(
    port: int,
    targets: list[tuple[str, str]],
    rate: float,
    seconds: float,
    clients: int,
    out: Any,
) -> None:
    """Open-loop GetPod on `targets` ((token, pod_id), round robin); sends a dict with the
    latencies (s), the error counts and the number planned/dropped to `out`."""
    planned = round(rate * seconds)
    latencies: list[float] = []
    service: list[float] = []  # send -> answer, without the wait for a free client
    errors: Counter[str] = Counter()
    dropped = [0]
    lock = threading.Lock()
    indexes = itertools.count()
    start = time.perf_counter() + 0.2

    def worker() -> None:
        conns: dict[str, Client] = {}
        while True:
            with lock:
                i = next(indexes)
            if i >= planned:
                break
            due = start + i / rate
            now = time.perf_counter()
            if now < due:
                time.sleep(due - now)
            elif now - due > seconds:
                with lock:
                    dropped[0] += 1
                continue
            token, pod_id = targets[i % len(targets)]
            client = conns.setdefault(token, Client(port, token))
            sent = time.perf_counter()
            try:
                status, body = client.call("GET", f"/v3/pods/{pod_id}")
            except Exception as exc:  # counted, never fatal
                with lock:
                    errors[error_kind("GetPod", exc=exc)] += 1
                continue
            answered = time.perf_counter()
            with lock:
                if status == 200 and body["result"]["pod_id"] == pod_id:
                    latencies.append(answered - due)
                    service.append(answered - sent)
                else:
                    errors[error_kind("GetPod", status)] += 1
        for client in conns.values():
            client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.send(
        {
            "latencies": latencies,
            "service": service,
            "errors": dict(errors),
            "planned": planned,
            "dropped": dropped[0],
            "elapsed": time.perf_counter() - start,
        }
    )
    out.close()


class GetPodRun:
    """getpod_load in a child process (forked before the soak's threads start)."""

    def __init__(
        self, port: int, targets: list[tuple[str, str]], args: argparse.Namespace, seconds: float
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=getpod_load,
            args=(port, targets, args.rate, seconds, args.getpod_clients, send),
            daemon=True,
        )
        self._seconds = seconds
        self._process.start()
        send.close()

    def result(self) -> dict[str, Any]:
        if not self._receive.poll(3 * self._seconds + 60):
            self._process.kill()
            raise TimeoutError("the GetPod load process did not report")
        data: dict[str, Any] = self._receive.recv()
        self._process.join(timeout=30)
        return data


# -- memory -----------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        pid = int(stat.parent.name)
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(pid)
    return tree


def stack_processes(stack: Stack) -> dict[str, int]:
    """name -> pid of every process under scripts/up; named after its pid file in
    <data_dir>/pids when it has one, else after its command (comm)."""
    by_pid = {}
    for pid_file in (stack.data_dir / "pids").glob("*.pid"):
        try:
            by_pid[int(pid_file.read_text().strip())] = pid_file.stem
        except (OSError, ValueError):
            continue
    tree = _children()
    found: dict[str, int] = {}
    todo = list(tree.get(stack.process.pid, []))
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        name = by_pid.get(pid, comm)
        if comm in ("sleep", "bash", "sh", "tail"):
            continue  # scripts/up's own shells and waits
        while name in found:
            name += "'"
        found[name] = pid
    return found


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of `pid` so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def envoy_heap_kib(admin_port: int | None) -> dict[str, int | None]:
    """Envoy's own accounting (admin /memory): bytes its allocator has handed out, and the
    heap it holds from the system (freed memory it has not returned yet included)."""
    out: dict[str, int | None] = {"envoy allocated": None, "envoy heap": None}
    if admin_port is None:
        return out
    try:
        conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=5)
        conn.request("GET", "/memory")
        data = json.loads(conn.getresponse().read())
        conn.close()
        out["envoy allocated"] = int(data["allocated"]) // 1024
        out["envoy heap"] = int(data["heap_size"]) // 1024
    except (OSError, ValueError, KeyError, http.client.HTTPException):
        pass
    return out


def envoy_draining(admin_port: int | None) -> str:
    """Envoy's listener manager gauges of what is still draining after updates."""
    if admin_port is None:
        return ""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=5)
        conn.request("GET", "/stats?filter=listener_manager.total_.*draining")
        text = conn.getresponse().read().decode()
        conn.close()
    except (OSError, http.client.HTTPException):
        return "?"
    return " ".join(
        line.replace("listener_manager.total_", "") for line in text.split("\n") if line
    )


@dataclass
class Memory:
    processes: dict[str, int]
    admin_port: int | None = None
    samples: list[tuple[str, dict[str, int | None]]] = field(default_factory=list)
    draining: list[str] = field(default_factory=list)
    commands: dict[str, str] = field(default_factory=dict)
    cpu: list[tuple[float, dict[str, float | None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.commands = {name: command(pid) for name, pid in self.processes.items()}

    def sample(self, label: str) -> None:
        values = {n: rss_kib(p) for n, p in self.processes.items()}
        self.samples.append((label, {**values, **envoy_heap_kib(self.admin_port)}))
        self.draining.append(envoy_draining(self.admin_port))
        self.cpu.append((time.monotonic(), {n: cpu_seconds(p) for n, p in self.processes.items()}))

    def cpu_percent(self) -> list[dict[str, float | None]]:
        """% of one core each process used between a sample and the one before it."""
        out: list[dict[str, float | None]] = [{}]
        for (t0, a), (t1, b) in itertools.pairwise(self.cpu):
            row: dict[str, float | None] = {}
            for name in self.processes:
                x, y = a.get(name), b.get(name)
                if x is None or y is None or t1 <= t0:
                    row[name] = None
                else:
                    row[name] = round(100 * (y - x) / (t1 - t0), 1)
            out.append(row)
        return out


# -- churn ------------------------------------------------------------------------------------


@dataclass
class Churn:
    """What the create/delete workers did (shared by them, under `lock`)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    created: list[str] = field(default_factory=list)  # every pod id a POST was sent for
    create_s: list[float] = field(default_factory=list)
    delete_s: list[float] = field(default_factory=list)
    available_s: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    cycles: int = 0
    creates_ok: int = 0
    not_available: int = 0  # pods still not AVAILABLE when the worker gave up waiting

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1


def cycle(client: Client, churn: Churn, args: argparse.Namespace) -> None:
    """One create -> (AVAILABLE) -> delete; every failure is counted, none raised."""
    pod_id = f"soak{uuid.uuid4().hex[:12]}"
    with churn.lock:
        churn.created.append(pod_id)
    began = time.perf_counter()
    try:
        status, body = client.call("POST", "/v3/pods", {"pod_id": pod_id, "image": IMAGE})
    except Exception as exc:
        churn.error(error_kind("CreatePod", exc=exc))
        return
    with churn.lock:
        churn.create_s.append(time.perf_counter() - began)
    if status != 200:
        churn.error(error_kind("CreatePod", status))
        return
    with churn.lock:
        churn.creates_ok += 1
    if args.wait:
        deadline = began + args.available_timeout
        while True:
            try:
                status, body = client.call("GET", f"/v3/pods/{pod_id}")
            except Exception as exc:
                churn.error(error_kind("GetPod (poll)", exc=exc))
                status, body = 0, None
            if status == 200:
                state = body["result"]["status"]
                if state == "AVAILABLE":
                    with churn.lock:
                        churn.available_s.append(time.perf_counter() - began)
                    break
                if state in ("ERROR", "COMPLETE"):
                    churn.error(f"pod ended {state}")
                    break
            elif status:
                churn.error(error_kind("GetPod (poll)", status))
            if time.perf_counter() > deadline:
                with churn.lock:
                    churn.not_available += 1
                break
            time.sleep(args.poll)
    began = time.perf_counter()
    try:
        status, _ = client.call("DELETE", f"/v3/pods/{pod_id}")
    except Exception as exc:
        churn.error(error_kind("DeletePod", exc=exc))
        return
    with churn.lock:
        churn.delete_s.append(time.perf_counter() - began)
    if status != 200:
        churn.error(error_kind("DeletePod", status))


def churn_worker(port: int, token: str, churn: Churn, args: argparse.Namespace, end: float) -> None:
    client = Client(port, token)
    try:
        while time.perf_counter() < end:
            cycle(client, churn, args)
            with churn.lock:
                churn.cycles += 1
    finally:
        client.close()


# -- setup and convergence --------------------------------------------------------------------


def wait_available(client: Client, pod_id: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status, body = client.call("GET", f"/v3/pods/{pod_id}")
        if status == 200 and body["result"]["status"] == "AVAILABLE":
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"stable pod {pod_id} not AVAILABLE: {status} {body}")
        time.sleep(0.1)


def listed_pods(clients: list[Client]) -> set[str]:
    """Every pod id the users can see (GET /v3/pods), failing on any error."""
    seen: set[str] = set()
    for client in clients:
        status, body = client.call("GET", "/v3/pods")
        if status != 200:
            raise RuntimeError(f"ListPods: {status} {body}")
        seen.update(pod["pod_id"] for pod in body["result"])
    return seen


def converge(
    stack: Stack, clients: list[Client], created: set[str], timeout: float, keep: int = 0
) -> tuple[float | None, int, int]:
    """Seconds until none of `created` is listed and only `keep` containers of the deployment
    are left (None if not within `timeout`), and the pods / containers left at the end."""
    began = time.monotonic()
    pods_left, containers_left = len(created), -1
    while time.monotonic() - began < timeout:
        try:
            pods_left = len(created & listed_pods(clients))
        except Exception:  # a loaded stack may fail a call; try again
            pods_left = len(created)
        containers_left = len(stack.containers()) - keep
        if pods_left == 0 and containers_left == 0:
            return time.monotonic() - began, 0, 0
        time.sleep(0.5)
    return None, pods_left, containers_left


# -- report -----------------------------------------------------------------------------------


def stats(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        **{f"p{p}_ms": round(percentile(values, p) * 1000, 2) for p in (50, 95, 99)},
        "max_ms": round(max(values) * 1000, 2),
    }


def stats_line(name: str, values: list[float]) -> str:
    s = stats(values)
    if not s["n"]:
        return f"{name:28} no samples"
    return (
        f"{name:28} n={s['n']:<6} p50 {s['p50_ms']:8.1f}  p95 {s['p95_ms']:8.1f}"
        f"  p99 {s['p99_ms']:8.1f}  max {s['max_ms']:8.1f} ms"
    )


def report(result: dict[str, Any]) -> None:
    print(f"machine: {result['machine']}")
    print(f"database: {result['database']}  settings: {result['settings']}")
    lat = result["_lat"]
    b = result["getpod_baseline"]
    print(
        f"GetPod baseline: {b['answered']}/{b['planned']} answered in {b['elapsed_s']:.1f} s"
        f" = {b['achieved_per_s']:g}/s (dropped {b['dropped']})"
    )
    print(stats_line("GetPod baseline", lat["getpod_baseline"]))
    print(stats_line("GetPod under soak", lat["getpod_soak"]))
    ratio = result["getpod_p99_ratio"]
    print(f"GetPod p99 under soak / baseline: {ratio:.2f}" if ratio else "GetPod p99 ratio: n/a")
    print("GetPod service time (send -> answer, no wait for a free client; not open-loop):")
    print(stats_line("  baseline", lat["service_baseline"]))
    print(stats_line("  under soak", lat["service_soak"]))
    print(stats_line("CreatePod call", lat["create"]))
    print(stats_line("DeletePod call", lat["delete"]))
    print(stats_line("create -> AVAILABLE seen", lat["available"]))
    for r in result["rounds"]:
        g, conv = r["getpod"], r["convergence"]
        print(
            f"round {r['round']}: GetPod {g['answered']}/{g['planned']} answered in"
            f" {g['elapsed_s']:.1f} s = {g['achieved_per_s']:g}/s (dropped {g['dropped']}),"
            f" p99 {g.get('p99_ms', float('nan')):.1f} ms"
        )
        print(
            f"  churn: {r['cycles']} cycles, {r['creates_ok']}/{r['creates_sent']} creates"
            f" accepted in {r['seconds']:.1f} s (to the last worker's last delete)"
            f" = {r['creates_per_s']:.2f} creates/s;"
            f" {r['not_available_in_time']} pods not AVAILABLE within the worker's wait"
        )
        if conv["seconds"] is not None:
            print(f"  convergence: {conv['pods']} pods gone, containers gone: {conv['seconds']} s")
        else:
            print(
                f"  convergence: NOT reached: {conv['pods_left']} pods still listed,"
                f" {conv['containers_left']} containers too many"
            )
    print(f"errors (target 0): {result['errors_total']}")
    for kind, count in sorted(result["errors"].items(), key=lambda kv: -kv[1]):
        print(f"  {count:6d}  {kind}")
    mem = result["memory"]
    names = list(mem["growth_mib"])
    print("memory, VmRSS MiB | CPU % of one core since the sample before:")
    print(f"{'sample':24}" + "".join(f" {n[:14]:>14}" for n in names))
    print(f"{'pid':24}" + "".join(f" {mem['processes'].get(n, '(admin)'):>14}" for n in names))
    print(f"{'command':24}" + "".join(f" {mem['commands'].get(n, '')[:14]:>14}" for n in names))
    for (label, values), cpu in zip(mem["samples"], mem["cpu_percent"], strict=True):
        cells = ""
        for n in names:
            rss = f"{values[n] / 1024:.1f}" if values.get(n) is not None else "gone"
            use = f"{cpu[n]:.0f}%" if cpu.get(n) is not None else ""
            cells += f" {rss + (' |' + use.rjust(4) if use else ''):>14}"
        print(f"{label:24}{cells}")
    growth = "".join(
        f" {g:+14.1f}" if g is not None else f" {'n/a':>14}" for g in mem["growth_mib"].values()
    )
    print(f"{'growth MiB (last-first)':24}{growth}")
    print("Envoy draining gauges per sample:")
    for (label, _), draining in zip(mem["samples"], mem["envoy_draining"], strict=True):
        print(f"  {label:24} {draining}")


def growth_mib(memory: Memory) -> dict[str, float | None]:
    first, last = memory.samples[0][1], memory.samples[-1][1]
    out: dict[str, float | None] = {}
    for name in first:
        a, b = first.get(name), last.get(name)
        out[name] = round((b - a) / 1024, 1) if a is not None and b is not None else None
    return out


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


def summarize(
    args: argparse.Namespace,
    baseline: dict[str, Any],
    rounds: list[tuple[Churn, dict[str, Any], float, set[str], tuple[float | None, int, int]]],
    memory: Memory,
) -> dict[str, Any]:
    """The figures of the run, as a JSON-ready dict (latencies in "_lat")."""
    errors: Counter[str] = Counter(baseline["errors"])
    soak_lat: list[float] = []
    soak_service: list[float] = []
    create_s: list[float] = []
    delete_s: list[float] = []
    available_s: list[float] = []
    per_round = []
    for number, (churn, soak, seconds, created, conv) in enumerate(rounds, 1):
        errors.update(churn.errors)
        errors.update(soak["errors"])
        soak_lat += soak["latencies"]
        soak_service += soak["service"]
        create_s += churn.create_s
        delete_s += churn.delete_s
        available_s += churn.available_s
        conv_s, pods_left, containers_left = conv
        per_round.append(
            {
                "round": number,
                "getpod": {
                    "planned": soak["planned"],
                    "answered": len(soak["latencies"]),
                    "dropped": soak["dropped"],
                    "elapsed_s": round(soak["elapsed"], 2),
                    "achieved_per_s": round(len(soak["latencies"]) / soak["elapsed"], 1),
                    **stats(soak["latencies"]),
                },
                "cycles": churn.cycles,
                "creates_sent": len(churn.created),
                "creates_ok": churn.creates_ok,
                "not_available_in_time": churn.not_available,
                "seconds": round(seconds, 2),
                "creates_per_s": round(churn.creates_ok / seconds, 2),
                "convergence": {
                    "pods": len(created),
                    "seconds": round(conv_s, 2) if conv_s is not None else None,
                    "pods_left": pods_left,
                    "containers_left": containers_left,
                },
            }
        )
    b99 = stats(baseline["latencies"]).get("p99_ms")
    s99 = stats(soak_lat).get("p99_ms")
    return {
        "machine": machine(),
        "database": args.database,
        "settings": (
            f"duration={args.duration:g}s concurrency={args.concurrency} rate={args.rate:g}/s"
            f" stable={args.stable} getpod_clients={args.getpod_clients}"
            f" baseline={args.baseline:g}s poll={args.poll:g}s wait={args.wait}"
            f" available_timeout={args.available_timeout:g}s rounds={args.rounds}"
        ),
        "getpod_baseline": {
            "planned": baseline["planned"],
            "answered": len(baseline["latencies"]),
            "dropped": baseline["dropped"],
            "elapsed_s": round(baseline["elapsed"], 2),
            "achieved_per_s": round(len(baseline["latencies"]) / baseline["elapsed"], 1),
            **stats(baseline["latencies"]),
        },
        "getpod_soak": stats(soak_lat),
        "getpod_service_baseline": stats(baseline["service"]),
        "getpod_service_soak": stats(soak_service),
        "getpod_p99_ratio": round(s99 / b99, 2) if b99 and s99 else None,
        "create": stats(create_s),
        "delete": stats(delete_s),
        "create_to_available": stats(available_s),
        "rounds": per_round,
        "errors_total": sum(errors.values()),
        "errors": dict(errors),
        "memory": {
            "processes": memory.processes,
            "commands": memory.commands,
            "samples": memory.samples,
            "envoy_draining": memory.draining,
            "cpu_percent": memory.cpu_percent(),
            "growth_mib": growth_mib(memory),
        },
        "_lat": {
            "getpod_baseline": baseline["latencies"],
            "getpod_soak": soak_lat,
            "service_baseline": baseline["service"],
            "service_soak": soak_service,
            "create": create_s,
            "delete": delete_s,
            "available": available_s,
        },
    }


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

"""Gateway throughput: what the pods port (TLS + a proxy hop) costs against a pod's own
published port, for PostgreSQL select-only load and for HTTP.

Starts a local stack, creates one `postgres` template pod and one pods-http pod, and reads
each pod's published loopback port from Docker (the gateway's upstream is that same port).
Then, path after path, --rounds times (reversed order every other round), with --clients
concurrent clients for --seconds each (the Python loops first warm up for 2 s, not counted):

PostgreSQL (a pgbench dataset of scale --scale, made with `pgbench -i` on the published port;
select-only: `SELECT abalance FROM pgbench_accounts WHERE aid = <random>`):
  direct          the published port, sslmode=disable (the pod's own server: the baseline)
  direct TLS      the published port, sslmode=require: the bench turns the pod's `ssl` on
                  first (the pods certificate written into PGDATA with COPY, ALTER SYSTEM,
                  pg_reload_conf), so the gateway paths are compared like for like
  gateway classic the pods port, host=<pod>.pods.localhost hostaddr=127.0.0.1
                  sslmode=require: SSLRequest first, then TLS, through the STARTTLS router
  gateway direct  the same with sslnegotiation=direct: TLS at once, routed by Envoy (SNI+ALPN)
  measured with a Python load loop (one process per client, one persistent psycopg2/libpq 17
  connection each, simple query protocol) on every path, and with the host's pgbench
  (`pgbench -S -n`, libpq 15: no sslnegotiation=direct) on the paths its libpq can take.

HTTP (GET / on the pods-http pod, i.e. busybox httpd): one process per client looping over
http.client requests with a keep-alive connection, reconnecting whenever the server closes;
busybox httpd answers `Connection: close`, so the direct path opens one TCP connection per
request:
  direct          plain HTTP to the published port
  gateway         HTTPS to the pods port (SNI and Host <pod>.pods.localhost, certificate
                  verified against the dev CA), keep-alive to Envoy
  bare Envoy      the same to a bare Envoy (bench/_bare_envoy.py: one TLS listener, one
                  route to the pod's published port, no access log): the floor of any
                  Envoy-based gateway, so gateway / bare Envoy is what our configuration costs

Prints transactions (requests) per second, p50/p99 latency, ratios to the direct path (and
for PostgreSQL to direct TLS), the CPU use of the STARTTLS router, of Envoy and of the whole
machine while each path ran, the CPU time per operation of the processes a path involves
(load generator, router, Envoy, the pod's container: a cost that does not depend on what else
runs on the machine, unlike the rates), and a summary of issue 14's ratios.
Usage: python bench/gateway_throughput.py [--seconds S] [--clients N] [--scale K] [--rounds R]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psycopg2
from _bare_envoy import bare_envoy
from _common import RestClient, Stack, machine, percentile, running_stack
from _cpu import children_cpu_seconds, container_cpu_seconds, cpu_seconds
from _http_load import MAX_OPS, HttpTarget, http_worker

DOMAIN = "pods.localhost"
PGBENCH = next(
    (
        p
        for p in ("/usr/lib/postgresql/15/bin/pgbench", shutil.which("pgbench"))
        if p and os.access(p, os.X_OK)
    ),
    None,
)
WARMUP = 2.0  # seconds between the workers' start and the measured window
QUERY = "SELECT abalance FROM pgbench_accounts WHERE aid = %s"


@dataclass
class Result:
    name: str
    ops: int  # transactions or requests completed in the measured windows
    seconds: float  # sum of the measured windows
    latencies: list[float] = field(default_factory=list)  # seconds; empty for pgbench
    note: str = ""
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of gateway processes
    wall: float = 0.0  # wall seconds over which `cpu` was taken
    connections: int | None = None  # HTTP: connections opened in the measured windows

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    def ms(self, p: float) -> str:
        return f"{percentile(self.latencies, p) * 1000:.2f}" if self.latencies else "-"

    def p99_ratio(self, base: Result) -> str:
        if not (self.latencies and base.latencies):
            return "-"
        return f"{percentile(self.latencies, 99) / percentile(base.latencies, 99):.2f}"

    def cpu_share(self, process: str) -> str:
        """The process's CPU use while this path ran, in % of one core."""
        return f"{100 * self.cpu.get(process, 0.0) / self.wall:.0f}%"

    def cpu_per_op(self) -> float:
        """CPU seconds per operation of the processes the path involves (clients, router,
        Envoy, pod), over the whole run (warm-up included, so slightly high for all paths)."""
        spent = sum(self.cpu.get(p, 0.0) for p in ("clients", "router", "envoy", "pod"))
        return spent / self.ops if self.ops else 0.0

    def add(self, other: Result) -> None:
        self.ops += other.ops
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.note = other.note
        for process, seconds in other.cpu.items():
            self.cpu[process] = self.cpu.get(process, 0.0) + seconds
        self.wall += other.wall
        if other.connections is not None:
            self.connections = (self.connections or 0) + other.connections


def measure(
    stack: Stack,
    rounds: int,
    paths: list[tuple[str, Callable[[], Result]]],
    pod: str,
    bare_envoy_pid: int | None = None,
) -> list[Result]:
    """Runs every path once per round (in reverse order every other round, so no path is
    always first), with the CPU use of the STARTTLS router, Envoy, the pod's container, the
    load generator and the whole machine during each run. The CPU time per operation of
    the processes a path involves does not depend on what else the machine runs, unlike
    the rate when others load the machine. A bare Envoy's CPU counts as Envoy's (only one of
    the two works at a time)."""
    pids = {"router": stack.pid_of("router"), "envoy": stack.pid_of("gateway"), "all": None}
    (container,) = stack.containers(pod)
    meters: dict[str, Callable[[], float]] = {
        p: partial(cpu_seconds, pid) for p, pid in pids.items()
    }
    if bare_envoy_pid is not None:
        envoys = (pids["envoy"], bare_envoy_pid)
        meters["envoy"] = lambda: sum(cpu_seconds(pid) for pid in envoys)
    meters["pod"] = partial(container_cpu_seconds, container.id)
    meters["clients"] = children_cpu_seconds
    results: dict[str, Result] = {}
    for round_ in range(rounds):
        for name, run in paths if round_ % 2 == 0 else paths[::-1]:
            before = {p: meter() for p, meter in meters.items()}
            began = time.monotonic()
            result = run()
            result.wall = time.monotonic() - began
            result.cpu = {p: meter() - before[p] for p, meter in meters.items()}
            if name in results:
                results[name].add(result)
            else:
                results[name] = result
    return [results[name] for name, _ in paths]


# --- load loops, one process per client ------------------------------------------------------


def _window(seconds: float) -> tuple[float, float]:
    start = time.monotonic() + WARMUP  # CLOCK_MONOTONIC is shared by the processes
    return start, start + seconds


def pg_worker(args: tuple[dict[str, Any], int, float, float]) -> tuple[int, list[float]]:
    """Select-only queries on one connection from start to end (monotonic); returns the
    count and latencies of those that began inside the window."""
    conninfo, accounts, start, end = args
    rng = random.Random()
    latencies: list[float] = []
    conn = psycopg2.connect(connect_timeout=10, **conninfo)
    try:
        conn.autocommit = True
        cur = conn.cursor()
        for _ in range(MAX_OPS):
            began = time.monotonic()
            if began >= end:
                break
            cur.execute(QUERY, (rng.randint(1, accounts),))
            if cur.fetchone() is None:
                raise RuntimeError("no such account")
            if began >= start:
                latencies.append(time.monotonic() - began)
    finally:
        conn.close()
    return len(latencies), latencies


def run_pg(name: str, conninfo: dict[str, Any], accounts: int, clients: int, secs: float) -> Result:
    start, end = _window(secs)
    with multiprocessing.Pool(clients) as pool:
        parts = pool.map(pg_worker, [(conninfo, accounts, start, end)] * clients)
    latencies = [x for _, lat in parts for x in lat]
    return Result(name, len(latencies), secs, latencies, "python/psycopg2")


def run_http(name: str, target: HttpTarget, clients: int, secs: float) -> Result:
    start, end = _window(secs)
    with multiprocessing.Pool(clients) as pool:
        parts = pool.map(http_worker, [(target, start, end)] * clients)
    latencies = [x for _, lat, _ in parts for x in lat]
    connections = sum(c for _, _, c in parts)
    return Result(name, len(latencies), secs, latencies, connections=connections)


def run_pgbench(name: str, env: dict[str, str], clients: int, secs: float) -> Result:
    """`pgbench -S` (select-only, simple protocol) for secs; TPS without connection time."""
    assert PGBENCH
    command = [PGBENCH, "-S", "-n", "-c", str(clients), "-j", str(min(clients, 2))]
    out = subprocess.run(
        [*command, "-T", str(round(secs))],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=secs + 60,
        check=True,
    ).stdout
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    latency = re.search(r"latency average = ([\d.]+) ms", out)
    if not tps:
        raise RuntimeError(f"no tps in pgbench output:\n{out}")
    note = (
        f"pgbench (libpq 15), last run's latency average {latency.group(1) if latency else '?'} ms"
    )
    return Result(name, round(float(tps.group(1)) * secs), secs, [], note)


# --- set-up ----------------------------------------------------------------------------------


def create_pod(rest: RestClient, body: dict[str, Any]) -> None:
    rest.call("POST", "/v3/pods", body)
    deadline = time.monotonic() + 120
    while rest.call("GET", f"/v3/pods/{body['pod_id']}")["result"]["status"] != "AVAILABLE":
        if time.monotonic() > deadline:
            raise TimeoutError(f"pod {body['pod_id']} never became AVAILABLE")
        time.sleep(0.1)


def published_port(stack: Stack, pod_id: str, port: int) -> int:
    (container,) = stack.containers(pod_id)
    return int(container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]["HostPort"])


def enable_ssl(conninfo: dict[str, Any], cert: Path, key: Path, container: Any) -> None:
    """Turns `ssl` on in the pod's server (superuser login): writes the certificate and key
    into the data directory with COPY (a line a row), makes them 0600 (COPY makes 0644 files,
    which the server refuses for a key) and reloads. Changes the pod's data only."""
    conn = psycopg2.connect(connect_timeout=10, **conninfo)
    try:
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("SHOW data_directory")
        row = cur.fetchone()
        assert row is not None
        for name, path in (("bench-server.crt", cert), ("bench-server.key", key)):
            cur.execute(
                "COPY (SELECT unnest(string_to_array(%s, E'\\n'))) TO %s",
                (path.read_text().rstrip("\n"), f"{row[0]}/{name}"),
            )
            container.exec_run(["chmod", "0600", f"{row[0]}/{name}"], user="postgres")
        cur.execute("ALTER SYSTEM SET ssl_cert_file = 'bench-server.crt'")
        cur.execute("ALTER SYSTEM SET ssl_key_file = 'bench-server.key'")
        cur.execute("ALTER SYSTEM SET ssl = on")
        cur.execute("SELECT pg_reload_conf()")
    finally:
        conn.close()


def wait_for_pg(conninfo: dict[str, Any]) -> str:
    """Waits until the server takes queries; returns its `ssl` setting."""
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = psycopg2.connect(connect_timeout=5, **conninfo)
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
            continue
        try:
            cur = conn.cursor()
            cur.execute("SHOW ssl")
            row = cur.fetchone()
            return str(row[0]) if row else "?"
        finally:
            conn.close()


def libpq_env(conninfo: dict[str, Any]) -> dict[str, str]:
    names = {
        "host": "PGHOST",
        "hostaddr": "PGHOSTADDR",
        "port": "PGPORT",
        "dbname": "PGDATABASE",
        "user": "PGUSER",
        "password": "PGPASSWORD",
        "sslmode": "PGSSLMODE",
    }
    return {names[k]: str(v) for k, v in conninfo.items()}


def table(title: str, results: list[Result], unit: str) -> None:
    base = results[0]
    tls = next((r for r in results if r.name == "direct (TLS)"), None)
    print(f"\n{title}")
    print(
        f"{'path':28} {unit + '/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'rate/direct':>11}"
        f" {'rate/TLS':>8} {'p99/direct':>10} {'router':>6} {'envoy':>6} {'all':>5}"
        f" {'cpu µs/op':>9} {'cost/TLS':>8}  how"
    )
    for r in results:
        print(
            f"{r.name:28} {r.rate:10.0f} {r.ms(50):>8} {r.ms(99):>8}"
            f" {r.rate / base.rate:11.2f} {f'{r.rate / tls.rate:.2f}' if tls else '-':>8}"
            f" {r.p99_ratio(base):>10} {r.cpu_share('router'):>6}"
            f" {r.cpu_share('envoy'):>6} {r.cpu_share('all'):>5}"
            f" {r.cpu_per_op() * 1e6:9.0f}"
            f" {f'{tls.cpu_per_op() / r.cpu_per_op():.2f}' if tls and r.cpu_per_op() else '-':>8}"
            f"  {r.note}" + ("" if r.connections is None else f"{r.connections} connections opened")
        )


def ratio(results: list[Result], path: str, base: str) -> str:
    """rate(path) / rate(base), and in brackets cpu(base) / cpu(path): the rate ratio the
    CPU cost per operation predicts on a machine the bench has to itself."""
    by_name = {r.name: r for r in results}
    if path not in by_name or base not in by_name:
        return "-"
    a, b = by_name[path], by_name[base]
    cost = f"{b.cpu_per_op() / a.cpu_per_op():.2f}" if a.cpu_per_op() else "-"
    return f"{a.rate / b.rate:.2f} ({cost})"


def summary(python_pg: list[Result], pgbench: list[Result], http: list[Result]) -> None:
    """Issue 14's figures, each a ratio of two paths measured in this run."""
    print(
        "\nissue 14 ratios: rate of the path / rate of the base (in brackets: CPU per operation"
        " of the base / of the path, the same ratio without the other load on the machine):"
    )
    for label, results in (("python loop", python_pg), ("pgbench -S", pgbench)):
        for path in ("gateway classic (STARTTLS)", "gateway direct TLS (Envoy)"):
            if path in {r.name for r in results}:
                print(
                    f"  PostgreSQL {label:11} {path:28} / direct TLS"
                    f" {ratio(results, path, 'direct (TLS)'):>12}"
                    f"   / plain {ratio(results, path, 'direct (plain)'):>12}"
                )
    print(
        f"  HTTPS through the pods port / direct HTTP"
        f" {ratio(http, 'gateway (HTTPS)', 'direct (plain HTTP)'):>12}"
        f"   / a bare Envoy {ratio(http, 'gateway (HTTPS)', 'bare Envoy (HTTPS)'):>12}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per path")
    parser.add_argument("--clients", type=int, default=4, help="concurrent connections")
    parser.add_argument("--scale", type=int, default=1, help="pgbench scale factor")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each path")
    args = parser.parse_args()
    clients, secs, rounds = args.clients, args.seconds, args.rounds

    print(f"machine: {machine()}")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with running_stack() as stack:
        pods_port = int(stack.env["PODS_PODS_PORT"])
        cafile = str(Path(stack.data_dir) / "gateway" / "tls" / "ca.pem")
        suffix = uuid.uuid4().hex[:8]
        pg_id, web_id = f"benchpg{suffix}", f"benchweb{suffix}"
        rest = RestClient(stack)
        try:
            create_pod(rest, {"pod_id": pg_id, "template": "postgres"})
            create_pod(rest, {"pod_id": web_id, "image": "pods-http:latest"})
            creds = rest.call("GET", f"/v3/pods/{pg_id}/credentials")["result"]
        finally:
            rest.close()

        login = {
            "dbname": "postgres",
            "user": creds["user_username"],
            "password": creds["user_password"],
        }
        pg_port = published_port(stack, pg_id, 5432)
        direct = {**login, "host": "127.0.0.1", "port": pg_port, "sslmode": "disable"}
        gateway = {
            **login,
            "host": f"{pg_id}.{DOMAIN}",
            "hostaddr": "127.0.0.1",
            "port": pods_port,
            "sslmode": "require",
        }
        wait_for_pg(direct)
        tls_dir = Path(stack.data_dir) / "gateway" / "tls"
        (container,) = stack.containers(pg_id)
        enable_ssl(direct, tls_dir / "pods.pem", tls_dir / "pods-key.pem", container)
        pg_ssl = wait_for_pg({**direct, "sslmode": "require"})
        print(f"pod's PostgreSQL has ssl={pg_ssl}")
        if not PGBENCH:
            raise SystemExit("pgbench is needed for `pgbench -i`")
        subprocess.run(
            [PGBENCH, "-i", "-q", "-s", str(args.scale)],
            env={**os.environ, **libpq_env(direct)},
            capture_output=True,
            check=True,
            timeout=300,
        )
        accounts = 100_000 * args.scale

        pg_paths: list[tuple[str, dict[str, Any]]] = [("direct (plain)", direct)]
        if pg_ssl == "on":
            pg_paths.append(("direct (TLS)", {**direct, "sslmode": "require"}))
        pg_paths += [
            ("gateway classic (STARTTLS)", gateway),
            ("gateway direct TLS (Envoy)", {**gateway, "sslnegotiation": "direct"}),
        ]
        python_pg = measure(
            stack,
            rounds,
            [(n, partial(run_pg, n, c, accounts, clients, secs)) for n, c in pg_paths],
            pg_id,
        )
        pgbench = measure(
            stack,
            rounds,
            [
                (n, partial(run_pgbench, n, libpq_env(c), clients, secs))
                for n, c in pg_paths
                if "sslnegotiation" not in c  # libpq 15 cannot
            ],
            pg_id,
        )
        web_port = published_port(stack, web_id, 5000)
        with bare_envoy(tls_dir, web_port, Path(stack.data_dir)) as (bare_port, bare_pid):
            web_targets = {
                "direct (plain HTTP)": HttpTarget(web_port, f"127.0.0.1:{web_port}"),
                "gateway (HTTPS)": HttpTarget(pods_port, f"{web_id}.{DOMAIN}", cafile),
                "bare Envoy (HTTPS)": HttpTarget(bare_port, f"{web_id}.{DOMAIN}", cafile),
            }
            paths: list[tuple[str, Callable[[], Result]]] = [
                (n, partial(run_http, n, t, clients, secs)) for n, t in web_targets.items()
            ]
            http_results = measure(stack, rounds, paths, web_id, bare_pid)
        print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    print(
        f"\n{clients} clients; each path {rounds}x {secs:g} s (after a {WARMUP:g} s warm-up for"
        " the Python loops); router/envoy/all: CPU use while the path ran, % of one core (all: the"
        f" machine's {os.cpu_count()} cores, load generator included)"
    )
    table(f"PostgreSQL select-only, scale {args.scale}, Python loop", python_pg, "tx")
    table(f"PostgreSQL select-only, scale {args.scale}, pgbench -S", pgbench, "tx")
    table("HTTP GET / on pods-http (busybox httpd)", http_results, "req")
    summary(python_pg, pgbench, http_results)


if __name__ == "__main__":
    main()

"""Route update latency after one pod's change, at N routes, with Envoy's memory.

No containers: routes come from pod records. For each N of --routes this script
- fills a fresh SQLite database with N pods through the repositories (create_pod, then
  record_observation AVAILABLE with a published port), every pod's port being one local HTTP
  listener standing in as every pod's upstream;
- starts a real Envoy on the bootstrap of gateway/envoy_config.py watching the xds files, and the
  real route keeper of the pod router (gateway/route_keeper.py: `keep_routes`, with its refresh
  interval, default 1 s) on that database. NATS is not involved: the bench sets the keeper's
  wake-up event, as the router's event handler does on a pod event (so the 50 ms coalescing is
  counted);
- publishes the N routes and waits until Envoy has applied them (the initial load);
- --changes times: adds one AVAILABLE pod (create_pod + record_observation, as the api and
  health do), wakes the keeper and polls the pods port with a real TLS request (SNI and Host of
  the new pod) until it answers 200 from the upstream: "change → served";
- reports the keeper's build+publish time of each refresh (RouteReporter), the time of a
  refresh with nothing changed, Envoy's RSS (/proc) and admin /memory (allocated, heap).

Prints one block per N and the ratios of the largest N to the smallest.
Wall times depend on the machine's load; the CPU seconds Envoy spends per change (from /proc)
much less so: compare those between runs on a shared machine.
Usage: python bench/route_update.py [--routes 1000,10000] [--changes 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.server
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root

from gateway import envoy_config as ec
from gateway import xds_files
from gateway.certs import tls_files
from gateway.envoy_binary import base_id_for_port, find_envoy, run_command
from gateway.pods_http import HTTP_STATS, ROUTE_CONFIG
from gateway.pods_listener import PodsListenerOptions
from gateway.route_keeper import RouteKeeper, keep_routes
from gateway.route_source import published_upstream
from gateway.routes import RouteTable
from services.common.db.database import Repositories
from services.common.db.migrate import upgrade
from services.common.pods_model import ContainerStatus, PodSpec, Status
from services.common.runtime.types import PodKey
from tests.ports import reserve_ports

DOMAIN = "pods.bench"
POD_PORT = 5000
POLL_DEADLINE = 900.0  # an overloaded machine at 10k routes (the old code) needs minutes


class Upstream(http.server.BaseHTTPRequestHandler):
    """Every pod's upstream: answers 200 and the Host it was asked for."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = f"pod {self.headers.get('Host', '')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def upstream_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Reporter:
    """The keeper's RouteReporter: every publication's build+publish seconds."""

    seconds: list[float] = field(default_factory=list)

    def published(self, routes: int, serving: int, seconds: float) -> None:
        self.seconds.append(seconds)


@dataclass
class Figures:
    n: int
    fill_s: float
    initial_s: float  # first refresh + Envoy applying it
    initial_cpu_s: float  # Envoy's CPU seconds for it
    idle_refresh_ms: float  # a refresh with nothing changed
    served_ms: list[float]  # change → first 200
    envoy_cpu_ms: list[float]  # Envoy's CPU milliseconds from the change to the first 200
    keeper_cpu_ms: list[float]  # this process's CPU (keeper, poller) in the same time
    publish_ms: list[float]  # the keeper's build+publish of the refresh carrying the change
    lds_bytes: int
    cds_bytes: int
    rds_bytes: int
    rss_mib: float
    allocated_mib: float
    heap_mib: float


def now() -> datetime:
    return datetime.now(UTC)


async def add_available_pod(repos: Repositories, pod_id: str, upstream_port: int) -> None:
    key = PodKey("dev", pod_id)
    await repos.pods.create_pod(
        key, owner="bench", spec=PodSpec(image="img"), credentials_encrypted=None, now=now()
    )
    container = ContainerStatus(phase="running", ready=True, published={POD_PORT: upstream_port})
    await repos.pod_state.record_observation(key, Status.AVAILABLE, container, now())


def get(port: int, ca: Path, host: str) -> int:
    """One TLS request to the pods port with SNI and Host `host`; the HTTP status, read from
    the status line (not at the end of the stream: after a reply of its own, such as the 404
    for a name not routed yet, Envoy waits up to its delayed-close timeout, 1 s, for the client
    to close first)."""
    context = ssl.create_default_context(cafile=str(ca))
    context.set_alpn_protocols(["http/1.1"])
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        with context.wrap_socket(raw, server_hostname=host) as sock:
            sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while b"\r\n" not in data and (chunk := sock.recv(65536)):
                data += chunk
        return int(data.split(b" ", 2)[1])
    except (ssl.SSLError, OSError, IndexError, ValueError):
        return 0
    finally:
        raw.close()


def wait_served(port: int, ca: Path, host: str) -> float:
    """Polls until `host` answers 200; the monotonic time it did."""
    deadline = time.monotonic() + POLL_DEADLINE
    while time.monotonic() < deadline:
        if get(port, ca, host) == 200:
            return time.monotonic()
        time.sleep(0.002)
    raise TimeoutError(f"{host} not served within {POLL_DEADLINE} s")


def admin_json(admin_port: int, path: str) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}{path}", timeout=10) as reply:
        parsed = json.loads(reply.read())
    assert isinstance(parsed, dict)
    return parsed


def versions(admin_port: int) -> tuple[str, str, str]:
    """The CDS, RDS (the shared HTTP chain's routes) and LDS versions Envoy applied."""
    url = f"http://127.0.0.1:{admin_port}/stats?filter=version_text"
    with urllib.request.urlopen(url, timeout=10) as reply:
        text = reply.read().decode()
    found = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    return (
        found.get("cluster_manager.cds.version_text", "").strip('"'),
        found.get(f"http.{HTTP_STATS}.rds.{ROUTE_CONFIG}.version_text", "").strip('"'),
        found.get("listener_manager.lds.version_text", "").strip('"'),
    )


def file_versions(xds_dir: Path) -> tuple[str, str, str]:
    def one(name: str) -> str:
        path = xds_dir / name
        return str(json.loads(path.read_text())["version_info"]) if path.exists() else ""

    return one(ec.CDS_FILE), one(ec.RDS_FILE), one(ec.LDS_FILE)


def spawn(command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used: load-independent, unlike wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(n: int, changes: int, refresh: float, tmp: Path) -> Figures:
    url = f"sqlite+aiosqlite:///{tmp / 'pods.db'}"
    await asyncio.to_thread(upgrade, url)
    repos = Repositories.open(url)
    with upstream_server() as upstream_port:
        start = time.monotonic()
        for i in range(n):
            await add_available_pod(repos, f"p{i:06d}", upstream_port)
        fill_s = time.monotonic() - start

        pods_port, admin_port, router_port = reserve_ports(3)
        tls = tls_files(tmp / "tls", DOMAIN)
        ca = tls.ca
        assert ca is not None  # the development CA
        options = PodsListenerOptions(
            port=pods_port, tls=tls, router_port=router_port, pod_domain=DOMAIN
        )
        xds_dir = tmp / "xds"
        assert xds_files.publish(xds_dir, RouteTable(routes={}), options).published
        config = tmp / "envoy.yaml"
        bootstrap = ec.bootstrap(admin_port=admin_port, listeners=[], clusters=[], xds_dir=xds_dir)
        config.write_text(xds_files.render(bootstrap))
        command = run_command(
            find_envoy(), config, base_id=base_id_for_port(pods_port), log_level="warning"
        )
        envoy = spawn(command, tmp / "envoy.log")
        reporter = Reporter()
        keeper = RouteKeeper(repos.pods, DOMAIN, xds_dir, options, published_upstream, reporter)
        loop_task: asyncio.Task[None] | None = None
        try:
            await wait_for(lambda: versions(admin_port) == file_versions(xds_dir), "empty snapshot")
            start, cpu0 = time.monotonic(), cpu_s(envoy.pid)
            await keeper.refresh()
            await wait_for(lambda: versions(admin_port) == file_versions(xds_dir), "initial load")
            initial_s, initial_cpu_s = time.monotonic() - start, cpu_s(envoy.pid) - cpu0
            assert await asyncio.to_thread(get, pods_port, ca, f"p000000.{DOMAIN}") == 200

            start = time.monotonic()
            await keeper.refresh()
            idle_refresh_ms = (time.monotonic() - start) * 1000

            wake = asyncio.Event()
            loop_task = asyncio.create_task(keep_routes(keeper, wake, refresh))
            served_ms: list[float] = []
            publish_ms: list[float] = []
            envoy_cpu_ms: list[float] = []
            keeper_cpu_ms: list[float] = []
            for i in range(changes):
                await asyncio.sleep(refresh / 2)  # let a periodic refresh pass
                host = f"new{i:03d}.{DOMAIN}"
                await add_available_pod(repos, f"new{i:03d}", upstream_port)
                published_before = len(reporter.seconds)
                start, cpu0, own0 = time.monotonic(), cpu_s(envoy.pid), time.process_time()
                wake.set()
                served = await asyncio.to_thread(wait_served, pods_port, ca, host)
                served_ms.append((served - start) * 1000)
                envoy_cpu_ms.append((cpu_s(envoy.pid) - cpu0) * 1000)
                keeper_cpu_ms.append((time.process_time() - own0) * 1000)
                carried = reporter.seconds[published_before:]
                publish_ms.append(carried[0] * 1000 if carried else float("nan"))
                print(
                    f"  N={n} change {i}: served after {served_ms[-1]:.0f} ms "
                    f"(keeper build+publish {publish_ms[-1]:.0f} ms; CPU: Envoy "
                    f"{envoy_cpu_ms[-1]:.0f} ms, keeper+poller {keeper_cpu_ms[-1]:.0f} ms)",
                    flush=True,
                )
            memory = admin_json(admin_port, "/memory")
            return Figures(
                n=n,
                fill_s=fill_s,
                initial_s=initial_s,
                initial_cpu_s=initial_cpu_s,
                idle_refresh_ms=idle_refresh_ms,
                served_ms=served_ms,
                envoy_cpu_ms=envoy_cpu_ms,
                keeper_cpu_ms=keeper_cpu_ms,
                publish_ms=publish_ms,
                lds_bytes=(xds_dir / ec.LDS_FILE).stat().st_size,
                cds_bytes=(xds_dir / ec.CDS_FILE).stat().st_size,
                rds_bytes=(xds_dir / ec.RDS_FILE).stat().st_size,
                rss_mib=rss_mib(envoy.pid),
                allocated_mib=int(str(memory["allocated"])) / 2**20,
                heap_mib=int(str(memory["heap_size"])) / 2**20,
            )
        finally:
            if loop_task is not None:
                loop_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop_task
            envoy.terminate()
            try:
                envoy.wait(timeout=30)
            except subprocess.TimeoutExpired:  # busy loading a large listener
                envoy.kill()
                envoy.wait(timeout=30)
            await repos.close()


async def wait_for(check: object, what: str, deadline_s: float = POLL_DEADLINE) -> None:
    assert callable(check)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError):
            if await asyncio.to_thread(check):
                return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"{what}: not applied by Envoy within {deadline_s} s")


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    return f"nproc={os.cpu_count()}  cpu={cpu}  kernel={os.uname().release}"


def report(f: Figures) -> None:
    print(
        f"N={f.n}: fill {f.fill_s:.1f} s, initial publish+apply {f.initial_s:.2f} s "
        f"(Envoy CPU {f.initial_cpu_s:.1f} s), idle refresh {f.idle_refresh_ms:.0f} ms"
    )
    print(
        f"  change → served: median {statistics.median(f.served_ms):.0f} ms "
        f"(max {max(f.served_ms):.0f}); keeper build+publish median "
        f"{statistics.median(f.publish_ms):.0f} ms; CPU per change: Envoy median "
        f"{statistics.median(f.envoy_cpu_ms):.0f} ms, keeper+poller "
        f"{statistics.median(f.keeper_cpu_ms):.0f} ms"
    )
    print(
        f"  files: lds {f.lds_bytes / 2**20:.2f} MiB, cds {f.cds_bytes / 2**20:.1f} MiB, "
        f"rds {f.rds_bytes / 2**20:.1f} MiB; "
        f"Envoy RSS {f.rss_mib:.0f} MiB, allocated {f.allocated_mib:.0f} MiB, "
        f"heap {f.heap_mib:.0f} MiB",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", default="1000,10000", help="comma-separated route counts")
    parser.add_argument("--changes", type=int, default=5, help="one-pod changes per count")
    parser.add_argument("--refresh", type=float, default=1.0, help="the keeper's interval (s)")
    args = parser.parse_args()
    sizes = [int(x) for x in args.routes.split(",")]
    print(machine())
    print("start:", load(), flush=True)
    results: list[Figures] = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix=f"route-bench-{n}-") as tmp:
            results.append(asyncio.run(measure(n, args.changes, args.refresh, Path(tmp))))
        report(results[-1])
    print("end:", load())
    if len(results) > 1:
        small, large = results[0], results[-1]
        ratio = statistics.median(large.served_ms) / statistics.median(small.served_ms)
        cpu = statistics.median(large.envoy_cpu_ms) / statistics.median(small.envoy_cpu_ms)
        print(f"Envoy CPU per change at N={large.n} ÷ at N={small.n}: {cpu:.2f}")
        print(
            f"change → served at N={large.n} ÷ at N={small.n}: {ratio:.2f}; "
            f"Envoy RSS {large.rss_mib / small.rss_mib:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What bench/soak.py samples of the stack's processes: the processes under scripts/up, their
resident memory (VmRSS) and CPU time from /proc, and Envoy's own heap figures and draining
filter chains from its admin port. bench/soak.py samples them (Memory) before, during and
after the load; bench/soak_report.py prints them."""

from __future__ import annotations

import http.client
import itertools
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import Stack

TICKS = os.sysconf("SC_CLK_TCK")


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

"""CPU time of the processes a benchmark path involves, read from /proc, getrusage and the
containers' cgroups. Used by bench/gateway_throughput.py."""

from __future__ import annotations

import os
import resource
from pathlib import Path


def cpu_seconds(pid: int | None) -> float:
    """utime + stime of a process (all its threads), or with None the busy time of the whole
    machine (all cores: everything but idle and iowait), from /proc."""
    if pid is None:
        ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = sum(ticks) - ticks[3] - ticks[4]
    else:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        busy = int(fields[11]) + int(fields[12])
    return busy / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time of this bench's finished children: the load loops' workers and pgbench."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def container_cpu_seconds(container_id: str) -> float:
    """CPU time of a container's cgroup (v1 cpuacct or v2), or 0 when neither is readable."""
    v1 = Path(f"/sys/fs/cgroup/cpuacct/docker/{container_id}/cpuacct.usage")
    if v1.exists():
        return int(v1.read_text()) / 1e9
    v2 = Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cpu.stat")
    if v2.exists():
        usec = v2.read_text().split("usage_usec ", 1)[1].split()[0]
        return int(usec) / 1e6
    return 0.0

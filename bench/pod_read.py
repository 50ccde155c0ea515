"""CPU and wall time of the reads of one pod, in this process, on a fresh migrated SQLite
file: the one every API call on a pod starts with (the pod and the caller's grant:
`PodRepository.pod_and_level`), and the spawner's and health's (`PodRepository.get_pod`: every
reconcile step and every observation starts with it), and a watcher's read of a pod's latest
change (`PodChangeRepository.pod_changes`: after every wake-up of WatchPod).

No stack: the figure is the api's own database cost per GetPod, measured as process CPU time,
which other work on the machine disturbs far less than latencies. Run it on two checkouts to
compare them (BENCHMARKS.md, issue 14). Prints the median of --rounds rounds of --calls calls.
Usage: python bench/pod_read.py [--calls N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from _common import per_call

from services.common.db.database import Repositories
from services.common.db.migrate import upgrade_async
from services.common.pods_model import PodSpec
from services.common.runtime.types import PodKey


async def measure(calls: int, rounds: int, read: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="pods-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'pods.db'}"
        await upgrade_async(url)
        store = Repositories.open(url)
        try:
            key = PodKey("dev", "bench")
            spec = PodSpec(image="pods-http:latest")
            now = datetime.now(UTC)
            await store.pods.create_pod(
                key, owner="alice", spec=spec, credentials_encrypted=None, now=now
            )
            reads: dict[str, Callable[[], Awaitable[object]]] = {
                "pod_and_level": partial(store.pods.pod_and_level, key, "alice"),
                "get_pod": partial(store.pods.get_pod, key),
                "pod_changes": partial(store.changes.pod_changes, key, None),
            }
            once = reads[read]
            for _ in range(200):
                assert await once() is not None
            return await per_call(once, calls, rounds)
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    for read in ("pod_and_level", "get_pod", "pod_changes"):
        cpu, wall = asyncio.run(measure(args.calls, args.rounds, read))
        print(f"{read} on SQLite: {cpu * 1000:.3f} ms CPU, {wall * 1000:.3f} ms wall per call")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()

"""CPU and wall time of health's write of what it observed (`PodStateRepository.
record_observation`: CREATING, then AVAILABLE, on every pod's way to AVAILABLE), in this
process, on a fresh migrated SQLite file. Each call changes the status (alternating CREATING
and AVAILABLE), so each one writes the row and a change feed row.

No stack: the figure is health's own database cost per status change, measured as process
CPU time, which other work on the machine disturbs far less than latencies. Run it on two
checkouts to compare them (BENCHMARKS.md, issue 14). Prints the median of --rounds rounds.
Usage: python bench/pod_write.py [--calls N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from _common import per_call

from services.common.db.database import Repositories
from services.common.db.migrate import upgrade_async
from services.common.pods_model import ContainerStatus, PodSpec, Status
from services.common.runtime.types import PodKey


async def measure(calls: int, rounds: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="pods-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'pods.db'}"
        await upgrade_async(url)
        store = Repositories.open(url)
        try:
            key = PodKey("dev", "bench")
            now = datetime.now(UTC)
            await store.pods.create_pod(
                key,
                owner="alice",
                spec=PodSpec(image="pods-http:latest"),
                credentials_encrypted=None,
                now=now,
            )
            states = itertools.cycle(
                [
                    (Status.CREATING, ContainerStatus(phase="running", ready=False)),
                    (Status.AVAILABLE, ContainerStatus(phase="running", ready=True)),
                ]
            )

            async def change() -> None:
                status, container = next(states)
                assert await store.pod_state.record_observation(key, status, container, now)

            await per_call(change, calls, 1)  # warm-up, not counted
            return await per_call(change, calls, rounds)
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    cpu, wall = asyncio.run(measure(args.calls, args.rounds))
    print(f"record_observation on SQLite: {cpu * 1000:.3f} ms CPU, {wall * 1000:.3f} ms wall")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()

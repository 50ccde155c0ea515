"""The reads behind ListPods, WatchPods and health's resync at N pods, straight on the
repositories (no gateway, no protobuf conversion), on SQLite and a fresh PostgreSQL database:
what each read costs now against what the same call read before issue 14, in one run.

N pods of one user (created through PodRepository.create_pod, so their grant and change
rows are real), then, as that (non-admin) user:
- ListPods: a keyset page of 100 from a random position (`pods_page`, the permission join
  in SQL) against the whole listing (`readable_pods`, what every ListPods returned before);
- WatchPods' read on each wake: the mark and the readable changes after a recent cursor
  (`readable_mark` + `tenant_changes(reader=...)`) against listing every pod again;
- health's resync read: the pods in motion (`pods_in_motion`) against every pod
  (`list_all_pods`, what every resync read before).

Usage: python bench/list_pages_db.py [--pods 10000] [--database sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common  # noqa: F401 (puts the repo on sys.path)
import asyncpg
from sqlalchemy import text

from services.common.db.codec import spec_to_json
from services.common.db.database import Repositories
from services.common.db.migrate import upgrade_async
from services.common.db.models import PodPermissionRow, PodRow
from services.common.pods_model import PodSpec

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
NOW = datetime.now(UTC)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


async def timed(call: Callable[[], Awaitable[Any]], times: int) -> list[float]:
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        await call()
        seconds.append(time.perf_counter() - started)
    return sorted(seconds)


def p(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q / 100 * len(values)))] * 1000


async def fill(store: Repositories, count: int) -> list[str]:
    """`count` pods of alice, each with its owner grant and first change row (the change
    feed's hook writes it), inserted in batches of 1000: rows as create_pod writes them."""
    ids = [f"pod{n:05}" for n in range(count)]
    spec = spec_to_json(PodSpec(image="pods-http:latest"))
    for start in range(0, count, 1000):
        async with store.sessions.begin() as session:
            for pod_id in ids[start : start + 1000]:
                session.add(
                    PodRow(
                        tenant_id="dev",
                        pod_id=pod_id,
                        owner="alice",
                        spec=spec,
                        status_requested="ON",
                        status="AVAILABLE",
                        status_container={},
                        generation=1,
                        observed_generation=1,
                        deletion_requested=False,
                        action_logs=["created"],
                        log_cursor="",
                        creation_ts=NOW,
                        update_ts=NOW,
                        status_changed_ts=NOW,
                    )
                )
                session.add(
                    PodPermissionRow(
                        tenant_id="dev", pod_id=pod_id, username="alice", level="ADMIN"
                    )
                )
    return ids


async def measure(url: str, label: str, count: int) -> None:
    await upgrade_async(url)
    store = Repositories.open(url)
    try:
        started = time.perf_counter()
        ids = await fill(store, count)
        print(f"[{label}] {count} pods created in {time.perf_counter() - started:.0f} s")
        if label == "postgres":  # as autovacuum would soon after so many inserts
            async with store.engine.connect() as connection:
                await connection.execute(text("ANALYZE"))
                await connection.commit()

        async def mark() -> None:
            await store.pods.readable_mark("dev", "alice")

        async def recent() -> None:
            await store.changes.tenant_changes("dev", cursor, "alice")

        rng = random.Random(14)
        pages = await timed(lambda: store.pods.pods_page("dev", "alice", rng.choice(ids), 101), 300)
        full = await timed(lambda: store.pods.readable_pods("dev", "alice"), 5)
        cursor = await store.changes.last_change_id("dev") - 3

        async def wake() -> None:
            await store.pods.readable_mark("dev", "alice")
            await store.changes.tenant_changes("dev", cursor, "alice")

        wakes = await timed(wake, 300)
        marks, changes = await timed(mark, 100), await timed(recent, 100)
        parts = f"the mark p50 {p(marks, 50):.2f} ms, the changes {p(changes, 50):.2f} ms"
        print(f"[{label}]   of which {parts}")
        motion = await timed(lambda: store.pods.pods_in_motion(NOW), 5)
        everything = await timed(store.pods.list_all_pods, 5)
        page = f"p50 {p(pages, 50):7.2f} ms  p99 {p(pages, 99):7.2f} ms"
        print(f"[{label}] ListPods page of 100       {page}")
        print(f"[{label}] the whole listing (before)  median {p(full, 50):7.1f} ms")
        print(f"[{label}]   ratio page p99 ÷ whole listing: {p(pages, 99) / p(full, 50):.3f}")
        wake_text = f"p50 {p(wakes, 50):7.2f} ms  p99 {p(wakes, 99):7.2f} ms"
        print(f"[{label}] WatchPods wake read         {wake_text}")
        print(
            f"[{label}]   before: a whole listing per wake, ratio {p(wakes, 50) / p(full, 50):.3f}"
        )
        print(
            f"[{label}] health resync read: in motion {p(motion, 50):7.1f} ms  "
            f"every pod (before) {p(everything, 50):7.1f} ms"
        )
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    print(f"load at start: {uptime()}")
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await measure(f"sqlite+aiosqlite:///{Path(tmp) / 'pods.db'}", "sqlite", args.pods)
    if args.database in ("postgres", "both"):
        name = f"pods_bench_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        try:
            await measure(
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", "postgres", args.pods
            )
        finally:
            admin = await asyncpg.connect(PG_ADMIN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    print(f"load at end: {uptime()}")


if __name__ == "__main__":
    asyncio.run(main())

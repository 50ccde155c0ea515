"""The api's Python memory for one REST GetPodLogs answer of a big log, whole against streamed,
on the repositories and the body builder alone (no gateway, no gRPC): deterministic where the
process RSS printed by bench/pod_logs.py is not (glibc keeps freed memory, gRPC's buffers are
not Python's).

Fills a fresh SQLite database with --mb MB of output for one pod, appended through
LogRepository.append_logs in --chunk-kb pieces (as health stores what each read finds), then,
--runs times each, builds the whole JSON body the two ways and consumes it chunk by chunk:
- whole: `read_logs` (the chunks joined) escaped into the envelope, what the api did before;
- streamed: `log_window` + `read_log_batch` a batch (~1 MiB) at a time (domain/log_pieces.py),
  what StreamPodLogs does now.
Prints, for each, the peak of Python allocations during the call (tracemalloc) and the time,
and checks that both bodies are the same bytes.

Usage: python bench/logs_memory.py [--mb 10] [--chunk-kb 64] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import _common

from services.api.domain.log_pieces import stream_logs
from services.api.transport.logs_body import logs_json_chunks
from services.common.db.database import Repositories
from services.common.db.migrate import upgrade_async
from services.common.pods_model import PodSpec
from services.common.runtime.types import PodKey

KEY = PodKey("dev", "bigpod")
LINE = 'the quick brown fox jumps over the lazy dog 0123456789 \\ " tab\tend\n'
MESSAGE = "Logs of pod 'bigpod'."


async def fill(store: Repositories, total: int, chunk: int) -> None:
    await store.pods.create_pod(
        KEY,
        owner="alice",
        spec=PodSpec(image="pods-http:latest"),
        credentials_encrypted=None,
        now=datetime.now(UTC),
    )
    run, cursor = await store.logs.log_position(KEY) or (0, "")
    text = (LINE * (chunk // len(LINE) + 1))[:chunk]
    for number in range(total // chunk):
        after, cursor = cursor, f"c{number}"
        await store.logs.append_logs(
            KEY, text, run=run, after=after, cursor=cursor, limit_bytes=total
        )


async def one_piece(text: str) -> AsyncIterator[str]:
    yield text


async def whole(store: Repositories, limit: int) -> bytes:
    text = await store.logs.read_logs(KEY, limit)
    return await consume(logs_json_chunks(one_piece(text), [], MESSAGE))


async def streamed(store: Repositories, limit: int) -> bytes:
    logs = await stream_logs(store.logs, KEY, (), limit, 0)
    return await consume(logs_json_chunks(logs.pieces, [], MESSAGE))


async def consume(chunks: AsyncIterator[bytes]) -> bytes:
    """Reads the body as gRPC sends it (one chunk at a time); returns its digest."""
    digest = hashlib.sha256()
    async for chunk in chunks:
        digest.update(chunk)
    return digest.digest()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=10)
    parser.add_argument("--chunk-kb", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    total = int(args.mb * 1e6)
    print(_common.machine())
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'pods.db'}"
        await upgrade_async(url)
        store = Repositories.open(url)
        try:
            await fill(store, total, args.chunk_kb * 1024)
            digests = set()
            print(f"{args.mb:g} MB in {args.chunk_kb} KiB chunks, {args.runs} runs each")
            for name, build in (("whole", whole), ("streamed", streamed)):
                peaks, times = [], []
                for _ in range(args.runs):
                    tracemalloc.start()
                    started = time.perf_counter()
                    digests.add(await build(store, total))
                    times.append(time.perf_counter() - started)
                    peaks.append(tracemalloc.get_traced_memory()[1])
                    tracemalloc.stop()
                print(
                    f"{name:9} peak {max(peaks) / 2**20:6.1f} MiB"
                    f"  median {sorted(times)[len(times) // 2] * 1000:7.1f} ms (under tracemalloc)"
                )
            print("same body both ways:", len(digests) == 1)
        finally:
            await store.close()


if __name__ == "__main__":
    asyncio.run(main())

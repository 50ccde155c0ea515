"""ChunkStream cancelled mid-read (services/common/storage/chunks.py): a caller that goes away
while a worker thread reads a chunk (the API's client disconnecting, or the spawner's gRPC
call cancelled) must not close the chunks under that thread; closing waits for the read."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from services.common.storage.chunks import ChunkStream, FileChunks


async def test_a_cancelled_read_ends_before_the_chunks_are_closed() -> None:
    reading = threading.Event()
    release = threading.Event()
    events: list[str] = []

    def pieces() -> Iterator[bytes]:
        yield b"first"
        events.append("read started")
        reading.set()
        release.wait(10)
        events.append("read ended")
        yield b"second"

    closed = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_close(failed: BaseException | None) -> None:
        events.append(f"closed ({type(failed).__name__})")
        loop.call_soon_threadsafe(closed.set)

    stream = ChunkStream(FileChunks(pieces(), on_close))
    assert await anext(stream) == b"first"
    consumer = asyncio.ensure_future(anext(stream))
    await asyncio.to_thread(reading.wait, 10)
    consumer.cancel()
    await asyncio.sleep(0.2)  # old code closed at once, here, under the running read
    release.set()
    with contextlib.suppress(asyncio.CancelledError):
        await consumer
    await asyncio.wait_for(closed.wait(), 10)
    assert events == ["read started", "read ended", "closed (CancelledError)"]

"""A file's content as a stream of byte chunks, so that a download never holds a whole file.

Used by the stores: the Docker store (services/spawner/platforms/docker/) reads the single regular
file of a tar stream coming from the engine piece by piece (`tar_member_chunks`); threaded_store
turns the blocking `FileChunks` of its subclasses into an asynchronous `ChunkStream` (one
worker-thread step per chunk); fake.FakeVolumeStore streams its in-memory bytes the same way
(`chunked`). The API (services/api) reads a ChunkStream and sends each chunk as one gRPC message.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TypeVar

from services.common.outcomes import TemporaryError
from services.common.storage import paths
from services.common.storage.types import InvalidStorageRequest

CHUNK_SIZE = 256 * 1024  # bytes per chunk (and per gRPC message of a download)

T = TypeVar("T")
Closer = Callable[[BaseException | None], None]


def chunked(data: bytes, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """`data` in pieces of `size` bytes (one empty piece for empty data: nothing to send is
    still one answer)."""
    if not data:
        yield b""
        return
    for start in range(0, len(data), size):
        yield data[start : start + size]


class _IterReader(io.RawIOBase):
    """A read-only file object over an iterator of byte pieces (what tarfile reads)."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self._pieces = iter(pieces)
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._left:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._left = piece
        count = min(len(buffer), len(self._left))
        buffer[:count] = self._left[:count]
        self._left = self._left[count:]
        return count


def tar_member_chunks(
    pieces: Iterable[bytes], shown: str, size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """The content of the first member of the tar stream `pieces` (as Docker's get_archive
    answers for a file path), read incrementally: only about one chunk is held at a time.
    InvalidStorageRequest if that member is not a regular file; TemporaryError if the
    stream is not a tar or ends before the member does."""
    try:
        with tarfile.open(fileobj=_IterReader(pieces), mode="r|") as tar:
            member = tar.next()
            handle = tar.extractfile(member) if member is not None and member.isreg() else None
            if member is None or handle is None:
                raise InvalidStorageRequest(f"{paths.describe(shown)} is not a regular file")
            sent = 0
            while chunk := handle.read(size):
                sent += len(chunk)
                yield chunk
            if sent == 0:
                yield b""
            if sent != member.size:
                raise TemporaryError(
                    f"the content of {paths.describe(shown)} ended after {sent} of "
                    f"{member.size} bytes"
                )
    except tarfile.TarError as exc:
        raise TemporaryError(f"reading {paths.describe(shown)} failed: {exc}") from exc


class FileChunks:
    """Blocking iterator over an opened file's chunks; `close` releases what reading holds
    (the storage helper, the engine's response) and must be called once done, whether the
    chunks were all read or not."""

    def __init__(self, chunks: Iterator[bytes], on_close: Closer | None = None) -> None:
        self._chunks = chunks
        self._on_close = on_close
        self._closed = False

    def next_chunk(self) -> bytes | None:
        """The next chunk, None after the last."""
        return next(self._chunks, None)

    def close(self, failed: BaseException | None = None) -> None:
        """Stops reading; `failed` is the error that ended the reading early, if one did."""
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._chunks, "close", None)
            if callable(close):
                close()
        finally:
            if self._on_close is not None:
                self._on_close(failed)


async def _direct(step: Callable[[], T]) -> T:
    return step()


async def _in_thread(step: Callable[[], T]) -> T:
    return await asyncio.to_thread(step)


class ChunkStream:
    """Asynchronous iterator of a file's chunks over FileChunks; each step runs through `run`
    (a worker thread by default). Closed, and its FileChunks with it, at the end, on an error,
    or by `aclose` (callers that may stop early must call it: `contextlib.aclosing`)."""

    def __init__(
        self,
        chunks: FileChunks,
        run: Callable[[Callable[[], bytes | None]], Awaitable[bytes | None]] = _in_thread,
    ) -> None:
        self._chunks = chunks
        self._run = run
        self._closed = False
        self._step: asyncio.Future[bytes | None] | None = None

    @classmethod
    def of_bytes(cls, data: bytes, size: int = CHUNK_SIZE) -> ChunkStream:
        """A stream of bytes already in memory (the fake store's), without threads."""
        return cls(FileChunks(chunked(data, size)), _direct)

    def __aiter__(self) -> ChunkStream:
        return self

    async def __anext__(self) -> bytes:
        if self._closed:
            raise StopAsyncIteration
        # Shielded: a cancelled caller (a client gone away) must not close the chunks while a
        # worker thread is still reading them; _close waits for that read first.
        step = asyncio.ensure_future(self._run(self._chunks.next_chunk))
        self._step = step
        try:
            chunk = await asyncio.shield(step)
        except BaseException as error:
            await self._close(error)
            raise
        if chunk is None:
            await self._close(None)
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        """Stops reading early (or does nothing once the stream ended)."""
        await self._close(None)

    async def _close(self, failed: BaseException | None) -> None:
        if self._closed:
            return
        self._closed = True
        step = self._step
        if step is not None and not step.done():
            await asyncio.wait([step])  # the read under way ends first (never raises here)
        if step is not None and step.done() and not step.cancelled():
            step.exception()  # retrieved: its error, if any, is reported by __anext__
        await self._run(lambda: self._chunks.close(failed))

    async def read_all(self) -> bytes:
        """Every remaining chunk joined (for small files: tests and tools)."""
        return b"".join([chunk async for chunk in self])

"""Streaming a file's content in chunks (services/common/storage/chunks.py): a tar stream's
one file read incrementally, whatever the pieces the engine sends; the blocking and the
asynchronous chunk iterators, and that they release what they hold."""

from __future__ import annotations

import asyncio
import io
import tarfile
from collections.abc import Iterator

import pytest

from services.common.outcomes import TemporaryError
from services.common.storage.chunks import (
    ChunkStream,
    FileChunks,
    chunked,
    tar_member_chunks,
)
from services.common.storage.types import InvalidStorageRequest


def tar_of(*infos: tuple[str, bytes, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, kind, data in infos:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.SYMTYPE:
                info.linkname = data.decode()
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("piece", [1, 7, 512, 10_000, 1 << 20])
def test_the_file_of_a_tar_stream_comes_in_bounded_chunks(piece: int) -> None:
    content = bytes(range(256)) * 1000 + b"tail"
    archive = tar_of(("f", tarfile.REGTYPE, content))
    chunks = list(tar_member_chunks(pieces(archive, piece), "f", size=4096))
    assert b"".join(chunks) == content
    assert max(len(chunk) for chunk in chunks) <= 4096
    assert len(chunks) == -(-len(content) // 4096)


def test_an_empty_file_is_one_empty_chunk() -> None:
    assert list(tar_member_chunks([tar_of(("f", tarfile.REGTYPE, b""))], "f")) == [b""]


def test_what_is_not_a_regular_file_is_refused() -> None:
    with pytest.raises(InvalidStorageRequest, match="not a regular file"):
        list(tar_member_chunks([tar_of(("f", tarfile.SYMTYPE, b"/etc/passwd"))], "f"))
    with pytest.raises(InvalidStorageRequest, match="not a regular file"):
        list(tar_member_chunks([tar_of()], "f"))


def test_a_stream_cut_short_fails_instead_of_ending_quietly() -> None:
    archive = tar_of(("f", tarfile.REGTYPE, b"x" * 100_000))
    with pytest.raises(TemporaryError):
        list(tar_member_chunks([archive[:50_000]], "f", size=4096))
    with pytest.raises(TemporaryError):
        list(tar_member_chunks([b"not a tar at all" * 64], "f"))


def test_chunked_splits_and_keeps_an_empty_answer() -> None:
    assert list(chunked(b"abcde", 2)) == [b"ab", b"cd", b"e"]
    assert list(chunked(b"", 2)) == [b""]


def test_file_chunks_close_once_and_report_the_failure() -> None:
    closed: list[BaseException | None] = []
    chunks = FileChunks(iter([b"a", b"b"]), closed.append)
    assert chunks.next_chunk() == b"a"
    error = TemporaryError("gone")
    chunks.close(error)
    chunks.close()
    assert closed == [error]


def test_chunk_stream_reads_in_threads_and_closes_at_the_end() -> None:
    closed: list[BaseException | None] = []

    async def scenario() -> bytes:
        stream = ChunkStream(FileChunks(chunked(b"0123456789", 3), closed.append))
        return await stream.read_all()

    assert asyncio.run(scenario()) == b"0123456789"
    assert closed == [None]


def test_chunk_stream_closed_early_or_failing_releases_its_file() -> None:
    closed: list[BaseException | None] = []

    def failing() -> Iterator[bytes]:
        yield b"first"
        raise TemporaryError("the engine went away")

    async def scenario() -> None:
        early = ChunkStream(FileChunks(chunked(b"0123456789", 3), closed.append))
        assert await early.__anext__() == b"012"
        await early.aclose()
        broken = ChunkStream(FileChunks(failing(), closed.append))
        assert await broken.__anext__() == b"first"
        with pytest.raises(TemporaryError):
            await broken.__anext__()
        never_read = ChunkStream(FileChunks(iter([b"x"]), closed.append))
        await never_read.aclose()

    asyncio.run(scenario())
    assert closed[0] is None and isinstance(closed[1], TemporaryError) and closed[2] is None
    assert len(closed) == 3

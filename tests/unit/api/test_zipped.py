"""Zipped downloads (Tapis's zip=true): the archive streams in pieces, holds the directory's
files under its own name with their bytes, leaves symbolic links out, and refuses the root."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest

from services.api.domain.zipped import zip_stream
from services.api.errors import InvalidArgumentError
from services.common.storage.chunks import ChunkStream
from services.common.storage.types import FileEntry

WHEN = datetime(2026, 11, 28, 12, 30, 4, tzinfo=UTC)
FILES = {"data/sub/a.txt": b"alpha", "data/sub/deep/b.bin": bytes(range(256)) * 3000}


async def listed(path: str) -> list[FileEntry]:
    entries = [FileEntry(p, len(d), False, WHEN) for p, d in FILES.items() if p.startswith(path)]
    entries.append(FileEntry("data/sub/deep", 0, True, WHEN))
    entries.append(FileEntry("data/sub/link", 0, False, WHEN, is_symlink=True))
    return entries


async def opened(path: str) -> ChunkStream:
    return ChunkStream.of_bytes(FILES[path], size=1000)


async def archive_of(path: str) -> tuple[bytes, int]:
    pieces = [piece async for piece in zip_stream(path, listed, opened)]
    return b"".join(pieces), len(pieces)


async def test_a_directory_zips_under_its_own_name_in_many_pieces() -> None:
    data, pieces = await archive_of("data/sub")
    assert pieces > 10  # streamed, not built whole
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["sub/a.txt", "sub/deep/", "sub/deep/b.bin"]
        assert archive.read("sub/a.txt") == b"alpha"
        assert archive.read("sub/deep/b.bin") == FILES["data/sub/deep/b.bin"]
        assert archive.getinfo("sub/a.txt").date_time == (2026, 11, 28, 12, 30, 4)
        assert archive.testzip() is None


@pytest.mark.parametrize("root", ["", "/", "."])
async def test_the_root_cannot_be_zipped(root: str) -> None:
    with pytest.raises(InvalidArgumentError, match=r"whole root|absolute") as info:
        await archive_of(root)
    assert info.value.field == "path"

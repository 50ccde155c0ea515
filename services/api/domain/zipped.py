"""A directory of a volume or snapshot downloaded as one ZIP archive (Tapis's `zip=true` on
get_volume_contents and get_snapshot_contents), built while it streams: each file is read
chunk by chunk from the store and written into the archive, whose bytes go out as they are
made, so neither a file nor the archive is ever held whole. Called by
transport/enveloped.py:downloaded."""

from __future__ import annotations

import contextlib
import io
import posixpath
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

from services.api.domain.volume_inputs import relative_path
from services.api.errors import InvalidArgumentError
from services.common.storage.chunks import ChunkStream
from services.common.storage.types import FileEntry

Lister = Callable[[str], Awaitable[list[FileEntry]]]  # every entry below a path
Opener = Callable[[str], Awaitable[ChunkStream]]  # one file's chunks
ZIP_EPOCH = datetime(1980, 1, 1)  # ZIP stores no earlier time


class _Sink(io.RawIOBase):
    """A write-only, unseekable file collecting what zipfile writes until taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def zip_root(path: str) -> str:
    """The directory (or file) to zip, normalized; InvalidArgumentError for the root, which
    Tapis refuses too (download its directories one by one)."""
    relative = relative_path("path", path)
    if not relative:
        raise InvalidArgumentError(
            "path", "zip=true cannot download the whole root; name a directory in it"
        )
    return relative


def _info(name: str, entry: FileEntry) -> zipfile.ZipInfo:
    mtime = max(entry.mtime.replace(tzinfo=None), ZIP_EPOCH)
    info = zipfile.ZipInfo(name, date_time=mtime.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o40755 if entry.is_dir else 0o100644) << 16) | (0x10 * entry.is_dir)
    return info


async def zip_stream(path: str, listed: Lister, opened: Opener) -> AsyncIterator[bytes]:
    """The archive of `path` in pieces. Entries are named from the directory's own name
    ("data/sub" gives "sub/a.txt"), so unzipping makes that directory; symbolic links are
    left out. Errors before the first piece (no such path, no permission) come as raised."""
    root = zip_root(path)
    entries = sorted(await listed(root), key=lambda entry: entry.path)
    base = posixpath.dirname(root)
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", allowZip64=True) as archive:
        for entry in entries:
            if entry.is_symlink:
                continue
            name = posixpath.relpath(entry.path, base) if base else entry.path
            if entry.is_dir:
                archive.writestr(_info(name + "/", entry), b"")
                continue
            chunks = await opened(entry.path)
            async with contextlib.aclosing(chunks):
                with archive.open(_info(name, entry), mode="w", force_zip64=True) as member:
                    async for chunk in chunks:
                        member.write(chunk)
                        yield sink.take()
            yield sink.take()
    yield sink.take()

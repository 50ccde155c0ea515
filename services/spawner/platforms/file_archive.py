"""A one-file tar archive, as both runtimes put a file into a container with one: Docker's
archive endpoint (docker/copy_in.py) and `tar -x` run in a Kubernetes container
(kubernetes/runtime.py). Pure."""

from __future__ import annotations

import io
import posixpath
import tarfile
import time

FILE_MODE = 0o644


def split_dest(dest_path: str) -> tuple[str, str]:
    """The directory and the file name of an absolute, normalized path."""
    directory, name = posixpath.split(dest_path)
    return directory or "/", name


def one_file_tar(name: str, data: bytes, mtime: float | None = None) -> bytes:
    """A tar archive holding `data` as the regular file `name` (mode 0644, owned by root)."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = FILE_MODE
    info.mtime = int(time.time() if mtime is None else mtime)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()

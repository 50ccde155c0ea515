"""File operations on a mounted volume or snapshot, through a storage helper.

A helper is a short-lived container (platforms/docker/volumes.py) or Kubernetes pod
(platforms/kubernetes/volumes.py) running busybox with the volume being worked on mounted at
HELPER_ROOT (and, while a snapshot is filled, the snapshot at COPY_TARGET). Both stores hand this
module a HelperSession: run an argument list, put a tar stream into a directory, read a regular file
in chunks. Everything else (path confinement, listings, uploads within a size limit, snapshot copies
and their completion markers, sub-path resolution) is written once here, on top of HelperShell.

Blocking: called from the stores' worker threads, never from the event loop.

Confinement: user paths are normalized by storage.paths first; then every prefix is resolved
inside the helper (helper_answers.PROBE_SCRIPT / parse_probe) and must stay below the mount
root, so a symbolic link planted in a volume never lets an operation reach outside it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Protocol

from services.common.outcomes import PermanentError, TemporaryError
from services.common.storage import paths
from services.common.storage.types import (
    FileEntry,
    InvalidStorageRequest,
    QuotaExceeded,
    SnapshotKey,
    StorageConflict,
    StorageNotFound,
    VolumeKey,
)
from services.spawner.storage.helper_answers import (
    COPY_TARGET,
    HELPER_ROOT,
    LIST_SCRIPT,
    PROBE_SCRIPT,
    SNAPSHOT_MARKER,
    WRAP_SCRIPT,
    Resolved,
    marker_bytes,
    marker_size,
    mtime_of,
    parse_listing,
    parse_probe,
    parse_sizes,
    split_trailer,
    tail,
    upload_tar,
)

# Pauses between the attempts of a command whose answer came back cut short.
EXEC_RETRY_PAUSES = (0.05, 0.2, 0.5)
SNAPSHOT_HIDDEN = frozenset({paths.join(HELPER_ROOT, SNAPSHOT_MARKER)})


class HelperSession(Protocol):
    """The transport into one running helper (implemented by each store)."""

    def exec(self, argv: Sequence[str]) -> tuple[bytes, bytes]:
        """Runs `argv` (no shell) once; its stdout and stderr, possibly cut short."""
        ...

    def put(self, directory: str, archive: bytes) -> None:
        """Unpacks the tar stream `archive` into the existing `directory`."""
        ...

    def read_chunks(self, real: str, size: int, shown: str) -> Iterator[bytes]:
        """The content of the regular file `real` (resolved, `size` bytes when probed) in
        chunks. What can fail at once (the file cannot be opened) fails in this call, what
        fails later fails while iterating; errors name `shown`."""
        ...


class HelperShell:
    """Commands run in a helper, each under WRAP_SCRIPT so a cut-short answer is noticed."""

    def __init__(self, session: HelperSession) -> None:
        self.session = session

    def run(self, argv: Sequence[str]) -> tuple[int, bytes, bytes]:
        """Exit code, stdout and stderr of `argv` run in the helper.

        The trailer WRAP_SCRIPT prints proves the whole output arrived (a loaded engine
        sometimes delivers a quick exec's output cut short); without it the command is run
        again (every command we run may be repeated), then given up."""
        wrapped = ["sh", "-c", WRAP_SCRIPT, "wrap", *argv]
        for pause in (*EXEC_RETRY_PAUSES, None):
            out, err = self.session.exec(wrapped)
            body, code = split_trailer(out)
            if code is not None:
                return code, body, err
            if pause is not None:
                time.sleep(pause)  # a worker thread: the event loop is not blocked
        raise TemporaryError(f"the storage helper's answers to {argv[0]} were cut short")

    def checked(self, argv: Sequence[str], what: str) -> bytes:
        """Stdout of `argv`; TemporaryError with its stderr when it fails."""
        code, out, err = self.run(argv)
        if code != 0:
            raise TemporaryError(f"{what} failed in the storage helper ({code}): {tail(err)}")
        return out

    def probe(self, relative: str, root: str = HELPER_ROOT) -> Resolved:
        out = self.checked(["sh", "-c", PROBE_SCRIPT, "probe", root, relative], "resolving")
        return parse_probe(out, relative, root)

    def sizes(self, real: str, exclude: str | None = None) -> int:
        """Sum of the sizes of the regular files at or below `real` (links not followed)."""
        argv = ["find", real, "-type", "f"]
        if exclude is not None:
            argv += ["!", "-path", exclude]
        out = self.checked([*argv, "-exec", "stat", "-c", "%s", "{}", "+"], "measuring")
        return parse_sizes(out)

    def listing(self, real: str, shown: str, recursive: bool, hidden: frozenset[str]) -> bytes:
        depth = [] if recursive else ["-maxdepth", "1"]
        argv = ["find", real, "-mindepth", "1", *depth, "-exec", "sh", "-c", LIST_SCRIPT]
        return self.checked([*argv, "list", "{}", "+"], f"listing {paths.describe(shown)}")

    def stat_one(self, real: str, shown: str) -> bytes:
        argv = ["find", real, "-maxdepth", "0", "-exec", "sh", "-c", LIST_SCRIPT, "list"]
        return self.checked([*argv, "{}", "+"], f"reading {paths.describe(shown)}")


# --- reading (volumes and snapshots alike) --------------------------------------------------


def list_in(
    shell: HelperShell, relative: str, recursive: bool, hidden: frozenset[str] = frozenset()
) -> list[FileEntry]:
    """Entries of directory `relative` (recursively if asked), or the entry of a file."""
    resolved = shell.probe(relative)
    if not resolved.exists or resolved.real in hidden:
        raise StorageNotFound(f"{paths.describe(relative)} does not exist")
    if resolved.kind == "d":
        output = shell.listing(resolved.real, relative, recursive, hidden)
    else:
        output = shell.stat_one(resolved.real, relative)
    return parse_listing(output, resolved.real, relative, hidden)


def open_in(
    shell: HelperShell, relative: str, hidden: frozenset[str] = frozenset()
) -> Iterator[bytes]:
    """The content of the regular file `relative`, in chunks (nothing is read yet when this
    returns; a missing file, a directory or anything else but a file fails here)."""
    resolved = shell.probe(relative)
    if not resolved.exists or resolved.real in hidden:
        raise StorageNotFound(f"{paths.describe(relative)} does not exist")
    if resolved.kind == "d":
        raise InvalidStorageRequest(
            f"{paths.describe(relative)} is a directory; only files can be downloaded"
        )
    if resolved.kind != "f":
        raise InvalidStorageRequest(f"{paths.describe(relative)} is not a regular file")
    return shell.session.read_chunks(resolved.real, resolved.size, relative)


def measure(shell: HelperShell, snapshot: bool = False) -> int:
    """Total size of the regular files below HELPER_ROOT (a snapshot's marker left out)."""
    exclude = paths.join(HELPER_ROOT, SNAPSHOT_MARKER) if snapshot else None
    return shell.sizes(HELPER_ROOT, exclude=exclude)


# --- writing --------------------------------------------------------------------------------


def upload_into(
    shell: HelperShell,
    volume_id: str,
    relative: str,
    data: bytes,
    limit: int,
    file_owner: tuple[int, int] = (0, 0),
) -> FileEntry:
    """Writes `data` to the file `relative` of the volume mounted read-write at HELPER_ROOT,
    creating missing parents; QuotaExceeded when the volume would go over `limit` bytes."""
    resolved = shell.probe(relative)
    if resolved.kind == "d":
        raise InvalidStorageRequest(f"{paths.describe(relative)} is a directory")
    if resolved.kind == "o":
        raise InvalidStorageRequest(f"{paths.describe(relative)} is not a regular file")
    usage = shell.sizes(HELPER_ROOT)
    replaced = resolved.size if resolved.kind == "f" else 0
    after = usage - replaced + len(data)
    if after > limit:
        raise QuotaExceeded(
            f"uploading {len(data)} bytes to {paths.describe(relative)} would take volume "
            f"{volume_id!r} to {after} bytes, over its size limit of {limit} bytes "
            f"({usage} bytes used now)"
        )
    if resolved.exists:  # replace the file where it really is
        directory, _, name = resolved.real.rpartition("/")
        dirs: Sequence[str] = ()
    else:  # create the missing directories below the deepest existing one
        directory, (*dirs, name) = resolved.real, resolved.missing
    now = time.time()
    uid, gid = file_owner
    shell.session.put(directory, upload_tar(dirs, name, data, mtime=now, uid=uid, gid=gid))
    return FileEntry(path=relative, size=len(data), is_dir=False, mtime=mtime_of(int(now)))


# --- snapshots ------------------------------------------------------------------------------


def read_marker(shell: HelperShell, key: SnapshotKey, token: str, root: str) -> int | None:
    """The recorded size if the snapshot mounted at `root` is complete, else None."""
    marker = paths.join(root, SNAPSHOT_MARKER)
    # -type f without -L: a link planted under the marker's name is never followed.
    argv = ["find", marker, "-maxdepth", "0", "-type", "f", "-exec", "cat", "{}", "+"]
    code, out, _ = shell.run(argv)
    if code != 0 or not out:
        return None
    return marker_size(out, key, token)


def check_complete(shell: HelperShell, key: SnapshotKey, token: str) -> int:
    """The snapshot's size (mounted at HELPER_ROOT); StorageConflict if it is incomplete."""
    size = read_marker(shell, key, token, HELPER_ROOT)
    if size is None:
        raise StorageConflict(
            f"snapshot {key.snapshot_id!r} is incomplete (its copy was interrupted); "
            "create it again or delete it"
        )
    return size


def copy_snapshot(
    shell: HelperShell,
    key: SnapshotKey,
    token: str,
    source_key: VolumeKey,
    relative: str,
    size_limit_bytes: int | None,
) -> int:
    """Fills the snapshot at COPY_TARGET from the source at HELPER_ROOT (its `relative`
    file or directory), writes the completion marker last; returns the copy's size."""
    resolved = shell.probe(relative)
    if not resolved.exists:
        raise StorageNotFound(
            f"{paths.describe(relative)} does not exist in volume {source_key.volume_id!r}"
        )
    if resolved.kind not in ("d", "f"):
        raise InvalidStorageRequest(f"{paths.describe(relative)} is not a file or a directory")
    if size_limit_bytes is not None:
        needed = shell.sizes(resolved.real)
        if needed > size_limit_bytes:
            raise QuotaExceeded(
                f"{paths.describe(relative)} of volume {source_key.volume_id!r} holds {needed} "
                f"bytes, over the snapshot size limit of {size_limit_bytes} bytes"
            )
    wipe = ["find", COPY_TARGET, "-mindepth", "1", "-maxdepth", "1", "-exec", "rm", "-rf"]
    shell.checked([*wipe, "{}", "+"], "clearing an interrupted snapshot")
    if resolved.kind == "d":
        argv = ["cp", "-a", resolved.real + "/.", COPY_TARGET + "/"]
    else:
        argv = ["cp", "-a", resolved.real, paths.join(COPY_TARGET, relative.rpartition("/")[2])]
    code, _, err = shell.run(argv)
    if code != 0:
        raise PermanentError(
            f"copying {paths.describe(relative)} of volume {source_key.volume_id!r} into "
            f"snapshot {key.snapshot_id!r} failed: {tail(err)}"
        )
    marker_path = paths.join(COPY_TARGET, SNAPSHOT_MARKER)
    size = shell.sizes(COPY_TARGET, exclude=marker_path)
    if size_limit_bytes is not None and size > size_limit_bytes:
        raise QuotaExceeded(
            f"the copy of {paths.describe(relative)} is {size} bytes, over the snapshot size "
            f"limit of {size_limit_bytes} bytes"
        )
    marker = marker_bytes(key, source_key, relative, size, token)
    shell.checked(["rm", "-rf", marker_path], "clearing the snapshot marker")
    shell.session.put(COPY_TARGET, upload_tar((), SNAPSHOT_MARKER, marker, mtime=time.time()))
    return size


# --- mounts ---------------------------------------------------------------------------------


def resolve_sub_path(shell: HelperShell, relative: str) -> str:
    """The sub path as it really lies in the volume at HELPER_ROOT: a directory, reached
    without leaving the volume (links inside it resolved)."""
    resolved = shell.probe(relative)
    if not resolved.exists:
        raise StorageNotFound(f"sub_path {relative!r} does not exist")
    if resolved.kind != "d":
        raise InvalidStorageRequest(f"sub_path {relative!r} is not a directory")
    return paths.relative_to(HELPER_ROOT, resolved.real)

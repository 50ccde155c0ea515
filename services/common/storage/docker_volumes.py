"""DockerVolumeStore: the VolumeStore seam implemented with Docker named volumes.

Called by the API layer (services/api) for Tapis Pods volumes and snapshots; the runtime
mounts what `mount_for` returns (`docker_mount` turns a MountSpec into the Docker mount dict).
The only module of the storage package that imports `docker`. Blocking SDK calls run in
worker threads (asyncio.to_thread); SDK errors are translated here into TemporaryError and
the PermanentError subclasses of storage.types.

A volume is a labelled Docker volume whose size limit is a label; a snapshot is another
labelled volume holding a copy (`cp -a`) of the source volume or of one of its directories
or files. Files are reached through a short-lived helper container per operation (image
`helper_image`, default pods-http:latest: it needs busybox's sh, sleep, realpath, find,
stat, cp, rm and cat): no network, read-only root filesystem, all capabilities dropped but
those needed to read and copy files of any owner, no new privileges, labelled with the
deployment and tenant, the volume mounted at /v, and removed afterwards (it also removes
itself after HELPER_LIFETIME_S should we crash). Content moves with put_archive/get_archive
(tar streams built and read here); the few commands run take argument lists, and the only
shell scripts are constants that receive user data as positional arguments. Every command's
output ends with a trailer carrying its exit status; an answer without it (a loaded engine
can cut a quick exec's output short) is asked for again, so a listing or a usage figure is
never silently truncated.

Confinement: user paths are normalized by storage.paths first. Then, inside the helper, every
prefix of the path (the root, the first segment, the first two, ...) is resolved with
`realpath`; each must stay under /v, a symbolic link leading nowhere is refused, and the
operation then uses the resolved path. So a link planted in the volume (pointing at
/etc/passwd, or a directory link pointing out) never lets list, download, upload or
snapshot reach outside /v. Links inside the volume are followed. Residual window: a pod
writing the same volume can swap a checked directory for a link between the check and the
transfer; Docker resolves archive paths inside the helper's own root and that root is a
read-only public image, so the most such a race can reach is the helper image's own files.

Size limits are checked at upload (usage = the sum of regular-file sizes; replacing a file
counts its old size out) and at snapshot time; Docker's local driver has no quotas, so a
pod writing into a mounted volume is not held to the limit by this module.

Snapshot completeness: the copy's last step writes SNAPSHOT_MARKER at the snapshot's root
(JSON naming the snapshot and the random token its Docker volume got as a label when it was
created: Docker's CreatedAt of a local volume moves with the directory's mtime, so it cannot
serve). A snapshot without a valid
marker is an interrupted copy: create_snapshot copies again, the file operations refuse it.
The marker is hidden from snapshot listings and downloads (pods mounting the snapshot see it).

Concurrency: operations on one volume are serialized within this process (upload's limit
check, snapshot copy, delete). Several processes sharing volumes need their own coordination.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import secrets
import stat as stat_module
import tarfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import docker
import docker.errors

from services.common.docker_errors import translated_docker_errors
from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.naming import validate_slug
from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_POD, LABEL_TENANT
from services.common.storage import paths
from services.common.storage.types import (
    LABEL_SIZE_LIMIT,
    LABEL_SNAPSHOT,
    LABEL_SOURCE_PATH,
    LABEL_SOURCE_VOLUME,
    LABEL_STORAGE_HELPER,
    LABEL_VOLUME,
    FileEntry,
    InvalidStorageRequest,
    MountSpec,
    QuotaExceeded,
    SnapshotInfo,
    SnapshotKey,
    StorageConflict,
    StorageKind,
    StorageNotFound,
    VolumeInfo,
    VolumeKey,
    check_size_limit,
    snapshot_labels,
    snapshot_name,
    volume_labels,
    volume_name,
)

T = TypeVar("T")
Attrs = dict[str, Any]

DEFAULT_HELPER_IMAGE = "pods-http:latest"
HELPER_ROOT = "/v"  # where the volume (or snapshot) being worked on is mounted
COPY_TARGET = "/s"  # where a snapshot being filled is mounted, next to its source at /v
HELPER_LIFETIME_S = 3600
HELPER_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID")
HELPER_MEMORY = "256m"
HELPER_PIDS = 64
DEFAULT_MAX_TRANSFER_BYTES = 256 * 1024 * 1024
DEFAULT_TIMEOUT_S = 600.0
SNAPSHOT_MARKER = ".pods-snapshot.json"
SUBPATH_MIN_API = (1, 45)
_MARKER_SCHEME = "pods-snapshot-v1"
LABEL_CREATED_AT = "org.pods-service.created-at"
# A snapshot volume's random token, repeated in its marker (a label name, not a secret).
LABEL_COPY_TOKEN = "org.pods-service.copy-token"  # noqa: S105

# Resolves every prefix of a path below the mount root. $1: the root (/v); $2: the
# normalized relative path (segments split on '/', globbing off). For each prefix it prints
# "<L or ->" "<d|f|o|n>" NUL, realpath's output (nothing for a missing or unresolvable
# path) NUL, the size of a regular file NUL; it stops after the first prefix that is not a
# directory. User data only ever arrives as "$1"/"$2"/"$p".
PROBE_SCRIPT = r"""
set -f
p=$1
probe() {
  if [ -L "$p" ]; then l=L; else l=-; fi
  if [ -d "$p" ]; then k=d; elif [ -f "$p" ]; then k=f; elif [ -e "$p" ]; then k=o; else k=n; fi
  printf '%s%s\0' "$l" "$k"
  if [ "x$l$k" != "x-n" ]; then realpath "$p" 2>/dev/null; fi
  printf '\0'
  if [ "$k" = f ]; then stat -L -c %s "$p" 2>/dev/null; fi
  printf '\0'
}
probe
IFS=/
for s in $2; do
  [ "$k" = d ] || break
  p=$p/$s
  probe
done
"""

# Run by `find ... -exec sh -c LIST_SCRIPT sh {} +`: per batch, the number of names, one
# "size mtime rawmode" line per name (lstat: links are not followed), then the names, each
# NUL-terminated (names may contain newlines).
LIST_SCRIPT = r"""
printf '%d\n' "$#"
stat -c '%s %Y %f' -- "$@" || exit 1
printf '%s\0' "$@"
"""

# Runs "$@" and then prints a trailer with its exit status: NUL "pods-end <status>" NUL.
WRAP_SCRIPT = r"""
"$@"
status=$?
printf '\0pods-end %d\0' "$status"
"""
EXEC_RETRY_PAUSES = (0.05, 0.2, 0.5)

_STAT_LINE = re.compile(rb"(\d+) (\d+) ([0-9a-f]+)")
_TRAILER = re.compile(rb"\0pods-end (\d+)\0\Z")


# --- pure pieces (unit-tested without Docker) ---------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """Where a user path leads inside the helper.

    `real` is the realpath of the path itself when it exists, else of its deepest existing
    prefix (always a directory); `missing` are the segments below `real` that do not exist
    yet; `kind` is "d" (directory), "f" (regular file), "o" (something else) or "n"
    (absent); `size` is a regular file's size."""

    relative: str
    real: str
    kind: str
    missing: tuple[str, ...] = ()
    size: int = 0

    @property
    def exists(self) -> bool:
        return self.kind != "n"


def parse_probe(output: bytes, relative: str, root: str = HELPER_ROOT) -> Resolved:
    """Checks PROBE_SCRIPT's output for `relative` and says where the path leads.

    InvalidStorageRequest when a prefix is a link leading outside `root`, a link to nothing,
    unresolvable, or not a directory although the path goes on below it."""
    fields = output.split(b"\0")
    if len(fields) < 4 or len(fields) % 3 != 1 or fields[-1] != b"":
        raise TemporaryError(f"unexpected answer from the storage helper: {output[:200]!r}")
    segs = paths.segments(relative)
    records = [fields[i : i + 3] for i in range(0, len(fields) - 1, 3)]
    if len(records) > len(segs) + 1:
        raise TemporaryError("the storage helper resolved more prefixes than the path has")
    previous_real = root
    for index, (flags, real_raw, size_raw) in enumerate(records):
        prefix = "/".join(segs[:index])
        if len(flags) != 2 or flags[:1] not in (b"L", b"-") or flags[1:] not in b"dfon":
            raise TemporaryError(f"unexpected answer from the storage helper: {flags!r}")
        is_link, kind = flags[:1] == b"L", flags[1:].decode()
        if kind == "n":
            if is_link:
                raise InvalidStorageRequest(
                    f"{paths.describe(prefix)} is a symbolic link to nothing"
                )
            if index == 0:
                raise TemporaryError("the volume is not mounted in the storage helper")
            return Resolved(relative, previous_real, "n", missing=segs[index - 1 :])
        real_bytes = real_raw[:-1] if real_raw.endswith(b"\n") else real_raw
        try:
            real = real_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidStorageRequest(
                f"{paths.describe(prefix)} leads to a name that is not valid UTF-8"
            ) from exc
        if not real:
            raise InvalidStorageRequest(
                f"{paths.describe(prefix)} cannot be resolved (a link loop?)"
            )
        if not paths.is_within(root, real) or (index == 0 and real != root):
            raise InvalidStorageRequest(
                f"{paths.describe(prefix)} is a symbolic link leading outside the volume; refused"
            )
        if index == len(segs):
            size = int(size_raw) if kind == "f" and size_raw.strip().isdigit() else 0
            return Resolved(relative, real, kind, size=size)
        if kind != "d":
            raise InvalidStorageRequest(f"{paths.describe(prefix)} is not a directory")
        previous_real = real
    raise TemporaryError("the storage helper stopped resolving the path early")


def _mtime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_listing(
    output: bytes, real_base: str, shown_base: str, hidden: frozenset[str] = frozenset()
) -> list[FileEntry]:
    """FileEntries from LIST_SCRIPT's output, sorted by path.

    Names found below `real_base` are shown below `shown_base` (the path the caller asked
    for); `real_base` itself is shown as `shown_base`. Names in `hidden` (real paths) are
    left out. Names that are not UTF-8 are shown with U+FFFD in place of the bad bytes."""
    entries: list[FileEntry] = []
    pos = 0
    try:
        while pos < len(output):
            newline = output.index(b"\n", pos)
            count, pos = int(output[pos:newline]), newline + 1
            stats = []
            for _ in range(count):
                newline = output.index(b"\n", pos)
                match = _STAT_LINE.fullmatch(output[pos:newline])
                if match is None:
                    raise ValueError(output[pos:newline])
                stats.append(match)
                pos = newline + 1
            for match in stats:
                end = output.index(b"\0", pos)
                name = output[pos:end].decode("utf-8", errors="replace")
                pos = end + 1
                if name in hidden:
                    continue
                entries.append(_entry(match, name, real_base, shown_base))
    except ValueError as exc:
        raise TemporaryError("the directory changed while it was being listed; try again") from exc
    return sorted(entries, key=lambda entry: entry.path)


def _entry(match: re.Match[bytes], name: str, real_base: str, shown_base: str) -> FileEntry:
    prefix = real_base.rstrip("/") + "/"
    if name == real_base:
        shown = shown_base
    elif name.startswith(prefix):
        rest = name[len(prefix) :]
        shown = f"{shown_base}/{rest}" if shown_base else rest
    else:
        raise ValueError(f"{name!r} is not below {real_base!r}")
    mode = int(match[3], 16)
    is_dir, is_file = stat_module.S_ISDIR(mode), stat_module.S_ISREG(mode)
    return FileEntry(
        path=shown,
        size=int(match[1]) if is_file else 0,
        is_dir=is_dir,
        mtime=_mtime(int(match[2])),
        is_symlink=stat_module.S_ISLNK(mode),
    )


def split_trailer(output: bytes) -> tuple[bytes, int | None]:
    """The command's own output and exit status from WRAP_SCRIPT's output; status None
    when the trailer is missing (the output was cut short)."""
    match = _TRAILER.search(output)
    if match is None:
        return output, None
    return output[: match.start()], int(match[1])


def parse_sizes(output: bytes) -> int:
    """The sum of the sizes `stat -c %s` printed, one per line."""
    try:
        return sum(int(line) for line in output.split())
    except ValueError as exc:
        raise TemporaryError(f"unexpected sizes from the storage helper: {output[:200]!r}") from exc


def upload_tar(
    missing_dirs: Sequence[str],
    name: str,
    data: bytes,
    *,
    mtime: float,
    uid: int = 0,
    gid: int = 0,
) -> bytes:
    """A tar holding the directories `missing_dirs` (nested, in order) and the file `name`
    inside the last of them, with `data`; for put_archive into an existing directory."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for depth in range(1, len(missing_dirs) + 1):
            info = tarfile.TarInfo("/".join(missing_dirs[:depth]))
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            info.mtime, info.uid, info.gid = int(mtime), uid, gid
            tar.addfile(info)
        info = tarfile.TarInfo("/".join([*missing_dirs, name]))
        info.size, info.mode = len(data), 0o644
        info.mtime, info.uid, info.gid = int(mtime), uid, gid
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def single_file_from_tar(archive: bytes, shown: str) -> bytes:
    """The content of the one regular file get_archive returned for a file path."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        member = tar.next()
        if member is None or not member.isreg():
            raise InvalidStorageRequest(f"{paths.describe(shown)} is not a regular file")
        handle = tar.extractfile(member)
        if handle is None:
            raise InvalidStorageRequest(f"{paths.describe(shown)} is not a regular file")
        return handle.read()


def marker_bytes(
    key: SnapshotKey, source: VolumeKey, source_path: str, size: int, token: str
) -> bytes:
    """The JSON of a snapshot's completion marker."""
    document = {
        "scheme": _MARKER_SCHEME,
        "tenant_id": key.tenant_id,
        "snapshot_id": key.snapshot_id,
        "source_volume_id": source.volume_id,
        "source_path": source_path,
        "size_bytes": size,
        "copy_token": token,
        "taken_at": datetime.now(UTC).isoformat(),
    }
    return json.dumps(document, sort_keys=True).encode()


def marker_size(raw: bytes, key: SnapshotKey, token: str) -> int | None:
    """The copy's size if `raw` is this snapshot volume's marker, else None (incomplete)."""
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    expected = {
        "scheme": _MARKER_SCHEME,
        "tenant_id": key.tenant_id,
        "snapshot_id": key.snapshot_id,
        "copy_token": token,
    }
    if not token or any(document.get(field) != value for field, value in expected.items()):
        return None
    size = document.get("size_bytes")
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def api_version_at_least(version: str, minimum: tuple[int, int]) -> bool:
    """True if the Docker API version text ("1.41") is at least `minimum`."""
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= minimum


def docker_mount(spec: MountSpec) -> dict[str, Any]:
    """The Docker Engine API mount (for `mounts=[...]` of containers.create) of a MountSpec.

    NoCopy keeps Docker from copying the image's files at the target into the volume."""
    options: dict[str, Any] = {"NoCopy": True}
    if spec.sub_path:
        options["Subpath"] = spec.sub_path
    return {
        "Type": "volume",
        "Source": spec.volume_name,
        "Target": spec.target,
        "ReadOnly": spec.read_only,
        "VolumeOptions": options,
    }


def parse_created(attrs: Mapping[str, Any]) -> datetime | None:
    """When a volume was created: our label, else Docker's CreatedAt; None when absent."""
    for value in ((attrs.get("Labels") or {}).get(LABEL_CREATED_AT), attrs.get("CreatedAt")):
        if isinstance(value, str) and value:
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                continue
    return None


# --- errors -----------------------------------------------------------------------------


@contextlib.contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turns SDK and transport errors (and invalid ids) into our errors."""
    try:
        with translated_docker_errors(action, vanished="something"):
            yield
    except paths.PathError as exc:
        raise InvalidStorageRequest(str(exc)) from exc
    except ValueError as exc:  # invalid ids and limits from storage.types
        raise InvalidStorageRequest(str(exc)) from exc


# --- the helper container ----------------------------------------------------------------


class _Helper:
    """A running helper container: commands (argument lists) and tar transfers."""

    def __init__(self, api: Any, container_id: str) -> None:
        self._api = api
        self.id = container_id

    def run(self, argv: Sequence[str]) -> tuple[int, bytes, bytes]:
        """Exit code, stdout and stderr of `argv` run in the helper.

        The command runs under WRAP_SCRIPT, whose trailer proves the whole output arrived
        (a loaded engine sometimes delivers a quick exec's output cut short); without it
        the command is run again (every command we run may be repeated), then given up."""
        wrapped = ["sh", "-c", WRAP_SCRIPT, "wrap", *argv]
        for pause in (*EXEC_RETRY_PAUSES, None):
            exec_id = self._api.exec_create(self.id, wrapped, stdout=True, stderr=True)["Id"]
            out, err = self._api.exec_start(exec_id, demux=True)
            body, code = split_trailer(out or b"")
            if code is not None:
                return code, body, err or b""
            if pause is not None:
                time.sleep(pause)  # a worker thread: the event loop is not blocked
        raise TemporaryError(f"the storage helper's answers to {argv[0]} were cut short")

    def checked(self, argv: Sequence[str], what: str) -> bytes:
        """Stdout of `argv`; TemporaryError with its stderr when it fails."""
        code, out, err = self.run(argv)
        if code != 0:
            raise TemporaryError(f"{what} failed in the storage helper ({code}): {_tail(err)}")
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

    def put(self, directory: str, archive: bytes) -> None:
        if not self._api.put_archive(self.id, directory, archive):
            raise TemporaryError(f"docker did not accept the upload into {directory}")

    def get(self, path: str, max_bytes: int, shown: str) -> bytes:
        stream, info = self._api.get_archive(self.id, path)
        size = int((info or {}).get("size", 0))
        if size > max_bytes:
            close = getattr(stream, "close", None)
            if callable(close):
                close()
            raise InvalidStorageRequest(
                f"{paths.describe(shown)} is {size} bytes; downloads are limited to {max_bytes}"
            )
        return b"".join(stream)


def _tail(data: bytes, limit: int = 300) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    return text if len(text) <= limit else "..." + text[-limit:]


# --- the store --------------------------------------------------------------------------


class DockerVolumeStore:
    """VolumeStore over one Docker engine; manages only volumes labelled `deployment_id`."""

    def __init__(
        self,
        deployment_id: str,
        client: Any | None = None,
        *,
        base_url: str | None = None,
        helper_image: str = DEFAULT_HELPER_IMAGE,
        max_transfer_bytes: int = DEFAULT_MAX_TRANSFER_BYTES,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        file_owner: tuple[int, int] = (0, 0),
    ) -> None:
        """`client`: an SDK client to use (left open by close); otherwise one is created
        on first use from `base_url` or the environment, with `timeout_s` per request
        (long copies and listings run inside one request). `file_owner`: uid and gid of
        uploaded files and the directories created for them."""
        self.deployment_id = validate_slug("deployment id", deployment_id)
        self.helper_image = helper_image
        self.max_transfer_bytes = max_transfer_bytes
        self.file_owner = file_owner
        self._client = client
        self._owns_client = client is None
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._client_lock = threading.Lock()
        self._locks: dict[str, asyncio.Lock] = {}
        self._api_version: str | None = None

    def close(self) -> None:
        """Closes the SDK client if this store created it."""
        with self._client_lock:
            if self._owns_client and self._client is not None:
                self._client.close()
                self._client = None

    # --- public API (the VolumeStore protocol) ------------------------------------------

    async def create_volume(self, key: VolumeKey, size_limit_bytes: int) -> VolumeInfo:
        """Creates the labelled Docker volume, or returns the matching existing one."""
        with _translated("creating volume"):
            name = volume_name(self.deployment_id, key)
            check_size_limit(size_limit_bytes)
        async with self._lock(name):
            return await self._thread(
                f"creating volume {key.volume_id}", self._create_volume, key, size_limit_bytes
            )

    async def get_volume(self, key: VolumeKey) -> VolumeInfo | None:
        """The volume, None if absent; StorageConflict if the name is taken by another."""
        with _translated("reading volume"):
            volume_name(self.deployment_id, key)
        return await self._thread(f"reading volume {key.volume_id}", self._get_volume, key)

    async def list_volumes(self, tenant_id: str | None = None) -> list[VolumeInfo]:
        """Every volume of this deployment (of `tenant_id` if given), sorted by key."""
        return await self._thread("listing volumes", self._list_volumes, tenant_id)

    async def delete_volume(self, key: VolumeKey) -> bool:
        """Deletes the volume; False if absent; StorageConflict while a container mounts it."""
        with _translated("deleting volume"):
            name = volume_name(self.deployment_id, key)
        async with self._lock(name):
            return await self._thread(
                f"deleting volume {key.volume_id}", self._delete, name, self._volume_owner(key)
            )

    async def list_files(
        self, key: VolumeKey, path: str = "", recursive: bool = False
    ) -> list[FileEntry]:
        """Entries of directory `path` (recursively if asked) or the entry of file `path`."""
        with _translated("listing files"):
            name, relative = volume_name(self.deployment_id, key), paths.normalize(path)
        async with self._lock(name):
            return await self._thread(
                f"listing {relative or '/'} in volume {key.volume_id}",
                self._list_files_volume,
                key,
                relative,
                recursive,
            )

    async def upload(self, key: VolumeKey, path: str, data: bytes) -> FileEntry:
        """Writes the file (parents created), within the volume's size limit."""
        with _translated("uploading"):
            name, relative = volume_name(self.deployment_id, key), paths.normalize(path)
            if not relative:
                raise InvalidStorageRequest("upload needs a file path, not the volume root")
        async with self._lock(name):
            return await self._thread(
                f"uploading {relative} to volume {key.volume_id}",
                self._upload,
                key,
                relative,
                bytes(data),
            )

    async def download(self, key: VolumeKey, path: str) -> bytes:
        """The content of the file `path` in the volume."""
        with _translated("downloading"):
            name, relative = volume_name(self.deployment_id, key), paths.normalize(path)
        async with self._lock(name):
            return await self._thread(
                f"downloading {relative or '/'} from volume {key.volume_id}",
                self._download_volume,
                key,
                relative,
            )

    async def usage_bytes(self, key: VolumeKey | SnapshotKey) -> int:
        """Total size of the regular files in the volume or snapshot (marker excluded)."""
        with _translated("measuring"):
            name = self._name_of(key)
        async with self._lock(name):
            return await self._thread(f"measuring {name}", self._usage, key)

    async def create_snapshot(
        self,
        source_key: VolumeKey,
        snapshot_key: SnapshotKey,
        source_path: str = "",
        size_limit_bytes: int | None = None,
    ) -> SnapshotInfo:
        """Copies the source (or its `source_path`) into the snapshot; see VolumeStore."""
        with _translated("creating snapshot"):
            source_name = volume_name(self.deployment_id, source_key)
            name = snapshot_name(self.deployment_id, snapshot_key)
            relative = paths.normalize(source_path, "source path")
            if size_limit_bytes is not None:
                check_size_limit(size_limit_bytes)
            if source_key.tenant_id != snapshot_key.tenant_id:
                raise InvalidStorageRequest(
                    f"snapshot {snapshot_key.snapshot_id!r} of tenant {snapshot_key.tenant_id!r}"
                    f" cannot be taken from a volume of tenant {source_key.tenant_id!r}"
                )
        first, second = sorted((source_name, name))
        async with self._lock(first), self._lock(second):
            return await self._thread(
                f"creating snapshot {snapshot_key.snapshot_id}",
                self._create_snapshot,
                source_key,
                snapshot_key,
                relative,
                size_limit_bytes,
            )

    async def get_snapshot(self, key: SnapshotKey) -> SnapshotInfo | None:
        """The snapshot (size not measured), None if absent."""
        with _translated("reading snapshot"):
            snapshot_name(self.deployment_id, key)
        return await self._thread(f"reading snapshot {key.snapshot_id}", self._get_snapshot, key)

    async def list_snapshots(self, tenant_id: str | None = None) -> list[SnapshotInfo]:
        """Every snapshot of this deployment (of `tenant_id` if given), sorted by key."""
        return await self._thread("listing snapshots", self._list_snapshots, tenant_id)

    async def delete_snapshot(self, key: SnapshotKey) -> bool:
        """Deletes the snapshot; False if absent; StorageConflict while mounted."""
        with _translated("deleting snapshot"):
            name = snapshot_name(self.deployment_id, key)
        async with self._lock(name):
            return await self._thread(
                f"deleting snapshot {key.snapshot_id}",
                self._delete,
                name,
                self._snapshot_owner(key),
            )

    async def list_snapshot_files(
        self, key: SnapshotKey, path: str = "", recursive: bool = False
    ) -> list[FileEntry]:
        """Like list_files, inside a complete snapshot."""
        with _translated("listing snapshot files"):
            name, relative = snapshot_name(self.deployment_id, key), paths.normalize(path)
        async with self._lock(name):
            return await self._thread(
                f"listing {relative or '/'} in snapshot {key.snapshot_id}",
                self._list_files_snapshot,
                key,
                relative,
                recursive,
            )

    async def download_snapshot(self, key: SnapshotKey, path: str) -> bytes:
        """Like download, inside a complete snapshot."""
        with _translated("downloading from snapshot"):
            name, relative = snapshot_name(self.deployment_id, key), paths.normalize(path)
        async with self._lock(name):
            return await self._thread(
                f"downloading {relative or '/'} from snapshot {key.snapshot_id}",
                self._download_snapshot,
                key,
                relative,
            )

    async def mount_for(
        self,
        kind: StorageKind,
        key: VolumeKey | SnapshotKey,
        mount_path: str,
        sub_path: str = "",
        read_only: bool = False,
    ) -> MountSpec:
        """The MountSpec of an existing volume or snapshot; see VolumeStore.mount_for."""
        with _translated("preparing a mount"):
            kind = StorageKind(kind)
            if kind is StorageKind.VOLUME and not isinstance(key, VolumeKey):
                raise InvalidStorageRequest("a volume mount needs a VolumeKey")
            if kind is StorageKind.SNAPSHOT and not isinstance(key, SnapshotKey):
                raise InvalidStorageRequest("a snapshot mount needs a SnapshotKey")
            name = self._name_of(key)
            target = paths.normalize_mount_path(mount_path)
            relative = paths.normalize(sub_path, "sub_path")
        return await self._thread(
            f"preparing the mount of {name}",
            self._mount_for,
            kind,
            key,
            target,
            relative,
            read_only or kind is StorageKind.SNAPSHOT,
        )

    async def engine_api_version(self) -> str:
        """The API version this store speaks with the engine (the lower of both ends)."""
        return await self._thread("asking the engine's version", self._engine_api_version)

    async def subpath_supported(self) -> bool:
        """True if mounts may use VolumeOptions.Subpath (engine API >= 1.45)."""
        return api_version_at_least(await self.engine_api_version(), SUBPATH_MIN_API)

    # --- plumbing -------------------------------------------------------------------------

    def _lock(self, name: str) -> asyncio.Lock:
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        return lock

    async def _thread(self, action: str, fn: Callable[..., T], *args: Any) -> T:
        with _translated(action):
            return await asyncio.to_thread(fn, *args)

    def _docker(self) -> Any:
        with self._client_lock:
            if self._client is None:
                self._client = (
                    docker.DockerClient(base_url=self._base_url, timeout=int(self._timeout_s))
                    if self._base_url
                    else docker.from_env(timeout=int(self._timeout_s))
                )
            return self._client

    def _name_of(self, key: VolumeKey | SnapshotKey) -> str:
        if isinstance(key, VolumeKey):
            return volume_name(self.deployment_id, key)
        if isinstance(key, SnapshotKey):
            return snapshot_name(self.deployment_id, key)
        raise InvalidStorageRequest(f"not a volume or snapshot key: {key!r}")

    def _inspect_volume(self, name: str) -> Attrs | None:
        try:
            attrs: Attrs = self._docker().api.inspect_volume(name)
        except docker.errors.NotFound:
            return None
        return attrs

    def _volume_owner(self, key: VolumeKey) -> Mapping[str, str]:
        return {
            LABEL_DEPLOYMENT: self.deployment_id,
            LABEL_TENANT: key.tenant_id,
            LABEL_VOLUME: key.volume_id,
        }

    def _snapshot_owner(self, key: SnapshotKey) -> Mapping[str, str]:
        return {
            LABEL_DEPLOYMENT: self.deployment_id,
            LABEL_TENANT: key.tenant_id,
            LABEL_SNAPSHOT: key.snapshot_id,
        }

    def _owned(self, name: str, owner: Mapping[str, str], what: str) -> Attrs | None:
        """Inspect result of the Docker volume `name` if it carries `owner`'s labels; None
        when absent; StorageConflict when someone else's volume holds the name."""
        attrs = self._inspect_volume(name)
        if attrs is None:
            return None
        labels = attrs.get("Labels") or {}
        if any(labels.get(label) != value for label, value in owner.items()):
            raise StorageConflict(
                f"a Docker volume named {name!r} exists that deployment "
                f"{self.deployment_id!r} did not create for {what}; it is left untouched"
            )
        return attrs

    def _require_volume(self, key: VolumeKey) -> Attrs:
        attrs = self._owned(
            volume_name(self.deployment_id, key),
            self._volume_owner(key),
            f"volume {key.volume_id!r}",
        )
        if attrs is None:
            raise StorageNotFound(
                f"volume {key.volume_id!r} of tenant {key.tenant_id!r} does not exist"
            )
        return attrs

    def _require_snapshot(self, key: SnapshotKey) -> Attrs:
        attrs = self._owned(
            snapshot_name(self.deployment_id, key),
            self._snapshot_owner(key),
            f"snapshot {key.snapshot_id!r}",
        )
        if attrs is None:
            raise StorageNotFound(
                f"snapshot {key.snapshot_id!r} of tenant {key.tenant_id!r} does not exist"
            )
        return attrs

    @contextlib.contextmanager
    def _helper(
        self, tenant_id: str, mounts: Sequence[tuple[str, str, bool, Mapping[str, str]]]
    ) -> Iterator[_Helper]:
        """A running helper container with (volume, target, read_only, labels) mounted;
        `labels` are what Docker gives the volume should it have to create it (a volume
        deleted meanwhile elsewhere is then recreated as ours, never anonymous)."""
        client = self._docker()
        kwargs: dict[str, Any] = {
            "image": self.helper_image,
            "entrypoint": ["sleep"],
            "command": [str(HELPER_LIFETIME_S)],
            "labels": {
                LABEL_DEPLOYMENT: self.deployment_id,
                LABEL_TENANT: tenant_id,
                LABEL_STORAGE_HELPER: "1",
            },
            "mounts": [
                {
                    "Type": "volume",
                    "Source": source,
                    "Target": target,
                    "ReadOnly": read_only,
                    "VolumeOptions": {"NoCopy": True, "Labels": dict(labels)},
                }
                for source, target, read_only, labels in mounts
            ],
            "init": True,
            "network_mode": "none",
            "read_only": True,
            "user": "0:0",
            "working_dir": "/",
            "cap_drop": ["ALL"],
            "cap_add": list(HELPER_CAPABILITIES),
            "security_opt": ["no-new-privileges"],
            "mem_limit": HELPER_MEMORY,
            "pids_limit": HELPER_PIDS,
            "auto_remove": True,
        }
        try:
            container = client.containers.create(**kwargs)
        except docker.errors.ImageNotFound as exc:
            raise PermanentError(
                f"the storage helper image {self.helper_image!r} is not on this machine "
                "(build it with scripts/build-images or configure another busybox image)"
            ) from exc
        try:
            client.api.start(container.id)
            yield _Helper(client.api, container.id)
        finally:
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                client.api.remove_container(container.id, force=True)

    def _volume_mount(
        self, key: VolumeKey, attrs: Attrs, read_only: bool
    ) -> tuple[str, str, bool, Mapping[str, str]]:
        labels = attrs.get("Labels") or {}
        limit = int(labels.get(LABEL_SIZE_LIMIT, "1"))
        name = volume_name(self.deployment_id, key)
        return name, HELPER_ROOT, read_only, volume_labels(self.deployment_id, key, limit)

    def _snapshot_mount(
        self, key: SnapshotKey, attrs: Attrs, target: str, read_only: bool
    ) -> tuple[str, str, bool, Mapping[str, str]]:
        labels = attrs.get("Labels") or {}
        source = VolumeKey(key.tenant_id, str(labels.get(LABEL_SOURCE_VOLUME, "")))
        source_path = str(labels.get(LABEL_SOURCE_PATH, ""))
        name = snapshot_name(self.deployment_id, key)
        owner = (
            snapshot_labels(self.deployment_id, key, source, source_path)
            if source.volume_id
            else dict(self._snapshot_owner(key))
        )
        return name, target, read_only, owner

    # --- volumes ------------------------------------------------------------------------

    def _volume_info(self, key: VolumeKey, attrs: Attrs) -> VolumeInfo:
        labels = attrs.get("Labels") or {}
        try:
            limit = int(labels.get(LABEL_SIZE_LIMIT, ""))
        except ValueError:
            limit = 0
        return VolumeInfo(
            key=key,
            name=str(attrs.get("Name", volume_name(self.deployment_id, key))),
            size_limit_bytes=limit,
            created_at=parse_created(attrs),
        )

    def _create_volume(self, key: VolumeKey, size_limit_bytes: int) -> VolumeInfo:
        name = volume_name(self.deployment_id, key)
        what = f"volume {key.volume_id!r}"
        attrs = self._owned(name, self._volume_owner(key), what)
        if attrs is None:
            labels = {
                **volume_labels(self.deployment_id, key, size_limit_bytes),
                LABEL_CREATED_AT: datetime.now(UTC).isoformat(timespec="seconds"),
            }
            self._docker().api.create_volume(name=name, driver="local", labels=labels)
            # Docker answers a create of an existing name with that volume: check it again.
            attrs = self._owned(name, self._volume_owner(key), what)
            if attrs is None:
                raise TemporaryError(f"volume {name} vanished right after its creation")
        info = self._volume_info(key, attrs)
        if info.size_limit_bytes != size_limit_bytes:
            raise StorageConflict(
                f"{what} already exists with a size limit of {info.size_limit_bytes} bytes, "
                f"not {size_limit_bytes}"
            )
        return info

    def _get_volume(self, key: VolumeKey) -> VolumeInfo | None:
        name = volume_name(self.deployment_id, key)
        attrs = self._owned(name, self._volume_owner(key), f"volume {key.volume_id!r}")
        return None if attrs is None else self._volume_info(key, attrs)

    def _our_volumes(self, kind_label: str, tenant_id: str | None) -> list[Attrs]:
        filters = [f"{LABEL_DEPLOYMENT}={self.deployment_id}", kind_label]
        if tenant_id is not None:
            filters.append(f"{LABEL_TENANT}={validate_slug('tenant id', tenant_id)}")
        answer = self._docker().api.volumes(filters={"label": filters}) or {}
        return list(answer.get("Volumes") or [])

    def _list_volumes(self, tenant_id: str | None) -> list[VolumeInfo]:
        infos = []
        for attrs in self._our_volumes(LABEL_VOLUME, tenant_id):
            labels = attrs.get("Labels") or {}
            key = VolumeKey(str(labels.get(LABEL_TENANT, "")), str(labels.get(LABEL_VOLUME, "")))
            try:
                expected = volume_name(self.deployment_id, key)
            except ValueError:
                continue
            if attrs.get("Name") == expected:
                infos.append(self._volume_info(key, attrs))
        return sorted(infos, key=lambda info: info.key)

    def _delete(self, name: str, owner: Mapping[str, str]) -> bool:
        """Deletes an owned volume or snapshot unless a container other than our helpers
        uses it; our helpers (an operation of another process, or a leftover) are removed."""
        what = f"volume {name!r}"
        if self._owned(name, owner, what) is None:
            return False
        api = self._docker().api
        users = api.containers(all=True, filters={"volume": name})
        helpers: list[Mapping[str, Any]] = []
        others: list[Mapping[str, Any]] = []
        for summary in users:
            labels = summary.get("Labels") or {}
            ours = labels.get(LABEL_DEPLOYMENT) == self.deployment_id
            (helpers if ours and labels.get(LABEL_STORAGE_HELPER) else others).append(summary)
        if others:
            raise StorageConflict(
                f"{_kind_of(owner)} {_id_of(owner)!r} is still mounted by "
                f"{_describe_users(others)}; remove those first"
            )
        for summary in helpers:
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(summary["Id"], force=True)
        try:
            api.remove_volume(name)
        except docker.errors.NotFound:
            return False
        return True

    def _upload(self, key: VolumeKey, relative: str, data: bytes) -> FileEntry:
        attrs = self._require_volume(key)
        limit = self._volume_info(key, attrs).size_limit_bytes
        with self._helper(key.tenant_id, [self._volume_mount(key, attrs, False)]) as helper:
            resolved = helper.probe(relative)
            if resolved.kind == "d":
                raise InvalidStorageRequest(f"{paths.describe(relative)} is a directory")
            if resolved.kind == "o":
                raise InvalidStorageRequest(f"{paths.describe(relative)} is not a regular file")
            usage = helper.sizes(HELPER_ROOT)
            replaced = resolved.size if resolved.kind == "f" else 0
            after = usage - replaced + len(data)
            if after > limit:
                raise QuotaExceeded(
                    f"uploading {len(data)} bytes to {paths.describe(relative)} would take volume "
                    f"{key.volume_id!r} to {after} bytes, over its size limit of {limit} bytes "
                    f"({usage} bytes used now)"
                )
            if resolved.exists:  # replace the file where it really is
                directory, _, name = resolved.real.rpartition("/")
                dirs: Sequence[str] = ()
            else:  # create the missing directories below the deepest existing one
                directory, (*dirs, name) = resolved.real, resolved.missing
            now = time.time()
            uid, gid = self.file_owner
            helper.put(directory, upload_tar(dirs, name, data, mtime=now, uid=uid, gid=gid))
        return FileEntry(path=relative, size=len(data), is_dir=False, mtime=_mtime(int(now)))

    def _usage(self, key: VolumeKey | SnapshotKey) -> int:
        if isinstance(key, SnapshotKey):
            with self._complete_snapshot(key) as helper:
                return helper.sizes(HELPER_ROOT, exclude=paths.join(HELPER_ROOT, SNAPSHOT_MARKER))
        attrs = self._require_volume(key)
        with self._helper(key.tenant_id, [self._volume_mount(key, attrs, True)]) as helper:
            return helper.sizes(HELPER_ROOT)

    # --- reading files (volumes and snapshots alike) -----------------------------------

    def _list_in(
        self, helper: _Helper, relative: str, recursive: bool, hidden: frozenset[str]
    ) -> list[FileEntry]:
        resolved = helper.probe(relative)
        if not resolved.exists or resolved.real in hidden:
            raise StorageNotFound(f"{paths.describe(relative)} does not exist")
        if resolved.kind == "d":
            output = helper.listing(resolved.real, relative, recursive, hidden)
        else:
            output = helper.stat_one(resolved.real, relative)
        return parse_listing(output, resolved.real, relative, hidden)

    def _download_in(self, helper: _Helper, relative: str, hidden: frozenset[str]) -> bytes:
        resolved = helper.probe(relative)
        if not resolved.exists or resolved.real in hidden:
            raise StorageNotFound(f"{paths.describe(relative)} does not exist")
        if resolved.kind == "d":
            raise InvalidStorageRequest(
                f"{paths.describe(relative)} is a directory; only files can be downloaded"
            )
        if resolved.kind != "f":
            raise InvalidStorageRequest(f"{paths.describe(relative)} is not a regular file")
        if resolved.size > self.max_transfer_bytes:
            raise InvalidStorageRequest(
                f"{paths.describe(relative)} is {resolved.size} bytes; downloads are limited to "
                f"{self.max_transfer_bytes}"
            )
        archive = helper.get(resolved.real, self.max_transfer_bytes, relative)
        return single_file_from_tar(archive, relative)

    def _list_files_volume(self, key: VolumeKey, relative: str, recursive: bool) -> list[FileEntry]:
        attrs = self._require_volume(key)
        with self._helper(key.tenant_id, [self._volume_mount(key, attrs, True)]) as helper:
            return self._list_in(helper, relative, recursive, frozenset())

    def _download_volume(self, key: VolumeKey, relative: str) -> bytes:
        attrs = self._require_volume(key)
        with self._helper(key.tenant_id, [self._volume_mount(key, attrs, True)]) as helper:
            return self._download_in(helper, relative, frozenset())

    # --- snapshots ----------------------------------------------------------------------

    def _snapshot_info(self, key: SnapshotKey, attrs: Attrs, size: int | None) -> SnapshotInfo:
        labels = attrs.get("Labels") or {}
        return SnapshotInfo(
            key=key,
            name=str(attrs.get("Name", snapshot_name(self.deployment_id, key))),
            source=VolumeKey(key.tenant_id, str(labels.get(LABEL_SOURCE_VOLUME, ""))),
            source_path=str(labels.get(LABEL_SOURCE_PATH, "")),
            created_at=parse_created(attrs),
            size_bytes=size,
        )

    def _read_marker(
        self, helper: _Helper, key: SnapshotKey, attrs: Attrs, root: str
    ) -> int | None:
        """The recorded size if the snapshot mounted at `root` is complete, else None."""
        marker = paths.join(root, SNAPSHOT_MARKER)
        # -type f without -L: a link planted under the marker's name is never followed.
        argv = ["find", marker, "-maxdepth", "0", "-type", "f", "-exec", "cat", "{}", "+"]
        code, out, _ = helper.run(argv)
        if code != 0 or not out:
            return None
        return marker_size(out, key, str((attrs.get("Labels") or {}).get(LABEL_COPY_TOKEN, "")))

    def _check_complete(self, helper: _Helper, key: SnapshotKey, attrs: Attrs, root: str) -> int:
        size = self._read_marker(helper, key, attrs, root)
        if size is None:
            raise StorageConflict(
                f"snapshot {key.snapshot_id!r} is incomplete (its copy was interrupted); "
                "create it again or delete it"
            )
        return size

    def _create_snapshot(
        self,
        source_key: VolumeKey,
        key: SnapshotKey,
        relative: str,
        size_limit_bytes: int | None,
    ) -> SnapshotInfo:
        name = snapshot_name(self.deployment_id, key)
        attrs = self._owned(name, self._snapshot_owner(key), f"snapshot {key.snapshot_id!r}")
        if attrs is not None:
            existing = attrs.get("Labels") or {}
            if (existing.get(LABEL_SOURCE_VOLUME), existing.get(LABEL_SOURCE_PATH)) != (
                source_key.volume_id,
                relative,
            ):
                raise StorageConflict(
                    f"snapshot {key.snapshot_id!r} already exists, taken from volume "
                    f"{existing.get(LABEL_SOURCE_VOLUME)!r} path "
                    f"{existing.get(LABEL_SOURCE_PATH)!r}"
                )
            # A replay: complete snapshots are returned as they are, even if their source
            # has been deleted since.
            mount = self._snapshot_mount(key, attrs, HELPER_ROOT, True)
            with self._helper(key.tenant_id, [mount]) as helper:
                size = self._read_marker(helper, key, attrs, HELPER_ROOT)
            if size is not None:
                return self._snapshot_info(key, attrs, size)
        source_attrs = self._require_volume(source_key)
        if attrs is None:
            labels = {
                **snapshot_labels(self.deployment_id, key, source_key, relative),
                LABEL_CREATED_AT: datetime.now(UTC).isoformat(timespec="seconds"),
                LABEL_COPY_TOKEN: secrets.token_hex(16),
            }
            self._docker().api.create_volume(name=name, driver="local", labels=labels)
            attrs = self._require_snapshot(key)
        mounts = [
            self._volume_mount(source_key, source_attrs, True),
            self._snapshot_mount(key, attrs, COPY_TARGET, False),
        ]
        discard = False
        try:
            with self._helper(key.tenant_id, mounts) as helper:
                try:  # new, or an interrupted copy: (re)copy
                    size = self._copy(helper, key, attrs, source_key, relative, size_limit_bytes)
                except PermanentError:
                    discard = True  # incomplete, and asking again will not help
                    raise
            return self._snapshot_info(key, attrs, size)
        finally:
            if discard:  # after the helper is gone, so the volume is free
                with contextlib.suppress(docker.errors.APIError):
                    self._docker().api.remove_volume(name)

    def _copy(
        self,
        helper: _Helper,
        key: SnapshotKey,
        attrs: Attrs,
        source_key: VolumeKey,
        relative: str,
        size_limit_bytes: int | None,
    ) -> int:
        """Fills the snapshot at COPY_TARGET from the source at HELPER_ROOT; its size."""
        resolved = helper.probe(relative)
        if not resolved.exists:
            raise StorageNotFound(
                f"{paths.describe(relative)} does not exist in volume {source_key.volume_id!r}"
            )
        if resolved.kind not in ("d", "f"):
            raise InvalidStorageRequest(f"{paths.describe(relative)} is not a file or a directory")
        if size_limit_bytes is not None:
            needed = helper.sizes(resolved.real)
            if needed > size_limit_bytes:
                raise QuotaExceeded(
                    f"{paths.describe(relative)} of volume {source_key.volume_id!r} holds {needed} "
                    f"bytes, over the snapshot size limit of {size_limit_bytes} bytes"
                )
        wipe = ["find", COPY_TARGET, "-mindepth", "1", "-maxdepth", "1", "-exec", "rm", "-rf"]
        helper.checked([*wipe, "{}", "+"], "clearing an interrupted snapshot")
        if resolved.kind == "d":
            argv = ["cp", "-a", resolved.real + "/.", COPY_TARGET + "/"]
        else:
            argv = ["cp", "-a", resolved.real, paths.join(COPY_TARGET, relative.rpartition("/")[2])]
        code, _, err = helper.run(argv)
        if code != 0:
            raise PermanentError(
                f"copying {paths.describe(relative)} of volume {source_key.volume_id!r} into "
                f"snapshot {key.snapshot_id!r} failed: {_tail(err)}"
            )
        marker_path = paths.join(COPY_TARGET, SNAPSHOT_MARKER)
        size = helper.sizes(COPY_TARGET, exclude=marker_path)
        if size_limit_bytes is not None and size > size_limit_bytes:
            raise QuotaExceeded(
                f"the copy of {paths.describe(relative)} is {size} bytes, over the snapshot size "
                f"limit of {size_limit_bytes} bytes"
            )
        token = str((attrs.get("Labels") or {}).get(LABEL_COPY_TOKEN, ""))
        marker = marker_bytes(key, source_key, relative, size, token)
        helper.checked(["rm", "-rf", marker_path], "clearing the snapshot marker")
        tar_data = upload_tar((), SNAPSHOT_MARKER, marker, mtime=time.time())
        helper.put(COPY_TARGET, tar_data)
        return size

    def _get_snapshot(self, key: SnapshotKey) -> SnapshotInfo | None:
        name = snapshot_name(self.deployment_id, key)
        attrs = self._owned(name, self._snapshot_owner(key), f"snapshot {key.snapshot_id!r}")
        return None if attrs is None else self._snapshot_info(key, attrs, None)

    def _list_snapshots(self, tenant_id: str | None) -> list[SnapshotInfo]:
        infos = []
        for attrs in self._our_volumes(LABEL_SNAPSHOT, tenant_id):
            labels = attrs.get("Labels") or {}
            key = SnapshotKey(
                str(labels.get(LABEL_TENANT, "")), str(labels.get(LABEL_SNAPSHOT, ""))
            )
            try:
                expected = snapshot_name(self.deployment_id, key)
            except ValueError:
                continue
            if attrs.get("Name") == expected:
                infos.append(self._snapshot_info(key, attrs, None))
        return sorted(infos, key=lambda info: info.key)

    @contextlib.contextmanager
    def _complete_snapshot(self, key: SnapshotKey) -> Iterator[_Helper]:
        """A helper with the snapshot mounted read-only at HELPER_ROOT; StorageConflict if
        its copy was interrupted."""
        attrs = self._require_snapshot(key)
        mount = self._snapshot_mount(key, attrs, HELPER_ROOT, True)
        with self._helper(key.tenant_id, [mount]) as helper:
            self._check_complete(helper, key, attrs, HELPER_ROOT)
            yield helper

    def _list_files_snapshot(
        self, key: SnapshotKey, relative: str, recursive: bool
    ) -> list[FileEntry]:
        with self._complete_snapshot(key) as helper:
            return self._list_in(helper, relative, recursive, _SNAPSHOT_HIDDEN)

    def _download_snapshot(self, key: SnapshotKey, relative: str) -> bytes:
        with self._complete_snapshot(key) as helper:
            return self._download_in(helper, relative, _SNAPSHOT_HIDDEN)

    # --- mounts -------------------------------------------------------------------------

    def _engine_api_version(self) -> str:
        if self._api_version is None:
            client = self._docker()
            server = str(client.version().get("ApiVersion", "0.0"))
            spoken = str(client.api.api_version)
            both = sorted((server, spoken), key=_version_tuple)
            self._api_version = both[0]
        return self._api_version

    def _mount_for(
        self,
        kind: StorageKind,
        key: VolumeKey | SnapshotKey,
        target: str,
        relative: str,
        read_only: bool,
    ) -> MountSpec:
        if isinstance(key, VolumeKey):
            attrs = self._require_volume(key)
        else:
            attrs = self._require_snapshot(key)
        sub_path = ""
        if relative:
            version = self._engine_api_version()
            if not api_version_at_least(version, SUBPATH_MIN_API):
                raise InvalidStorageRequest(
                    f"sub_path {relative!r} needs Docker engine API >= 1.45 (volume subpath "
                    f"mounts); this engine speaks {version}. Mount the whole "
                    f"{kind.value} instead"
                )
            sub_path = self._resolve_sub_path(key, attrs, relative)
        return MountSpec(
            kind=kind,
            volume_name=self._name_of(key),
            target=target,
            read_only=read_only,
            sub_path=sub_path,
        )

    def _resolve_sub_path(self, key: VolumeKey | SnapshotKey, attrs: Attrs, relative: str) -> str:
        """The sub path as it really lies in the volume: a directory, reached without
        leaving the volume (links inside it resolved)."""
        if isinstance(key, VolumeKey):
            mount = self._volume_mount(key, attrs, True)
        else:
            mount = self._snapshot_mount(key, attrs, HELPER_ROOT, True)
        with self._helper(key.tenant_id, [mount]) as helper:
            resolved = helper.probe(relative)
        if not resolved.exists:
            raise StorageNotFound(f"sub_path {relative!r} does not exist")
        if resolved.kind != "d":
            raise InvalidStorageRequest(f"sub_path {relative!r} is not a directory")
        return paths.relative_to(HELPER_ROOT, resolved.real)


_SNAPSHOT_HIDDEN = frozenset({paths.join(HELPER_ROOT, SNAPSHOT_MARKER)})


def _version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (0,)


def _kind_of(owner: Mapping[str, str]) -> str:
    return "snapshot" if LABEL_SNAPSHOT in owner else "volume"


def _id_of(owner: Mapping[str, str]) -> str:
    return owner.get(LABEL_SNAPSHOT) or owner.get(LABEL_VOLUME) or "?"


def _describe_users(summaries: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for summary in summaries:
        names = summary.get("Names") or [str(summary.get("Id", ""))[:12]]
        name = str(names[0]).lstrip("/")
        pod = (summary.get("Labels") or {}).get(LABEL_POD)
        state = summary.get("State", "")
        parts.append(f"container {name}" + (f" (pod {pod}, {state})" if pod else f" ({state})"))
    return ", ".join(parts)

"""Data crossing the storage seam, the `VolumeStore` protocol, and the names and labels of the
Docker volumes (or Kubernetes claims) behind pod volumes and snapshots (Tapis Pods "volumes"
and "snapshots").

Callers: the API layer (services/api) creates, lists, deletes and fills volumes and snapshots
through a VolumeStore, and asks `mount_for` whether one can be mounted as a pod asks; the spawner
builds the pod's MountSpecs with the pure `volume_name` / `snapshot_name`. Implementations:
DockerVolumeStore and KubernetesVolumeStore (PersistentVolumeClaims of the same names) in
services/spawner/platforms/, and fake.FakeVolumeStore; services/spawner/platforms/factory.py
chooses. The API's is services/api/remote_volumes.RemoteVolumeStore, which calls the spawner's
(SpawnerService, wire.py): only the spawner talks to the runtime. MountSpec and StorageKind are
defined in runtime.types (a ContainerSpec holds MountSpecs) and re-exported.

Errors: implementations raise outcomes.TemporaryError (engine trouble: try again) or
outcomes.PermanentError, never SDK exceptions. Permanent errors come as the subclasses below
so that the API can choose a status code: StorageNotFound (404), InvalidStorageRequest (400:
bad id, bad path, a directory where a file is needed), StorageConflict (in use, exists with
other settings) and QuotaExceeded (the size limit), both a failed precondition (400) for
services/api/domain/volumes.py. Pure helpers here raise ValueError for invalid ids.

Naming: a volume is the Docker volume `pods-<deployment>-vol-<tenant>-<volume_id>`, a
snapshot `pods-<deployment>-snap-<tenant>-<snapshot_id>`; both carry the deployment and
tenant labels the runtime uses for containers. Names are deterministic (a replayed request
finds what an earlier attempt created); ownership is decided by labels, never by name alone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from services.common.outcomes import PermanentError
from services.common.runtime.naming import validate_slug
from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_TENANT
from services.common.runtime.types import MountSpec as MountSpec
from services.common.runtime.types import StorageKind as StorageKind

if TYPE_CHECKING:  # chunks imports this module's errors
    from services.common.storage.chunks import ChunkStream

LABEL_VOLUME = "org.pods-service.volume"
LABEL_SNAPSHOT = "org.pods-service.snapshot"
LABEL_SIZE_LIMIT = "org.pods-service.size-limit-bytes"
LABEL_SOURCE_VOLUME = "org.pods-service.source-volume"
LABEL_SOURCE_PATH = "org.pods-service.source-path"
LABEL_STORAGE_HELPER = "org.pods-service.storage-helper"

MAX_VOLUME_NAME_LENGTH = 128
_HASHED_SUFFIX_LENGTH = 16
_STORAGE_ID = re.compile(r"[a-z][a-z0-9]{2,63}")


class StorageNotFound(PermanentError):
    """The volume, snapshot or file does not exist (or is not ours)."""


class InvalidStorageRequest(PermanentError):
    """The request itself is wrong: an invalid id or path, a directory where a file is
    needed, a symbolic link leading outside the volume, an unsupported sub_path."""


class StorageConflict(PermanentError):
    """The state forbids it: mounted by a container, or exists with other settings."""


class QuotaExceeded(PermanentError):
    """The operation would take a volume or snapshot over its size limit."""


@dataclass(frozen=True, order=True)
class VolumeKey:
    """Identifies a volume: tenant slug and volume id (validated by `validate_volume_key`)."""

    tenant_id: str
    volume_id: str


@dataclass(frozen=True, order=True)
class SnapshotKey:
    """Identifies a snapshot: tenant slug and snapshot id."""

    tenant_id: str
    snapshot_id: str


@dataclass(frozen=True)
class VolumeInfo:
    """A volume as the store knows it."""

    key: VolumeKey
    name: str  # the Docker volume name
    size_limit_bytes: int
    created_at: datetime | None = None


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot as the store knows it. `size_bytes` is the size of the copy, measured by
    create_snapshot; None where it was not measured (get_snapshot, list_snapshots)."""

    key: SnapshotKey
    name: str
    source: VolumeKey
    source_path: str  # normalized, "" for the whole volume
    created_at: datetime | None = None
    size_bytes: int | None = None


@dataclass(frozen=True)
class FileEntry:
    """One file or directory inside a volume or snapshot.

    `path` is relative to the volume root, spelled from the path the caller asked for (not
    from where symbolic links inside the volume lead). `size` is the byte size of a regular
    file, 0 for directories and symbolic links; `mtime` is the modification time (UTC,
    whole seconds). Symbolic links are listed, never followed."""

    path: str
    size: int
    is_dir: bool
    mtime: datetime
    is_symlink: bool = False


# --- ids, names and labels (pure) -----------------------------------------------------


def validate_storage_id(what: str, value: str) -> str:
    """Returns `value` if it is 3-64 lowercase letters and digits starting with a letter."""
    if not isinstance(value, str) or not _STORAGE_ID.fullmatch(value):
        raise ValueError(
            f"{what} {value!r} must be 3 to 64 lowercase letters and digits, starting with a letter"
        )
    return value


def validate_volume_key(key: VolumeKey) -> VolumeKey:
    """Returns `key` if its tenant is a slug and its volume id valid, else ValueError."""
    validate_slug("tenant id", key.tenant_id)
    validate_storage_id("volume id", key.volume_id)
    return key


def validate_snapshot_key(key: SnapshotKey) -> SnapshotKey:
    """Returns `key` if its tenant is a slug and its snapshot id valid, else ValueError."""
    validate_slug("tenant id", key.tenant_id)
    validate_storage_id("snapshot id", key.snapshot_id)
    return key


def _bounded(full: str) -> str:
    if len(full) <= MAX_VOLUME_NAME_LENGTH:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASHED_SUFFIX_LENGTH]
    return f"{full[: MAX_VOLUME_NAME_LENGTH - _HASHED_SUFFIX_LENGTH - 1]}-{digest}"


def volume_name(deployment_id: str, key: VolumeKey) -> str:
    """`pods-<deployment>-vol-<tenant>-<volume_id>`, hashed down to 128 characters if longer."""
    validate_slug("deployment id", deployment_id)
    validate_volume_key(key)
    return _bounded(f"pods-{deployment_id}-vol-{key.tenant_id}-{key.volume_id}")


def snapshot_name(deployment_id: str, key: SnapshotKey) -> str:
    """`pods-<deployment>-snap-<tenant>-<snapshot_id>`, hashed down to 128 characters."""
    validate_slug("deployment id", deployment_id)
    validate_snapshot_key(key)
    return _bounded(f"pods-{deployment_id}-snap-{key.tenant_id}-{key.snapshot_id}")


def volume_labels(deployment_id: str, key: VolumeKey, size_limit_bytes: int) -> dict[str, str]:
    """The labels of a volume's Docker volume."""
    return {
        LABEL_DEPLOYMENT: validate_slug("deployment id", deployment_id),
        LABEL_TENANT: validate_volume_key(key).tenant_id,
        LABEL_VOLUME: key.volume_id,
        LABEL_SIZE_LIMIT: str(size_limit_bytes),
    }


def snapshot_labels(
    deployment_id: str, key: SnapshotKey, source: VolumeKey, source_path: str
) -> dict[str, str]:
    """The labels of a snapshot's Docker volume (its source volume and normalized path)."""
    return {
        LABEL_DEPLOYMENT: validate_slug("deployment id", deployment_id),
        LABEL_TENANT: validate_snapshot_key(key).tenant_id,
        LABEL_SNAPSHOT: key.snapshot_id,
        LABEL_SOURCE_VOLUME: validate_volume_key(source).volume_id,
        LABEL_SOURCE_PATH: source_path,
    }


def check_size_limit(size_limit_bytes: int) -> int:
    """Returns the limit if it is a positive int, else ValueError."""
    if isinstance(size_limit_bytes, bool) or not isinstance(size_limit_bytes, int):
        raise ValueError(f"size limit must be an integer number of bytes: {size_limit_bytes!r}")
    if size_limit_bytes <= 0:
        raise ValueError(f"size limit must be positive, not {size_limit_bytes}")
    return size_limit_bytes


# --- the protocol ---------------------------------------------------------------------


class VolumeStore(Protocol):
    """Volumes and snapshots of one deployment. Idempotent where it makes sense: create
    returns what exists when it matches, delete of something absent returns False."""

    async def create_volume(self, key: VolumeKey, size_limit_bytes: int) -> VolumeInfo:
        """Creates the volume, or returns it if it exists with the same size limit
        (StorageConflict if it exists with another)."""
        ...

    async def get_volume(self, key: VolumeKey) -> VolumeInfo | None:
        """The volume, or None."""
        ...

    async def list_volumes(self, tenant_id: str | None = None) -> list[VolumeInfo]:
        """Every volume of the deployment (of one tenant if given), sorted by key."""
        ...

    async def delete_volume(self, key: VolumeKey) -> bool:
        """Deletes the volume and its content; False if it did not exist. StorageConflict
        while a pod's container (running or stopped) mounts it. Snapshots taken from it
        are independent copies and stay."""
        ...

    async def list_files(
        self, key: VolumeKey, path: str = "", recursive: bool = False
    ) -> list[FileEntry]:
        """The entries of directory `path` (all below it if `recursive`), or the one entry
        of the file `path`; sorted by path."""
        ...

    async def upload(self, key: VolumeKey, path: str, data: bytes) -> FileEntry:
        """Writes `data` to the file `path`, creating parent directories and replacing an
        existing file. QuotaExceeded when usage - replaced file + len(data) > limit."""
        ...

    async def open_download(self, key: VolumeKey, path: str) -> ChunkStream:
        """The content of the file `path` as a stream of chunks (at most chunks.CHUNK_SIZE
        each; one empty chunk for an empty file). Awaiting it checks the file: StorageNotFound,
        InvalidStorageRequest for a directory or a bad path. An error while the chunks flow is
        raised by the iteration. Callers that may stop early close the stream (aclose)."""
        ...

    async def download(self, key: VolumeKey, path: str) -> bytes:
        """The whole content of the file `path`, in memory (small files: tests and tools)."""
        ...

    async def usage_bytes(self, key: VolumeKey | SnapshotKey) -> int:
        """Total size of the regular files in the volume or snapshot."""
        ...

    async def create_snapshot(
        self,
        source_key: VolumeKey,
        snapshot_key: SnapshotKey,
        source_path: str = "",
        size_limit_bytes: int | None = None,
    ) -> SnapshotInfo:
        """Copies the volume (or its directory or file `source_path`) into a new snapshot;
        returns it with the size of the copy. If the snapshot exists complete with the same
        source it is returned as it is; QuotaExceeded when the copy would exceed
        `size_limit_bytes`. Source and snapshot must belong to the same tenant."""
        ...

    async def get_snapshot(self, key: SnapshotKey) -> SnapshotInfo | None:
        """The snapshot, or None (its size is not measured here)."""
        ...

    async def list_snapshots(self, tenant_id: str | None = None) -> list[SnapshotInfo]:
        """Every snapshot of the deployment (of one tenant if given), sorted by key."""
        ...

    async def delete_snapshot(self, key: SnapshotKey) -> bool:
        """Deletes the snapshot; False if absent; StorageConflict while mounted."""
        ...

    async def list_snapshot_files(
        self, key: SnapshotKey, path: str = "", recursive: bool = False
    ) -> list[FileEntry]:
        """Like list_files, inside a snapshot."""
        ...

    async def open_snapshot_download(self, key: SnapshotKey, path: str) -> ChunkStream:
        """Like open_download, inside a snapshot."""
        ...

    async def download_snapshot(self, key: SnapshotKey, path: str) -> bytes:
        """Like download, inside a snapshot."""
        ...

    async def mount_for(
        self,
        kind: StorageKind,
        key: VolumeKey | SnapshotKey,
        mount_path: str,
        sub_path: str = "",
        read_only: bool = False,
    ) -> MountSpec:
        """The MountSpec for mounting an existing volume or snapshot at `mount_path`
        (snapshots always read-only). A non-empty `sub_path` needs engine support
        (InvalidStorageRequest otherwise)."""
        ...

"""FakeVolumeStore: an in-memory VolumeStore with DockerVolumeStore's semantics.

Used by unit tests of the API layer (and anything else that takes a VolumeStore). Same
validation, the same error classes and the same confinement rules: paths go through
storage.paths, symbolic links planted with `plant_symlink` are followed only while they stay
inside the volume (a link leading out, a link to nothing or a loop is refused, as the Docker
store refuses them after `realpath`), usage is the sum of regular-file sizes, snapshots are
deep copies taken at once, delete refuses while `hold_mount` says a container mounts the
volume, and a non-empty sub_path needs `subpath_supported=True`. Deterministic: times come
from a ticking clock (one second per reading).

Downloads stream the stored bytes in chunks of `chunk_size`.
Test hooks besides the protocol: `plant_file` and `plant_symlink` (what a pod could write,
no limit applied), `hold_mount` / `release_mount` (a container mounting a volume by its
Docker name), `fail_next` (the next calls raise the given errors), `calls` (every protocol
call by name, in order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from services.common.outcomes import PodsError
from services.common.runtime.fake import ticking_clock
from services.common.runtime.naming import validate_slug
from services.common.storage import paths
from services.common.storage.chunks import CHUNK_SIZE, ChunkStream
from services.common.storage.fake_tree import Node, Tree
from services.common.storage.types import (
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
    snapshot_name,
    volume_name,
)

T = TypeVar("T")


@dataclass
class _Volume:
    key: VolumeKey
    limit: int
    created_at: datetime
    tree: Tree


@dataclass
class _Snapshot:
    key: SnapshotKey
    source: VolumeKey
    source_path: str
    created_at: datetime
    tree: Tree


@dataclass
class FakeVolumeStore:
    """In-memory VolumeStore of one deployment; see the module docstring."""

    deployment_id: str = "local"
    subpath_supported: bool = False
    clock: Callable[[], datetime] = field(default_factory=ticking_clock)
    calls: list[str] = field(default_factory=list)
    chunk_size: int = CHUNK_SIZE  # of the streams open_download returns

    def __post_init__(self) -> None:
        validate_slug("deployment id", self.deployment_id)
        self._volumes: dict[VolumeKey, _Volume] = {}
        self._snapshots: dict[SnapshotKey, _Snapshot] = {}
        self._mounts: dict[str, set[str]] = {}
        self._failures: list[PodsError] = []

    # --- test hooks -------------------------------------------------------------------

    def plant_file(self, key: VolumeKey, path: str, data: bytes) -> None:
        """Writes a file as a pod would (parents created, no size limit)."""
        tree = self._volume(key).tree
        tree.write(paths.normalize(path), data, self.clock)

    def plant_symlink(self, key: VolumeKey, path: str, target: str) -> None:
        """Creates a symbolic link as a pod could; `target` is taken verbatim (absolute
        targets are read as the helper sees them, with the volume at /v)."""
        tree = self._volume(key).tree
        relative = paths.normalize(path)
        parent, _ = paths.parent_and_name(relative)
        tree.make_dirs(parent, self.clock)
        tree.nodes[relative] = Node("l", self.clock(), target=target)

    def hold_mount(self, volume_name: str, container: str) -> None:
        """Records that `container` mounts the Docker volume `volume_name`."""
        self._mounts.setdefault(volume_name, set()).add(container)

    def release_mount(self, volume_name: str, container: str) -> None:
        self._mounts.get(volume_name, set()).discard(container)

    def fail_next(self, *errors: PodsError) -> None:
        """The next protocol calls raise these errors, one each, in order."""
        self._failures.extend(errors)

    # --- the VolumeStore protocol -----------------------------------------------------

    async def create_volume(self, key: VolumeKey, size_limit_bytes: int) -> VolumeInfo:
        self._enter("create_volume")
        self._vname(key)
        self._checked(check_size_limit, size_limit_bytes)
        volume = self._volumes.get(key)
        if volume is None:
            now = self.clock()
            volume = _Volume(key, size_limit_bytes, now, Tree({"": Node("d", now)}))
            self._volumes[key] = volume
        elif volume.limit != size_limit_bytes:
            raise StorageConflict(
                f"volume {key.volume_id!r} already exists with a size limit of "
                f"{volume.limit} bytes, not {size_limit_bytes}"
            )
        return self._volume_info(volume)

    async def get_volume(self, key: VolumeKey) -> VolumeInfo | None:
        self._enter("get_volume")
        self._vname(key)
        volume = self._volumes.get(key)
        return None if volume is None else self._volume_info(volume)

    async def list_volumes(self, tenant_id: str | None = None) -> list[VolumeInfo]:
        self._enter("list_volumes")
        self._tenant(tenant_id)
        return [
            self._volume_info(volume)
            for key, volume in sorted(self._volumes.items())
            if tenant_id is None or key.tenant_id == tenant_id
        ]

    async def delete_volume(self, key: VolumeKey) -> bool:
        self._enter("delete_volume")
        name = self._vname(key)
        if key not in self._volumes:
            return False
        self._refuse_if_mounted(name, f"volume {key.volume_id!r}")
        del self._volumes[key]
        return True

    async def list_files(
        self, key: VolumeKey, path: str = "", recursive: bool = False
    ) -> list[FileEntry]:
        self._enter("list_files")
        self._vname(key)
        relative = self._path(path)
        return self._volume(key).tree.listing(relative, recursive)

    async def upload(self, key: VolumeKey, path: str, data: bytes) -> FileEntry:
        self._enter("upload")
        self._vname(key)
        relative = self._path(path)
        if not relative:
            raise InvalidStorageRequest("upload needs a file path, not the volume root")
        volume = self._volume(key)
        resolved = volume.tree.resolve(relative)
        node = resolved.node
        if node is not None and node.kind == "d":
            raise InvalidStorageRequest(f"{paths.describe(relative)} is a directory")
        usage = volume.tree.size()
        after = usage - (len(node.data) if node is not None else 0) + len(data)
        if after > volume.limit:
            raise QuotaExceeded(
                f"uploading {len(data)} bytes to {paths.describe(relative)} would take volume "
                f"{key.volume_id!r} to {after} bytes, over its size limit of {volume.limit} "
                f"bytes ({usage} bytes used now)"
            )
        real = "/".join(filter(None, (resolved.real, *resolved.missing)))
        mtime = volume.tree.write(real, bytes(data), self.clock)
        return FileEntry(path=relative, size=len(data), is_dir=False, mtime=mtime)

    async def open_download(self, key: VolumeKey, path: str) -> ChunkStream:
        self._enter("open_download")
        self._vname(key)
        data = self._volume(key).tree.download(self._path(path))
        return ChunkStream.of_bytes(data, self.chunk_size)

    async def download(self, key: VolumeKey, path: str) -> bytes:
        self._enter("download")
        self._vname(key)
        return self._volume(key).tree.download(self._path(path))

    async def usage_bytes(self, key: VolumeKey | SnapshotKey) -> int:
        self._enter("usage_bytes")
        if isinstance(key, SnapshotKey):
            self._sname(key)
            return self._snapshot(key).tree.size()
        self._vname(key)
        return self._volume(key).tree.size()

    async def create_snapshot(
        self,
        source_key: VolumeKey,
        snapshot_key: SnapshotKey,
        source_path: str = "",
        size_limit_bytes: int | None = None,
    ) -> SnapshotInfo:
        self._enter("create_snapshot")
        self._vname(source_key)
        self._sname(snapshot_key)
        relative = self._path(source_path, "source path")
        if size_limit_bytes is not None:
            self._checked(check_size_limit, size_limit_bytes)
        if source_key.tenant_id != snapshot_key.tenant_id:
            raise InvalidStorageRequest(
                f"snapshot {snapshot_key.snapshot_id!r} of tenant {snapshot_key.tenant_id!r} "
                f"cannot be taken from a volume of tenant {source_key.tenant_id!r}"
            )
        existing = self._snapshots.get(snapshot_key)
        if existing is not None:
            if (existing.source, existing.source_path) != (source_key, relative):
                raise StorageConflict(
                    f"snapshot {snapshot_key.snapshot_id!r} already exists, taken from volume "
                    f"{existing.source.volume_id!r} path {existing.source_path!r}"
                )
            return self._snapshot_info(existing, existing.tree.size())  # even without source
        tree = self._volume(source_key).tree.copy(relative, source_key, self.clock)
        size = tree.size()
        if size_limit_bytes is not None and size > size_limit_bytes:
            raise QuotaExceeded(
                f"{paths.describe(relative)} of volume {source_key.volume_id!r} holds {size} "
                f"bytes, over the snapshot size limit of {size_limit_bytes} bytes"
            )
        snapshot = _Snapshot(snapshot_key, source_key, relative, self.clock(), tree)
        self._snapshots[snapshot_key] = snapshot
        return self._snapshot_info(snapshot, size)

    async def get_snapshot(self, key: SnapshotKey) -> SnapshotInfo | None:
        self._enter("get_snapshot")
        self._sname(key)
        snapshot = self._snapshots.get(key)
        return None if snapshot is None else self._snapshot_info(snapshot, None)

    async def list_snapshots(self, tenant_id: str | None = None) -> list[SnapshotInfo]:
        self._enter("list_snapshots")
        self._tenant(tenant_id)
        return [
            self._snapshot_info(snapshot, None)
            for key, snapshot in sorted(self._snapshots.items())
            if tenant_id is None or key.tenant_id == tenant_id
        ]

    async def delete_snapshot(self, key: SnapshotKey) -> bool:
        self._enter("delete_snapshot")
        name = self._sname(key)
        if key not in self._snapshots:
            return False
        self._refuse_if_mounted(name, f"snapshot {key.snapshot_id!r}")
        del self._snapshots[key]
        return True

    async def list_snapshot_files(
        self, key: SnapshotKey, path: str = "", recursive: bool = False
    ) -> list[FileEntry]:
        self._enter("list_snapshot_files")
        self._sname(key)
        relative = self._path(path)
        return self._snapshot(key).tree.listing(relative, recursive)

    async def open_snapshot_download(self, key: SnapshotKey, path: str) -> ChunkStream:
        self._enter("open_snapshot_download")
        self._sname(key)
        data = self._snapshot(key).tree.download(self._path(path))
        return ChunkStream.of_bytes(data, self.chunk_size)

    async def download_snapshot(self, key: SnapshotKey, path: str) -> bytes:
        self._enter("download_snapshot")
        self._sname(key)
        return self._snapshot(key).tree.download(self._path(path))

    async def mount_for(
        self,
        kind: StorageKind,
        key: VolumeKey | SnapshotKey,
        mount_path: str,
        sub_path: str = "",
        read_only: bool = False,
    ) -> MountSpec:
        self._enter("mount_for")
        kind = self._checked(StorageKind, kind)
        if kind is StorageKind.VOLUME and not isinstance(key, VolumeKey):
            raise InvalidStorageRequest("a volume mount needs a VolumeKey")
        if kind is StorageKind.SNAPSHOT and not isinstance(key, SnapshotKey):
            raise InvalidStorageRequest("a snapshot mount needs a SnapshotKey")
        if isinstance(key, VolumeKey):
            name, tree = self._vname(key), self._volume(key).tree
        else:
            name, tree = self._sname(key), self._snapshot(key).tree
        target = self._checked(paths.normalize_mount_path, mount_path)
        relative = self._path(sub_path, "sub_path")
        real = ""
        if relative:
            if not self.subpath_supported:
                raise InvalidStorageRequest(
                    f"sub_path {relative!r} needs Docker engine API >= 1.45 (volume subpath "
                    f"mounts); this engine speaks 1.41. Mount the whole {kind.value} instead"
                )
            resolved = tree.resolve(relative)
            if resolved.node is None:
                raise StorageNotFound(f"sub_path {relative!r} does not exist")
            if resolved.node.kind != "d":
                raise InvalidStorageRequest(f"sub_path {relative!r} is not a directory")
            real = resolved.real
        return MountSpec(
            kind=kind,
            volume_name=name,
            target=target,
            read_only=read_only or kind is StorageKind.SNAPSHOT,
            sub_path=real,
        )

    # --- plumbing ---------------------------------------------------------------------

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if self._failures:
            raise self._failures.pop(0)

    def _checked(self, fn: Callable[..., T], *args: object) -> T:
        try:
            return fn(*args)
        except ValueError as exc:
            raise InvalidStorageRequest(str(exc)) from exc

    def _tenant(self, tenant_id: str | None) -> None:
        if tenant_id is not None:
            self._checked(validate_slug, "tenant id", tenant_id)

    def _path(self, path: str, what: str = "path") -> str:
        return self._checked(paths.normalize, path, what)

    def _vname(self, key: VolumeKey) -> str:
        return self._checked(volume_name, self.deployment_id, key)

    def _sname(self, key: SnapshotKey) -> str:
        return self._checked(snapshot_name, self.deployment_id, key)

    def _volume(self, key: VolumeKey) -> _Volume:
        volume = self._volumes.get(key)
        if volume is None:
            raise StorageNotFound(
                f"volume {key.volume_id!r} of tenant {key.tenant_id!r} does not exist"
            )
        return volume

    def _snapshot(self, key: SnapshotKey) -> _Snapshot:
        snapshot = self._snapshots.get(key)
        if snapshot is None:
            raise StorageNotFound(
                f"snapshot {key.snapshot_id!r} of tenant {key.tenant_id!r} does not exist"
            )
        return snapshot

    def _volume_info(self, volume: _Volume) -> VolumeInfo:
        return VolumeInfo(
            key=volume.key,
            name=volume_name(self.deployment_id, volume.key),
            size_limit_bytes=volume.limit,
            created_at=volume.created_at,
        )

    def _snapshot_info(self, snapshot: _Snapshot, size: int | None) -> SnapshotInfo:
        return SnapshotInfo(
            key=snapshot.key,
            name=snapshot_name(self.deployment_id, snapshot.key),
            source=snapshot.source,
            source_path=snapshot.source_path,
            created_at=snapshot.created_at,
            size_bytes=size,
        )

    def _refuse_if_mounted(self, name: str, what: str) -> None:
        users = sorted(self._mounts.get(name, ()))
        if users:
            listed = ", ".join(f"container {user}" for user in users)
            raise StorageConflict(f"{what} is still mounted by {listed}; remove those first")

"""ThreadedVolumeStore: the async VolumeStore API written once over a store's blocking
implementation.

Subclassed by helper_store.HelperVolumeStore (the Docker and Kubernetes stores of
services/spawner/platforms/).
Each public method validates ids and paths first (InvalidStorageRequest, before anything is
touched), takes the per-object locks (operations on one volume or snapshot are serialized
within this process: upload's limit check, snapshot copy, delete), and runs the subclass's
blocking `_method` in a worker thread, translating its engine's errors with `_engine_errors`.
Downloads are streams (chunks.ChunkStream): the file is opened (and checked) under the lock,
then read a chunk per worker-thread step without it, so a slow reader holds up nobody; a file
replaced meanwhile is read as it was when opened (uploads replace files, they do not write
into them).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from services.common.runtime.naming import validate_slug
from services.common.storage import paths
from services.common.storage.chunks import ChunkStream, FileChunks
from services.common.storage.types import (
    FileEntry,
    InvalidStorageRequest,
    MountSpec,
    SnapshotInfo,
    SnapshotKey,
    StorageKind,
    VolumeInfo,
    VolumeKey,
    check_size_limit,
    snapshot_name,
    validate_snapshot_key,
    validate_volume_key,
    volume_name,
)

T = TypeVar("T")


class ThreadedVolumeStore(abc.ABC):
    """VolumeStore of one deployment over blocking `_methods` (see the module docstring)."""

    def __init__(self, deployment_id: str) -> None:
        self.deployment_id = validate_slug("deployment id", deployment_id)
        self._locks: dict[str, asyncio.Lock] = {}

    # --- what a subclass provides -------------------------------------------------------

    @abc.abstractmethod
    def _engine_errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        """Turns the engine's (SDK and transport) errors into our outcomes."""

    @abc.abstractmethod
    def _create_volume(self, key: VolumeKey, size_limit_bytes: int) -> VolumeInfo: ...

    @abc.abstractmethod
    def _get_volume(self, key: VolumeKey) -> VolumeInfo | None: ...

    @abc.abstractmethod
    def _list_volumes(self, tenant_id: str | None) -> list[VolumeInfo]: ...

    @abc.abstractmethod
    def _delete_volume(self, key: VolumeKey) -> bool: ...

    @abc.abstractmethod
    def _list_files_volume(
        self, key: VolumeKey, relative: str, recursive: bool
    ) -> list[FileEntry]: ...

    @abc.abstractmethod
    def _upload(self, key: VolumeKey, relative: str, data: bytes) -> FileEntry: ...

    @abc.abstractmethod
    def _open_volume_file(self, key: VolumeKey, relative: str) -> FileChunks:
        """The file's chunks, checked (missing, directory) before this returns."""

    @abc.abstractmethod
    def _usage(self, key: VolumeKey | SnapshotKey) -> int: ...

    @abc.abstractmethod
    def _create_snapshot(
        self,
        source_key: VolumeKey,
        key: SnapshotKey,
        relative: str,
        size_limit_bytes: int | None,
    ) -> SnapshotInfo: ...

    @abc.abstractmethod
    def _get_snapshot(self, key: SnapshotKey) -> SnapshotInfo | None: ...

    @abc.abstractmethod
    def _list_snapshots(self, tenant_id: str | None) -> list[SnapshotInfo]: ...

    @abc.abstractmethod
    def _delete_snapshot(self, key: SnapshotKey) -> bool: ...

    @abc.abstractmethod
    def _list_files_snapshot(
        self, key: SnapshotKey, relative: str, recursive: bool
    ) -> list[FileEntry]: ...

    @abc.abstractmethod
    def _open_snapshot_file(self, key: SnapshotKey, relative: str) -> FileChunks: ...

    @abc.abstractmethod
    def _mount_for(
        self,
        kind: StorageKind,
        key: VolumeKey | SnapshotKey,
        target: str,
        relative: str,
        read_only: bool,
    ) -> MountSpec: ...

    # --- the VolumeStore protocol -------------------------------------------------------

    async def create_volume(self, key: VolumeKey, size_limit_bytes: int) -> VolumeInfo:
        """Creates the volume, or returns the matching existing one."""
        with self._translated("creating volume"):
            name = volume_name(self.deployment_id, key)
            check_size_limit(size_limit_bytes)
        async with self._lock(name):
            return await self._thread(
                f"creating volume {key.volume_id}", self._create_volume, key, size_limit_bytes
            )

    async def get_volume(self, key: VolumeKey) -> VolumeInfo | None:
        """The volume, None if absent; StorageConflict if the name is taken by another."""
        with self._translated("reading volume"):
            validate_volume_key(key)
        return await self._thread(f"reading volume {key.volume_id}", self._get_volume, key)

    async def list_volumes(self, tenant_id: str | None = None) -> list[VolumeInfo]:
        """Every volume of this deployment (of `tenant_id` if given), sorted by key."""
        return await self._thread("listing volumes", self._list_volumes, tenant_id)

    async def delete_volume(self, key: VolumeKey) -> bool:
        """Deletes the volume; False if absent; StorageConflict while a pod mounts it."""
        with self._translated("deleting volume"):
            name = volume_name(self.deployment_id, key)
        async with self._lock(name):
            return await self._thread(f"deleting volume {key.volume_id}", self._delete_volume, key)

    async def list_files(
        self, key: VolumeKey, path: str = "", recursive: bool = False
    ) -> list[FileEntry]:
        """Entries of directory `path` (recursively if asked) or the entry of file `path`."""
        with self._translated("listing files"):
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
        with self._translated("uploading"):
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

    async def open_download(self, key: VolumeKey, path: str) -> ChunkStream:
        """The file `path` of the volume as a stream of chunks; see VolumeStore."""
        with self._translated("downloading"):
            name, relative = volume_name(self.deployment_id, key), paths.normalize(path)
        action = f"downloading {relative or '/'} from volume {key.volume_id}"
        async with self._lock(name):  # held while the file is opened, not while it streams
            chunks = await self._thread(action, self._open_volume_file, key, relative)
        return ChunkStream(chunks, self._stepper(action))

    async def download(self, key: VolumeKey, path: str) -> bytes:
        """The whole file `path` of the volume (small files: tests and tools)."""
        return await (await self.open_download(key, path)).read_all()

    async def usage_bytes(self, key: VolumeKey | SnapshotKey) -> int:
        """Total size of the regular files in the volume or snapshot (marker excluded)."""
        with self._translated("measuring"):
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
        with self._translated("creating snapshot"):
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
        with self._translated("reading snapshot"):
            validate_snapshot_key(key)
        return await self._thread(f"reading snapshot {key.snapshot_id}", self._get_snapshot, key)

    async def list_snapshots(self, tenant_id: str | None = None) -> list[SnapshotInfo]:
        """Every snapshot of this deployment (of `tenant_id` if given), sorted by key."""
        return await self._thread("listing snapshots", self._list_snapshots, tenant_id)

    async def delete_snapshot(self, key: SnapshotKey) -> bool:
        """Deletes the snapshot; False if absent; StorageConflict while mounted."""
        with self._translated("deleting snapshot"):
            name = snapshot_name(self.deployment_id, key)
        async with self._lock(name):
            return await self._thread(
                f"deleting snapshot {key.snapshot_id}", self._delete_snapshot, key
            )

    async def list_snapshot_files(
        self, key: SnapshotKey, path: str = "", recursive: bool = False
    ) -> list[FileEntry]:
        """Like list_files, inside a complete snapshot."""
        with self._translated("listing snapshot files"):
            name, relative = snapshot_name(self.deployment_id, key), paths.normalize(path)
        async with self._lock(name):
            return await self._thread(
                f"listing {relative or '/'} in snapshot {key.snapshot_id}",
                self._list_files_snapshot,
                key,
                relative,
                recursive,
            )

    async def open_snapshot_download(self, key: SnapshotKey, path: str) -> ChunkStream:
        """Like open_download, inside a complete snapshot."""
        with self._translated("downloading from snapshot"):
            name, relative = snapshot_name(self.deployment_id, key), paths.normalize(path)
        action = f"downloading {relative or '/'} from snapshot {key.snapshot_id}"
        async with self._lock(name):
            chunks = await self._thread(action, self._open_snapshot_file, key, relative)
        return ChunkStream(chunks, self._stepper(action))

    async def download_snapshot(self, key: SnapshotKey, path: str) -> bytes:
        """Like download, inside a complete snapshot."""
        return await (await self.open_snapshot_download(key, path)).read_all()

    async def mount_for(
        self,
        kind: StorageKind,
        key: VolumeKey | SnapshotKey,
        mount_path: str,
        sub_path: str = "",
        read_only: bool = False,
    ) -> MountSpec:
        """The MountSpec of an existing volume or snapshot; see VolumeStore.mount_for."""
        with self._translated("preparing a mount"):
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

    # --- plumbing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """The engine's errors, and invalid ids, paths and limits, as our outcomes."""
        try:
            with self._engine_errors(action):
                yield
        except paths.PathError as exc:
            raise InvalidStorageRequest(str(exc)) from exc
        except ValueError as exc:  # invalid ids and limits from storage.types
            raise InvalidStorageRequest(str(exc)) from exc

    def _lock(self, name: str) -> asyncio.Lock:
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        return lock

    async def _thread(self, action: str, fn: Callable[..., T], *args: Any) -> T:
        with self._translated(action):
            return await asyncio.to_thread(fn, *args)

    def _stepper(self, action: str) -> Callable[[Callable[[], T]], Awaitable[T]]:
        """Runs one blocking step of a stream in a worker thread, errors translated."""

        async def step(fn: Callable[[], T]) -> T:
            return await self._thread(action, fn)

        return step

    def _name_of(self, key: VolumeKey | SnapshotKey) -> str:
        if isinstance(key, VolumeKey):
            return volume_name(self.deployment_id, key)
        if isinstance(key, SnapshotKey):
            return snapshot_name(self.deployment_id, key)
        raise InvalidStorageRequest(f"not a volume or snapshot key: {key!r}")

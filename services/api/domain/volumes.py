"""The volume and snapshot use cases behind PodsService: create, get, list, update, delete,
files (list, upload, download), sharing, and the permission check for pods that mount them.

Called by transport/pods_servicer.py with an authenticated Principal, and by domain/pods.py
(`authorize_mounts`) when a pod's mounts are added or changed. Records live in the
repositories (domain/ports.py); the files behind the storage seam (a VolumeStore).

Permissions follow domain/access.py (as for pods and templates). Reading files needs READ,
uploading and mounting a volume USER, mounting a snapshot READ, taking a snapshot READ on its
source; changes, deletion and sharing need ADMIN.

Order of writes: storage first, then the record (a retried create adopts what an interrupted
one left in storage); deletion removes the storage first, then the record (an interrupted
delete leaves a record whose storage is gone, which a second delete removes). Deleting
something a pod mounts is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from services.api.domain.access import Access, describe, needed_to_mount
from services.api.domain.paging import Page, after_of, page_of, page_size
from services.api.domain.ports import ApiStore, ReconcileRequester
from services.api.domain.principal import Principal
from services.api.domain.quota_errors import refusals
from services.api.domain.storage_errors import still_mounted, storage_errors
from services.api.domain.volume_inputs import (
    SizeLimits,
    SnapshotRequest,
    SnapshotUpdate,
    VolumeRequest,
    VolumeUpdate,
    checked_description,
    file_path,
    relative_path,
    storage_id,
    unchanged,
)
from services.api.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
)
from services.common.outcomes import PodsError
from services.common.pods_model import Level, MountType, VolumeMountSpec
from services.common.quotas_model import Quota, over_quota
from services.common.records import AlreadyExistsError as StoreAlreadyExists
from services.common.runtime.types import StorageKind
from services.common.storage.chunks import ChunkStream
from services.common.storage.types import (
    FileEntry,
    SnapshotKey,
    StorageConflict,
    VolumeKey,
    VolumeStore,
)
from services.common.volumes_model import MIB, SnapshotRecord, VolumeRecord

log = logging.getLogger(__name__)
R = TypeVar("R")

MAX_DESCRIPTION = 255
MAX_NAMED_PODS = 5  # pods named in a "still mounted" refusal
FORCE_WAIT = 60.0  # seconds a forced delete waits for the stopped pods' containers to go


@dataclass(frozen=True)
class Updated(Generic[R]):
    """A record after an update, and a sentence saying what happened."""

    record: R
    message: str


class Volumes:
    """Volume and snapshot use cases with object-level permission checks."""

    def __init__(
        self,
        *,
        store: ApiStore,
        files: VolumeStore,
        limits: SizeLimits,
        clock: Callable[[], datetime],
        quota: Quota | None = None,
        reconciler: ReconcileRequester | None = None,
    ) -> None:
        self._quota = quota  # per-user defaults; None: no quotas
        self._access = Access(store, clock, reconciler)
        self._store = store
        self._files = files
        self._limits = limits
        self._clock = clock

    # -- volumes ---------------------------------------------------------------------------

    async def create_volume(self, who: Principal, request: VolumeRequest) -> VolumeRecord:
        key = VolumeKey(who.tenant_id, storage_id("volume_id", request.volume_id))
        description = checked_description(request.description)
        limit = self._size_limit(request.size_limit_mib)
        if await self._store.storage.get_volume(key) is not None:
            raise AlreadyExistsError(f"volume_id '{key.volume_id}' already exists")
        await self._precheck_quota(who, limit)
        with storage_errors("volume_id"):
            await self._files.create_volume(key, limit * MIB)
        now = self._clock()
        record = VolumeRecord(
            key=key,
            owner=who.username,
            description=description,
            size_limit_mib=limit,
            size_bytes=0,
            creation_ts=now,
            update_ts=now,
        )
        try:
            async with self._undo_on_refusal(lambda: self._files.delete_volume(key)):
                return await self._store.storage.create_volume(record, self._quota)
        except StoreAlreadyExists:  # created meanwhile by someone else: their storage now
            raise AlreadyExistsError(f"volume_id '{key.volume_id}' already exists") from None

    async def get_volume(self, who: Principal, volume_id: str) -> VolumeRecord:
        """The volume with its size measured now."""
        record = await self._volume(who, volume_id, Level.READ)
        with storage_errors("volume_id"):
            used = await self._files.usage_bytes(record.key)
        updated = await self._store.storage.update_volume(
            record.key, self._clock(), size_bytes=used
        )
        return updated or record

    async def list_volumes(self, who: Principal) -> list[VolumeRecord]:
        if who.is_admin:
            return await self._store.storage.list_volumes(who.tenant_id)
        return await self._store.storage.readable_volumes(who.tenant_id, who.username)

    async def update_volume(self, who: Principal, update: VolumeUpdate) -> Updated[VolumeRecord]:
        record = await self._volume(who, update.volume_id, Level.USER)
        unchanged("size_limit", update.size_limit_mib, record.size_limit_mib, "MiB")
        if update.description is None or update.description == record.description:
            return Updated(
                record, f"Volume '{update.volume_id}' is unchanged: the update changes nothing."
            )
        description = checked_description(update.description)
        updated = await self._store.storage.update_volume(
            record.key, self._clock(), description=description
        )
        if updated is None:
            raise NotFoundError(f"volume '{update.volume_id}' not found")
        return Updated(updated, f"Volume '{update.volume_id}' updated (description).")

    async def delete_volume(self, who: Principal, volume_id: str, force: bool = False) -> None:
        """Deletes the volume. While pods mount it the delete is refused, unless `force`:
        then those pods (anyone's) are stopped with the reason in their action_logs, and the
        delete waits for their containers to go."""
        record = await self._volume(who, volume_id, Level.ADMIN)
        if force:
            await self._access.stop_mounting(record.key, who.username)
        else:
            await self._refuse_if_mounted(who, record.key)
        with storage_errors("volume_id"), still_mounted(f"volume '{volume_id}'"):
            await self._retry_while_mounted(
                lambda: self._files.delete_volume(record.key), FORCE_WAIT if force else 0
            )
        await self._store.storage.delete_volume(record.key)

    async def list_volume_files(
        self, who: Principal, volume_id: str, path: str = "", recursive: bool = False
    ) -> list[FileEntry]:
        record = await self._volume(who, volume_id, Level.READ)
        relative = relative_path("path", path)
        with storage_errors("path"):
            return await self._files.list_files(record.key, relative, recursive)

    async def list_volume_files_page(
        self,
        who: Principal,
        volume_id: str,
        path: str = "",
        recursive: bool = False,
        size: int = 0,
        token: str = "",
    ) -> Page:
        """One page of list_volume_files (`size` 0: the default; `token`: the previous
        page's next_token); bad paging input is refused before anything is read."""
        limit, after = page_size(size), after_of(token)
        entries = await self.list_volume_files(who, volume_id, path, recursive)
        return page_of(entries, limit, after)

    async def upload(self, who: Principal, volume_id: str, path: str, data: bytes) -> FileEntry:
        record = await self._volume(who, volume_id, Level.USER)
        relative = relative_path("path", path)
        if not relative:
            raise InvalidArgumentError("path", "must name a file, not the volume root")
        with storage_errors("path"):
            return await self._files.upload(record.key, relative, data)

    async def download(self, who: Principal, volume_id: str, path: str) -> ChunkStream:
        """The file as a stream of chunks, checked (permission, path, existence) before this
        returns; errors while it flows are the storage's (temporary) errors."""
        record = await self._volume(who, volume_id, Level.USER)
        relative = file_path(path)
        with storage_errors("path"):
            return await self._files.open_download(record.key, relative)

    async def volume_permissions(self, who: Principal, volume_id: str) -> list[tuple[str, Level]]:
        record = await self._volume(who, volume_id, Level.USER)
        return await self._access.grants(record.key)

    async def set_volume_permission(
        self, who: Principal, volume_id: str, user: str, level: str
    ) -> list[tuple[str, Level]]:
        record = await self._volume(who, volume_id, Level.ADMIN)
        return await self._access.grant(who, record.key, user, level)

    async def delete_volume_permission(
        self, who: Principal, volume_id: str, user: str
    ) -> list[tuple[str, Level]]:
        record = await self._volume(who, volume_id, Level.ADMIN)
        return await self._access.revoke(who, record.key, user)

    # -- snapshots -------------------------------------------------------------------------

    async def create_snapshot(self, who: Principal, request: SnapshotRequest) -> SnapshotRecord:
        key = SnapshotKey(who.tenant_id, storage_id("snapshot_id", request.snapshot_id))
        for name, value in (
            ("destination_path", request.destination_path),
            ("cron", request.cron),
            ("retention_policy", request.retention_policy),
        ):
            if value:
                raise InvalidArgumentError(name, "is not supported by this service; leave it empty")
        description = checked_description(request.description)
        limit = self._size_limit(request.size_limit_mib)
        # Tapis clients name the whole volume "/": a leading '/' is the volume root here.
        source_path = relative_path(
            "source_volume_path", request.source_volume_path.removeprefix("/")
        )
        source = await self._volume(
            who, storage_id("source_volume_id", request.source_volume_id), Level.READ
        )
        if await self._store.storage.get_snapshot(key) is not None:
            raise AlreadyExistsError(f"snapshot_id '{key.snapshot_id}' already exists")
        await self._precheck_quota(who, limit)
        with storage_errors("source_volume_path"):
            info = await self._files.create_snapshot(source.key, key, source_path, limit * MIB)
        now = self._clock()
        record = SnapshotRecord(
            key=key,
            owner=who.username,
            description=description,
            size_limit_mib=limit,
            source_volume_id=source.key.volume_id,
            source_volume_path=source_path,
            size_bytes=info.size_bytes or 0,
            creation_ts=now,
            update_ts=now,
        )
        try:
            async with self._undo_on_refusal(lambda: self._files.delete_snapshot(key)):
                return await self._store.storage.create_snapshot(record, self._quota)
        except StoreAlreadyExists:
            raise AlreadyExistsError(f"snapshot_id '{key.snapshot_id}' already exists") from None

    async def get_snapshot(self, who: Principal, snapshot_id: str) -> SnapshotRecord:
        return await self._snapshot(who, snapshot_id, Level.READ)

    async def list_snapshots(self, who: Principal) -> list[SnapshotRecord]:
        if who.is_admin:
            return await self._store.storage.list_snapshots(who.tenant_id)
        return await self._store.storage.readable_snapshots(who.tenant_id, who.username)

    async def update_snapshot(
        self, who: Principal, update: SnapshotUpdate
    ) -> Updated[SnapshotRecord]:
        record = await self._snapshot(who, update.snapshot_id, Level.USER)
        unchanged("size_limit", update.size_limit_mib, record.size_limit_mib, "MiB")
        for name, value in (("cron", update.cron), ("retention_policy", update.retention_policy)):
            if value:
                raise InvalidArgumentError(name, "is not supported by this service; leave it empty")
        if update.description is None or update.description == record.description:
            return Updated(
                record,
                f"Snapshot '{update.snapshot_id}' is unchanged: the update changes nothing.",
            )
        updated = await self._store.storage.update_snapshot(
            record.key, self._clock(), description=checked_description(update.description)
        )
        if updated is None:
            raise NotFoundError(f"snapshot '{update.snapshot_id}' not found")
        return Updated(updated, f"Snapshot '{update.snapshot_id}' updated (description).")

    async def delete_snapshot(self, who: Principal, snapshot_id: str, force: bool = False) -> None:
        """Deletes the snapshot; pods mounting it are handled as by delete_volume."""
        record = await self._snapshot(who, snapshot_id, Level.ADMIN)
        if force:
            await self._access.stop_mounting(record.key, who.username)
        else:
            await self._refuse_if_mounted(who, record.key)
        with storage_errors("snapshot_id"), still_mounted(f"snapshot '{snapshot_id}'"):
            await self._retry_while_mounted(
                lambda: self._files.delete_snapshot(record.key), FORCE_WAIT if force else 0
            )
        await self._store.storage.delete_snapshot(record.key)

    async def list_snapshot_files(
        self, who: Principal, snapshot_id: str, path: str = "", recursive: bool = False
    ) -> list[FileEntry]:
        record = await self._snapshot(who, snapshot_id, Level.READ)
        relative = relative_path("path", path)
        with storage_errors("path"):
            return await self._files.list_snapshot_files(record.key, relative, recursive)

    async def list_snapshot_files_page(
        self,
        who: Principal,
        snapshot_id: str,
        path: str = "",
        recursive: bool = False,
        size: int = 0,
        token: str = "",
    ) -> Page:
        """One page of list_snapshot_files; see list_volume_files_page."""
        limit, after = page_size(size), after_of(token)
        entries = await self.list_snapshot_files(who, snapshot_id, path, recursive)
        return page_of(entries, limit, after)

    async def download_snapshot(self, who: Principal, snapshot_id: str, path: str) -> ChunkStream:
        """Like download, from a snapshot."""
        record = await self._snapshot(who, snapshot_id, Level.USER)
        relative = file_path(path)
        with storage_errors("path"):
            return await self._files.open_snapshot_download(record.key, relative)

    async def snapshot_permissions(
        self, who: Principal, snapshot_id: str
    ) -> list[tuple[str, Level]]:
        record = await self._snapshot(who, snapshot_id, Level.USER)
        return await self._access.grants(record.key)

    async def set_snapshot_permission(
        self, who: Principal, snapshot_id: str, user: str, level: str
    ) -> list[tuple[str, Level]]:
        record = await self._snapshot(who, snapshot_id, Level.ADMIN)
        return await self._access.grant(who, record.key, user, level)

    async def delete_snapshot_permission(
        self, who: Principal, snapshot_id: str, user: str
    ) -> list[tuple[str, Level]]:
        record = await self._snapshot(who, snapshot_id, Level.ADMIN)
        return await self._access.revoke(who, record.key, user)

    # -- mounts ----------------------------------------------------------------------------

    async def authorize_mounts(self, who: Principal, mounts: Mapping[str, VolumeMountSpec]) -> None:
        """Checks that `who` may mount each entry (USER on a volume, READ on a snapshot) and
        that the storage can mount it as asked (it exists; a sub_path is a directory and the
        engine supports sub paths). Called for mounts being added or changed."""
        for object_id, mount in sorted(mounts.items()):
            field = f"volume_mounts.{object_id}"
            key: VolumeKey | SnapshotKey
            if mount.type is MountType.SNAPSHOT:
                key = (await self._snapshot(who, object_id, Level.READ, "to mount it")).key
                kind = StorageKind.SNAPSHOT
            else:
                key = (await self._volume(who, object_id, Level.USER, "to mount it")).key
                kind = StorageKind.VOLUME
            with storage_errors(f"{field}.sub_path", missing_is_invalid=True):
                await self._files.mount_for(
                    kind, key, mount.mount_path, mount.sub_path, mount.read_only
                )

    async def authorize_start(
        self, who: Principal, owner: str, mounts: Mapping[str, VolumeMountSpec]
    ) -> None:
        """Checks, when a pod is started, that its owner may still mount what it mounts (a
        grant may have been revoked since). Tenant admins starting a pod skip the check."""
        if who.is_admin:
            return
        for object_id, mount in sorted(mounts.items()):
            key: VolumeKey | SnapshotKey
            if mount.type is MountType.SNAPSHOT:
                key = SnapshotKey(who.tenant_id, object_id)
                exists = await self._store.storage.get_snapshot(key) is not None
            else:
                key = VolumeKey(who.tenant_id, object_id)
                exists = await self._store.storage.get_volume(key) is not None
            if not exists:
                raise FailedPreconditionError(
                    f"{describe(key)} no longer exists; remove it from volume_mounts first"
                )
            level = await self._access.level(key, owner)
            needed = needed_to_mount(key)
            if level is None or not level.allows(needed):
                raise PermissionDeniedError(
                    f"the pod's owner {owner} needs {needed.value} permission on "
                    f"{describe(key)} to mount it; they have {level.value if level else 'none'}"
                )

    # -- helpers ---------------------------------------------------------------------------

    async def _volume(
        self, who: Principal, volume_id: str, needed: Level, purpose: str = ""
    ) -> VolumeRecord:
        """The volume if the caller holds `needed` on it (domain/access.py)."""
        key = VolumeKey(who.tenant_id, storage_id("volume_id", volume_id))
        return await self._access.volume(who, key, needed, purpose)

    async def _snapshot(
        self, who: Principal, snapshot_id: str, needed: Level, purpose: str = ""
    ) -> SnapshotRecord:
        """The snapshot if the caller holds `needed` on it (domain/access.py)."""
        key = SnapshotKey(who.tenant_id, storage_id("snapshot_id", snapshot_id))
        return await self._access.snapshot(who, key, needed, purpose)

    @staticmethod
    async def _retry_while_mounted(delete: Callable[[], Awaitable[bool]], wait: float) -> None:
        """Runs `delete`, retrying for up to `wait` seconds while the storage says a
        container still mounts it (pods being stopped)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                await delete()
                return
            except StorageConflict:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.25)

    async def _refuse_if_mounted(self, who: Principal, key: VolumeKey | SnapshotKey) -> None:
        """FailedPreconditionError while pods (not being deleted) mount the object. Pods the
        caller may not read are counted, not named."""
        pods = await self._store.pods.pods_mounting(key)
        if not pods:
            return
        if who.is_admin:
            visible = [p.key.pod_id for p in pods]
        else:
            readable = {
                p.key for p in await self._store.pods.readable_pods(who.tenant_id, who.username)
            }
            visible = [p.key.pod_id for p in pods if p.key in readable]
        named = visible[:MAX_NAMED_PODS]
        others = len(pods) - len(named)
        parts = [f"pod '{pod_id}'" for pod_id in named]
        if others:
            parts.append(f"{others} other pod{'s' if others > 1 else ''}")
        kind = "volume" if isinstance(key, VolumeKey) else "snapshot"
        object_id = key.volume_id if isinstance(key, VolumeKey) else key.snapshot_id
        listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
        raise FailedPreconditionError(
            f"{kind} '{object_id}' is mounted by {listed}; delete those pods or "
            f"remove the {kind} from their volume_mounts first (or delete with force=true to "
            "stop them)"
        )

    async def _precheck_quota(self, who: Principal, size_limit_mib: int) -> None:
        """Refuses early, before storage is made, when the caller's quota is already full;
        the repository checks again atomically with the insert."""
        if self._quota is None:
            return
        view = await self._store.quotas.quota(who.tenant_id, who.username, self._quota)
        refusal = over_quota(view.limits, view.use, Quota(volumes=1, storage_mib=size_limit_mib))
        if refusal is not None:
            raise ResourceExhaustedError(refusal)

    @contextlib.asynccontextmanager
    async def _undo_on_refusal(self, undo: Callable[[], Awaitable[bool]]) -> AsyncIterator[None]:
        """Runs `undo` (removing the storage just made) when the quota refuses the record
        (a concurrent create took the room after the pre-check)."""
        try:
            with refusals():
                yield
        except ResourceExhaustedError:
            try:
                await undo()
            except PodsError as exc:
                log.warning("could not remove storage refused by the quota: %s", exc)
            raise

    def _size_limit(self, value: int | None) -> int:
        if value is None or value == 0:
            return self._limits.default_mib
        if not 1 <= value <= self._limits.max_mib:
            raise InvalidArgumentError(
                "size_limit", f"must be between 1 and {self._limits.max_mib} MiB (got {value})"
            )
        return value

"""SpawnerService's volume store RPCs: the real VolumeStore (Docker volumes or Kubernetes
claims, owned by the spawner process) offered to the API, so that only the spawner talks to
the container runtime. The API calls them through services/api/remote_volumes.py after it has
checked the caller's permission.

Composed into SpawnerServicer (services/spawner/server.py); the storage contract tests serve
it alone over a real grpc.aio channel. Store errors leave as the status codes of
services/common/storage/wire.py, with their message.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from services.common.generated.pods.v1 import spawner_service_pb2 as pb
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.storage import wire
from services.common.storage.types import (
    InvalidStorageRequest,
    SnapshotKey,
    StorageKind,
    VolumeKey,
    VolumeStore,
)
from services.spawner.answers import Answers, Context

_ANSWERS = Answers(wire.code_for, "the volume store failed")
_abort = _ANSWERS.abort
_answer = _ANSWERS.answer


class StorageServicer(pb_grpc.SpawnerServiceServicer):
    """The volume store RPCs of SpawnerService over one VolumeStore."""

    def __init__(self, files: VolumeStore) -> None:
        self._files = files

    async def CreateStoredVolume(
        self, request: pb.CreateStoredVolumeRequest, context: Context
    ) -> pb.CreateStoredVolumeResponse:
        key = VolumeKey(request.tenant_id, request.volume_id)
        info = await _answer(context, self._files.create_volume(key, request.size_limit_bytes))
        return pb.CreateStoredVolumeResponse(volume=wire.volume_to_pb(info))

    async def GetStoredVolume(
        self, request: pb.GetStoredVolumeRequest, context: Context
    ) -> pb.GetStoredVolumeResponse:
        key = VolumeKey(request.tenant_id, request.volume_id)
        info = await _answer(context, self._files.get_volume(key))
        if info is None:
            return pb.GetStoredVolumeResponse()
        return pb.GetStoredVolumeResponse(volume=wire.volume_to_pb(info))

    async def ListStoredVolumes(
        self, request: pb.ListStoredVolumesRequest, context: Context
    ) -> pb.ListStoredVolumesResponse:
        tenant = request.tenant_id if request.HasField("tenant_id") else None
        infos = await _answer(context, self._files.list_volumes(tenant))
        return pb.ListStoredVolumesResponse(volumes=[wire.volume_to_pb(i) for i in infos])

    async def DeleteStoredVolume(
        self, request: pb.DeleteStoredVolumeRequest, context: Context
    ) -> pb.DeleteStoredVolumeResponse:
        key = VolumeKey(request.tenant_id, request.volume_id)
        deleted = await _answer(context, self._files.delete_volume(key))
        return pb.DeleteStoredVolumeResponse(deleted=deleted)

    async def ListStoredFiles(
        self, request: pb.ListStoredFilesRequest, context: Context
    ) -> pb.ListStoredFilesResponse:
        key = await _answer(context, _key(request.storage))
        if isinstance(key, VolumeKey):
            listing = self._files.list_files(key, request.path, request.recursive)
        else:
            listing = self._files.list_snapshot_files(key, request.path, request.recursive)
        entries = await _answer(context, listing)
        return pb.ListStoredFilesResponse(files=[wire.file_to_pb(e) for e in entries])

    async def UploadStoredFile(
        self, request: pb.UploadStoredFileRequest, context: Context
    ) -> pb.UploadStoredFileResponse:
        key = VolumeKey(request.tenant_id, request.volume_id)
        entry = await _answer(context, self._files.upload(key, request.path, request.data))
        return pb.UploadStoredFileResponse(file=wire.file_to_pb(entry))

    async def DownloadStoredFile(
        self, request: pb.DownloadStoredFileRequest, context: Context
    ) -> AsyncIterator[pb.DownloadStoredFileResponse]:
        key = await _answer(context, _key(request.storage))
        if isinstance(key, VolumeKey):
            opening = self._files.open_download(key, request.path)
        else:
            opening = self._files.open_snapshot_download(key, request.path)
        stream = await _answer(context, opening)
        async with contextlib.aclosing(stream):
            try:
                async for chunk in stream:
                    yield pb.DownloadStoredFileResponse(chunk=chunk)
            except Exception as error:
                await _abort(context, error)

    async def MeasureStoredUsage(
        self, request: pb.MeasureStoredUsageRequest, context: Context
    ) -> pb.MeasureStoredUsageResponse:
        key = await _answer(context, _key(request.storage))
        used = await _answer(context, self._files.usage_bytes(key))
        return pb.MeasureStoredUsageResponse(usage_bytes=used)

    async def CreateStoredSnapshot(
        self, request: pb.CreateStoredSnapshotRequest, context: Context
    ) -> pb.CreateStoredSnapshotResponse:
        limit = request.size_limit_bytes if request.HasField("size_limit_bytes") else None
        creating = self._files.create_snapshot(
            VolumeKey(request.source_tenant_id, request.source_volume_id),
            SnapshotKey(request.tenant_id, request.snapshot_id),
            request.source_path,
            limit,
        )
        info = await _answer(context, creating)
        return pb.CreateStoredSnapshotResponse(snapshot=wire.snapshot_to_pb(info))

    async def GetStoredSnapshot(
        self, request: pb.GetStoredSnapshotRequest, context: Context
    ) -> pb.GetStoredSnapshotResponse:
        key = SnapshotKey(request.tenant_id, request.snapshot_id)
        info = await _answer(context, self._files.get_snapshot(key))
        if info is None:
            return pb.GetStoredSnapshotResponse()
        return pb.GetStoredSnapshotResponse(snapshot=wire.snapshot_to_pb(info))

    async def ListStoredSnapshots(
        self, request: pb.ListStoredSnapshotsRequest, context: Context
    ) -> pb.ListStoredSnapshotsResponse:
        tenant = request.tenant_id if request.HasField("tenant_id") else None
        infos = await _answer(context, self._files.list_snapshots(tenant))
        return pb.ListStoredSnapshotsResponse(snapshots=[wire.snapshot_to_pb(i) for i in infos])

    async def DeleteStoredSnapshot(
        self, request: pb.DeleteStoredSnapshotRequest, context: Context
    ) -> pb.DeleteStoredSnapshotResponse:
        key = SnapshotKey(request.tenant_id, request.snapshot_id)
        deleted = await _answer(context, self._files.delete_snapshot(key))
        return pb.DeleteStoredSnapshotResponse(deleted=deleted)

    async def MountStorage(
        self, request: pb.MountStorageRequest, context: Context
    ) -> pb.MountStorageResponse:
        key = await _answer(context, _key(request.storage))
        kind = await _answer(context, _kind(request.kind))
        mounting = self._files.mount_for(
            kind, key, request.mount_path, request.sub_path, request.read_only
        )
        return wire.mount_to_pb(await _answer(context, mounting))


async def _key(ref: pb.StorageRef) -> VolumeKey | SnapshotKey:
    return wire.key_of(ref)


async def _kind(value: str) -> StorageKind:
    try:
        return StorageKind(value)
    except ValueError:
        raise InvalidStorageRequest(f"kind must be volume or snapshot, not {value!r}") from None

"""The API's VolumeStore: every call goes to the spawner's SpawnerService volume store RPCs
(services/spawner/storage_servicer.py), so that the API process never talks to the container
runtime. Downloads stay streamed: one gRPC message per chunk, read as the caller reads.

Built by services/api/server.py for domain.volumes.Volumes; status codes turn back into the
store's errors through services/common/storage/wire.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import grpc

from services.common.generated.pods.v1 import spawner_service_pb2 as pb
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.storage import wire
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
)

T = TypeVar("T")
CALL_TIMEOUT = 600.0  # seconds for one call (a snapshot copies a whole volume)


async def _answer(call: Awaitable[T]) -> T:
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        raise wire.error_for(exc.code(), exc.details()) from None


class _RemoteChunks(ChunkStream):
    """A ChunkStream over the messages of a DownloadStoredFile call (its first chunk already
    read, so that errors about the file came before the stream was handed out)."""

    def __init__(
        self,
        call: AsyncIterator[pb.DownloadStoredFileResponse],
        first: bytes,
        cancel: grpc.aio.Call,
    ) -> None:
        super().__init__(FileChunks(iter(())))
        self._messages = call
        self._first: bytes | None = first
        self._call = cancel
        self._done = False

    async def __anext__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        if self._done:
            raise StopAsyncIteration
        try:
            message = await anext(self._messages)
        except StopAsyncIteration:
            self._done = True
            raise
        except grpc.aio.AioRpcError as exc:
            self._done = True
            raise wire.error_for(exc.code(), exc.details()) from None
        return message.chunk

    async def aclose(self) -> None:
        if not self._done:
            self._done = True
            self._first = None
            self._call.cancel()


class RemoteVolumeStore:
    """VolumeStore over SpawnerService (see services/common/storage/types.VolumeStore)."""

    def __init__(self, address: str) -> None:
        self._channel = grpc.aio.insecure_channel(address)
        self._stub = pb_grpc.SpawnerServiceStub(self._channel)

    async def close(self) -> None:
        await self._channel.close(None)

    async def create_volume(self, key: VolumeKey, size_limit_bytes: int) -> VolumeInfo:
        try:  # the wire carries an int64: a bool or a float must not pass as one
            check_size_limit(size_limit_bytes)
        except ValueError as exc:
            raise InvalidStorageRequest(str(exc)) from None
        request = pb.CreateStoredVolumeRequest(
            tenant_id=key.tenant_id, volume_id=key.volume_id, size_limit_bytes=size_limit_bytes
        )
        reply = await _answer(self._stub.CreateStoredVolume(request, timeout=CALL_TIMEOUT))
        return wire.volume_from_pb(reply.volume)

    async def get_volume(self, key: VolumeKey) -> VolumeInfo | None:
        request = pb.GetStoredVolumeRequest(tenant_id=key.tenant_id, volume_id=key.volume_id)
        reply = await _answer(self._stub.GetStoredVolume(request, timeout=CALL_TIMEOUT))
        return wire.volume_from_pb(reply.volume) if reply.HasField("volume") else None

    async def list_volumes(self, tenant_id: str | None = None) -> list[VolumeInfo]:
        request = pb.ListStoredVolumesRequest(tenant_id=tenant_id)
        reply = await _answer(self._stub.ListStoredVolumes(request, timeout=CALL_TIMEOUT))
        return [wire.volume_from_pb(v) for v in reply.volumes]

    async def delete_volume(self, key: VolumeKey) -> bool:
        request = pb.DeleteStoredVolumeRequest(tenant_id=key.tenant_id, volume_id=key.volume_id)
        reply = await _answer(self._stub.DeleteStoredVolume(request, timeout=CALL_TIMEOUT))
        return bool(reply.deleted)

    async def list_files(
        self, key: VolumeKey, path: str = "", recursive: bool = False
    ) -> list[FileEntry]:
        return await self._list_files(key, path, recursive)

    async def list_snapshot_files(
        self, key: SnapshotKey, path: str = "", recursive: bool = False
    ) -> list[FileEntry]:
        return await self._list_files(key, path, recursive)

    async def _list_files(
        self, key: VolumeKey | SnapshotKey, path: str, recursive: bool
    ) -> list[FileEntry]:
        request = pb.ListStoredFilesRequest(
            storage=wire.storage_ref(key), path=path, recursive=recursive
        )
        reply = await _answer(self._stub.ListStoredFiles(request, timeout=CALL_TIMEOUT))
        return [wire.file_from_pb(f) for f in reply.files]

    async def upload(self, key: VolumeKey, path: str, data: bytes) -> FileEntry:
        request = pb.UploadStoredFileRequest(
            tenant_id=key.tenant_id, volume_id=key.volume_id, path=path, data=data
        )
        reply = await _answer(self._stub.UploadStoredFile(request, timeout=CALL_TIMEOUT))
        return wire.file_from_pb(reply.file)

    async def open_download(self, key: VolumeKey, path: str) -> ChunkStream:
        return await self._open(key, path)

    async def open_snapshot_download(self, key: SnapshotKey, path: str) -> ChunkStream:
        return await self._open(key, path)

    async def _open(self, key: VolumeKey | SnapshotKey, path: str) -> ChunkStream:
        request = pb.DownloadStoredFileRequest(storage=wire.storage_ref(key), path=path)
        call = self._stub.DownloadStoredFile(request)
        messages = call.__aiter__()
        try:
            first = await anext(messages)
        except StopAsyncIteration:  # a server always sends one chunk, even for an empty file
            first = pb.DownloadStoredFileResponse()
        except grpc.aio.AioRpcError as exc:
            raise wire.error_for(exc.code(), exc.details()) from None
        except BaseException:
            call.cancel()
            raise
        return _RemoteChunks(messages, first.chunk, call)

    async def download(self, key: VolumeKey, path: str) -> bytes:
        return await (await self.open_download(key, path)).read_all()

    async def download_snapshot(self, key: SnapshotKey, path: str) -> bytes:
        return await (await self.open_snapshot_download(key, path)).read_all()

    async def usage_bytes(self, key: VolumeKey | SnapshotKey) -> int:
        request = pb.MeasureStoredUsageRequest(storage=wire.storage_ref(key))
        reply = await _answer(self._stub.MeasureStoredUsage(request, timeout=CALL_TIMEOUT))
        return int(reply.usage_bytes)

    async def create_snapshot(
        self,
        source_key: VolumeKey,
        snapshot_key: SnapshotKey,
        source_path: str = "",
        size_limit_bytes: int | None = None,
    ) -> SnapshotInfo:
        request = pb.CreateStoredSnapshotRequest(
            source_tenant_id=source_key.tenant_id,
            source_volume_id=source_key.volume_id,
            tenant_id=snapshot_key.tenant_id,
            snapshot_id=snapshot_key.snapshot_id,
            source_path=source_path,
            size_limit_bytes=size_limit_bytes,
        )
        reply = await _answer(self._stub.CreateStoredSnapshot(request, timeout=CALL_TIMEOUT))
        return wire.snapshot_from_pb(reply.snapshot)

    async def get_snapshot(self, key: SnapshotKey) -> SnapshotInfo | None:
        request = pb.GetStoredSnapshotRequest(tenant_id=key.tenant_id, snapshot_id=key.snapshot_id)
        reply = await _answer(self._stub.GetStoredSnapshot(request, timeout=CALL_TIMEOUT))
        return wire.snapshot_from_pb(reply.snapshot) if reply.HasField("snapshot") else None

    async def list_snapshots(self, tenant_id: str | None = None) -> list[SnapshotInfo]:
        request = pb.ListStoredSnapshotsRequest(tenant_id=tenant_id)
        reply = await _answer(self._stub.ListStoredSnapshots(request, timeout=CALL_TIMEOUT))
        return [wire.snapshot_from_pb(s) for s in reply.snapshots]

    async def delete_snapshot(self, key: SnapshotKey) -> bool:
        request = pb.DeleteStoredSnapshotRequest(
            tenant_id=key.tenant_id, snapshot_id=key.snapshot_id
        )
        reply = await _answer(self._stub.DeleteStoredSnapshot(request, timeout=CALL_TIMEOUT))
        return bool(reply.deleted)

    async def mount_for(
        self,
        kind: StorageKind,
        key: VolumeKey | SnapshotKey,
        mount_path: str,
        sub_path: str = "",
        read_only: bool = False,
    ) -> MountSpec:
        request = pb.MountStorageRequest(
            storage=wire.storage_ref(key),
            mount_path=mount_path,
            sub_path=sub_path,
            read_only=read_only,
            kind=kind.value,
        )
        reply = await _answer(self._stub.MountStorage(request, timeout=CALL_TIMEOUT))
        return wire.mount_from_pb(reply)

"""SnapshotsService over gRPC: snapshots (read-only copies of a volume or part of one), their
files and who may use them. Each method runs one use case of domain.volumes; enveloped.py
authenticates the call and wraps the reply in the Tapis envelope. Registered by
services/api/server.py."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator

from google.api import httpbody_pb2

from services.api.domain.principal import Principal
from services.api.domain.volumes import Volumes
from services.api.transport.auth import Authenticator
from services.api.transport.enveloped import (
    Authenticated,
    GrantCalls,
    Reply,
    downloaded,
    enveloped,
    files_page,
    streamed,
)
from services.api.transport.storage_convert import (
    snapshot_message,
    snapshot_request,
    snapshot_update,
)
from services.common.generated.pods.v1 import snapshots_service_pb2 as pb
from services.common.generated.pods.v1 import snapshots_service_pb2_grpc as pb_grpc
from services.common.generated.pods.v1 import volume_pb2
from services.common.storage.types import FileEntry


class SnapshotsServicer(Authenticated, pb_grpc.SnapshotsServiceServicer):
    """Thin transport over the snapshot use cases of domain.volumes.Volumes."""

    def __init__(self, volumes: Volumes, auth: Authenticator) -> None:
        super().__init__(auth)
        self._volumes = volumes
        grants = (
            volumes.snapshot_permissions,
            volumes.set_snapshot_permission,
            volumes.delete_snapshot_permission,
        )
        self._grants = GrantCalls("snapshot", *grants, volume_pb2.StoragePermissions)

    @enveloped(pb.CreateSnapshotResponse)
    async def CreateSnapshot(self, request: pb.CreateSnapshotRequest, who: Principal) -> Reply:
        record = await self._volumes.create_snapshot(who, snapshot_request(request.snapshot))
        taken = f"'{record.key.snapshot_id}' taken from volume '{record.source_volume_id}'"
        return Reply(snapshot_message(record), f"Snapshot {taken}.")

    @enveloped(pb.ListSnapshotsResponse)
    async def ListSnapshots(self, request: pb.ListSnapshotsRequest, who: Principal) -> Reply:
        records = await self._volumes.list_snapshots(who)
        found = [snapshot_message(r) for r in records]
        return Reply(found, f"{len(records)} snapshots found.")

    @enveloped(pb.GetSnapshotResponse)
    async def GetSnapshot(self, request: pb.GetSnapshotRequest, who: Principal) -> Reply:
        record = await self._volumes.get_snapshot(who, request.snapshot_id)
        return Reply(snapshot_message(record), f"Snapshot '{record.key.snapshot_id}'.")

    @enveloped(pb.UpdateSnapshotResponse)
    async def UpdateSnapshot(self, request: pb.UpdateSnapshotRequest, who: Principal) -> Reply:
        updated = await self._volumes.update_snapshot(
            who, snapshot_update(request.snapshot, request.snapshot_id)
        )
        return Reply(snapshot_message(updated.record), updated.message)

    @enveloped(pb.DeleteSnapshotResponse)
    async def DeleteSnapshot(self, request: pb.DeleteSnapshotRequest, who: Principal) -> Reply:
        await self._volumes.delete_snapshot(who, request.snapshot_id, force=request.force)
        return Reply("", f"Snapshot '{request.snapshot_id}' deleted.")

    @enveloped(pb.ListSnapshotFilesResponse)
    async def ListSnapshotFiles(
        self, request: pb.ListSnapshotFilesRequest, who: Principal
    ) -> Reply:
        page = await self._volumes.list_snapshot_files_page(
            who,
            request.snapshot_id,
            request.path,
            request.recursive,
            request.page_size,
            request.page_token,
        )
        return files_page(page, f"snapshot '{request.snapshot_id}'")

    @streamed
    async def GetSnapshotContents(
        self, request: pb.GetSnapshotContentsRequest, who: Principal
    ) -> AsyncIterator[httpbody_pb2.HttpBody]:
        volumes, snapshot_id = self._volumes, request.snapshot_id

        async def listed(path: str) -> list[FileEntry]:
            return await volumes.list_snapshot_files(who, snapshot_id, path, recursive=True)

        opened = functools.partial(volumes.download_snapshot, who, snapshot_id)
        async for body in downloaded(request.zip, request.path, listed, opened):
            yield body

    @enveloped(pb.GetSnapshotPermissionsResponse)
    async def GetSnapshotPermissions(
        self, request: pb.GetSnapshotPermissionsRequest, who: Principal
    ) -> Reply:
        return await self._grants.listed(who, request.snapshot_id)

    @enveloped(pb.SetSnapshotPermissionResponse)
    async def SetSnapshotPermission(
        self, request: pb.SetSnapshotPermissionRequest, who: Principal
    ) -> Reply:
        return await self._grants.granted(who, request.snapshot_id, request.user, request.level)

    @enveloped(pb.DeleteSnapshotPermissionResponse)
    async def DeleteSnapshotPermission(
        self, request: pb.DeleteSnapshotPermissionRequest, who: Principal
    ) -> Reply:
        return await self._grants.revoked(who, request.snapshot_id, request.user)

"""VolumesService over gRPC: volumes, their files (list, upload, download) and who may use
them. Each method runs one use case of domain.volumes; enveloped.py authenticates the call and
wraps the reply in the Tapis envelope. Registered by services/api/server.py."""

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
from services.api.transport.storage_convert import volume_message, volume_request, volume_update
from services.api.transport.uploads import uploaded_file
from services.common.generated.pods.v1 import volume_pb2
from services.common.generated.pods.v1 import volumes_service_pb2 as pb
from services.common.generated.pods.v1 import volumes_service_pb2_grpc as pb_grpc
from services.common.storage.types import FileEntry


class VolumesServicer(Authenticated, pb_grpc.VolumesServiceServicer):
    """Thin transport over the volume use cases of domain.volumes.Volumes."""

    def __init__(self, volumes: Volumes, auth: Authenticator) -> None:
        super().__init__(auth)
        self._volumes = volumes
        grants = (
            volumes.volume_permissions,
            volumes.set_volume_permission,
            volumes.delete_volume_permission,
        )
        self._grants = GrantCalls("volume", *grants, volume_pb2.StoragePermissions)

    @enveloped(pb.CreateVolumeResponse)
    async def CreateVolume(self, request: pb.CreateVolumeRequest, who: Principal) -> Reply:
        record = await self._volumes.create_volume(who, volume_request(request.volume))
        return Reply(volume_message(record), f"Volume '{record.key.volume_id}' created.")

    @enveloped(pb.ListVolumesResponse)
    async def ListVolumes(self, request: pb.ListVolumesRequest, who: Principal) -> Reply:
        records = await self._volumes.list_volumes(who)
        return Reply([volume_message(r) for r in records], f"{len(records)} volumes found.")

    @enveloped(pb.GetVolumeResponse)
    async def GetVolume(self, request: pb.GetVolumeRequest, who: Principal) -> Reply:
        record = await self._volumes.get_volume(who, request.volume_id)
        return Reply(volume_message(record), f"Volume '{record.key.volume_id}'.")

    @enveloped(pb.UpdateVolumeResponse)
    async def UpdateVolume(self, request: pb.UpdateVolumeRequest, who: Principal) -> Reply:
        given = volume_update(request.volume, request.volume_id)
        updated = await self._volumes.update_volume(who, given)
        return Reply(volume_message(updated.record), updated.message)

    @enveloped(pb.DeleteVolumeResponse)
    async def DeleteVolume(self, request: pb.DeleteVolumeRequest, who: Principal) -> Reply:
        await self._volumes.delete_volume(who, request.volume_id, force=request.force)
        return Reply("", f"Volume '{request.volume_id}' deleted.")

    @enveloped(pb.ListVolumeFilesResponse)
    async def ListVolumeFiles(self, request: pb.ListVolumeFilesRequest, who: Principal) -> Reply:
        page = await self._volumes.list_volume_files_page(
            who,
            request.volume_id,
            request.path,
            request.recursive,
            request.page_size,
            request.page_token,
        )
        return files_page(page, f"volume '{request.volume_id}'")

    @enveloped(pb.UploadToVolumeResponse)
    async def UploadToVolume(self, request: pb.UploadToVolumeRequest, who: Principal) -> Reply:
        data = uploaded_file(request.file.content_type, request.file.data)
        entry = await self._volumes.upload(who, request.volume_id, request.path, data)
        where = f"'{entry.path}' in volume '{request.volume_id}'"
        return Reply(entry.path, f"Uploaded {entry.size} bytes to {where}.")

    @streamed
    async def GetVolumeContents(
        self, request: pb.GetVolumeContentsRequest, who: Principal
    ) -> AsyncIterator[httpbody_pb2.HttpBody]:
        volumes, volume_id = self._volumes, request.volume_id

        async def listed(path: str) -> list[FileEntry]:
            return await volumes.list_volume_files(who, volume_id, path, recursive=True)

        opened = functools.partial(volumes.download, who, volume_id)
        async for body in downloaded(request.zip, request.path, listed, opened):
            yield body

    @enveloped(pb.GetVolumePermissionsResponse)
    async def GetVolumePermissions(
        self, request: pb.GetVolumePermissionsRequest, who: Principal
    ) -> Reply:
        return await self._grants.listed(who, request.volume_id)

    @enveloped(pb.SetVolumePermissionResponse)
    async def SetVolumePermission(
        self, request: pb.SetVolumePermissionRequest, who: Principal
    ) -> Reply:
        return await self._grants.granted(who, request.volume_id, request.user, request.level)

    @enveloped(pb.DeleteVolumePermissionResponse)
    async def DeleteVolumePermission(
        self, request: pb.DeleteVolumePermissionRequest, who: Principal
    ) -> Reply:
        return await self._grants.revoked(who, request.volume_id, request.user)

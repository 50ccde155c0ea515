"""PodsService over gRPC: authenticates the call, runs the use case, wraps the result in the
Tapis envelope. Registered by services/api/server.py. Pods, templates and images are served by
domain.pods and domain.catalog; volumes and snapshots by domain.volumes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.api import httpbody_pb2

from services.api.domain.catalog import Catalog
from services.api.domain.pods import Changed, Pods
from services.api.domain.quotas import Quotas
from services.api.domain.volumes import Volumes
from services.api.errors import InvalidArgumentError
from services.api.transport.auth import Authenticator
from services.api.transport.convert import (
    envelope,
    exec_output,
    exec_request,
    file_bodies,
    file_message,
    image_rule_message,
    permissions_message,
    pod_message,
    pod_request,
    pod_update,
    quota_message,
    quota_overrides,
    snapshot_message,
    snapshot_request,
    snapshot_update,
    storage_permissions_message,
    template_message,
    template_request,
    volume_message,
    volume_request,
    volume_update,
)
from services.api.transport.status import rpc, streamed_rpc
from services.api.transport.uploads import uploaded_file
from services.common.generated.pods.v1 import pod_pb2
from services.common.generated.pods.v1 import pods_service_pb2 as pb
from services.common.generated.pods.v1 import pods_service_pb2_grpc as pb_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class PodsServicer(pb_grpc.PodsServiceServicer):
    """Thin transport over domain.pods.Pods."""

    def __init__(
        self,
        pods: Pods,
        catalog: Catalog,
        volumes: Volumes,
        auth: Authenticator,
        pod_domain: str,
        pods_port: int,
        quotas: Quotas,
    ) -> None:
        self._quotas = quotas
        self._volumes = volumes
        self._catalog = catalog
        self._pods = pods
        self._auth = auth
        self._domain = pod_domain
        self._port = pods_port

    @rpc
    async def CreatePod(
        self, request: pb.CreatePodRequest, context: Context
    ) -> pb.CreatePodResponse:
        who = self._auth.principal(context)
        record = await self._pods.create(who, pod_request(request.pod))
        return pb.CreatePodResponse(
            result=pod_message(record, self._domain, self._port),
            **envelope(f"Pod '{record.key.pod_id}' created; it is being started."),
        )

    @rpc
    async def ListPods(self, request: pb.ListPodsRequest, context: Context) -> pb.ListPodsResponse:
        who = self._auth.principal(context)
        records = await self._pods.list_pods(who)
        return pb.ListPodsResponse(
            result=[pod_message(r, self._domain, self._port) for r in records],
            **envelope(f"{len(records)} pods found."),
        )

    @rpc
    async def GetPod(self, request: pb.GetPodRequest, context: Context) -> pb.GetPodResponse:
        who = self._auth.principal(context)
        record = await self._pods.get(who, request.pod_id)
        return pb.GetPodResponse(
            result=pod_message(record, self._domain, self._port),
            **envelope(f"Pod '{record.key.pod_id}' is {record.status.value}."),
        )

    @rpc
    async def DeletePod(
        self, request: pb.DeletePodRequest, context: Context
    ) -> pb.DeletePodResponse:
        who = self._auth.principal(context)
        record = await self._pods.delete(who, request.pod_id)
        return pb.DeletePodResponse(
            result="",
            **envelope(f"Pod '{record.key.pod_id}' is being deleted."),
        )

    @rpc
    async def GetPodLogs(
        self, request: pb.GetPodLogsRequest, context: Context
    ) -> pb.GetPodLogsResponse:
        who = self._auth.principal(context)
        view = await self._pods.logs(who, request.pod_id, request.previous)
        return pb.GetPodLogsResponse(
            result=pod_pb2.PodLogs(logs=view.logs, action_logs=list(view.action_logs)),
            **envelope(f"Logs of pod '{request.pod_id}'."),
        )

    @rpc
    async def GetPodCredentials(
        self, request: pb.GetPodCredentialsRequest, context: Context
    ) -> pb.GetPodCredentialsResponse:
        who = self._auth.principal(context)
        credentials = await self._pods.credentials(who, request.pod_id)
        return pb.GetPodCredentialsResponse(
            result=pod_pb2.PodCredentials(
                user_username=credentials.username, user_password=credentials.password
            ),
            **envelope(f"Credentials of pod '{request.pod_id}'."),
        )

    @rpc
    async def UpdatePod(
        self, request: pb.UpdatePodRequest, context: Context
    ) -> pb.UpdatePodResponse:
        who = self._auth.principal(context)
        mask = list(request.update_mask.paths)
        changed = await self._pods.update(who, pod_update(request.pod, request.pod_id, mask))
        return pb.UpdatePodResponse(**self._changed(changed))

    @rpc
    async def StartPod(self, request: pb.StartPodRequest, context: Context) -> pb.StartPodResponse:
        who = self._auth.principal(context)
        return pb.StartPodResponse(**self._changed(await self._pods.start(who, request.pod_id)))

    @rpc
    async def StopPod(self, request: pb.StopPodRequest, context: Context) -> pb.StopPodResponse:
        who = self._auth.principal(context)
        return pb.StopPodResponse(**self._changed(await self._pods.stop(who, request.pod_id)))

    @rpc
    async def RestartPod(
        self, request: pb.RestartPodRequest, context: Context
    ) -> pb.RestartPodResponse:
        who = self._auth.principal(context)
        changed = await self._pods.restart(who, request.pod_id)
        return pb.RestartPodResponse(**self._changed(changed))

    @rpc
    async def GetPodPermissions(
        self, request: pb.GetPodPermissionsRequest, context: Context
    ) -> pb.GetPodPermissionsResponse:
        who = self._auth.principal(context)
        grants = await self._pods.permissions(who, request.pod_id)
        return pb.GetPodPermissionsResponse(
            result=permissions_message(grants),
            **envelope(f"Permissions of pod '{request.pod_id}'."),
        )

    @rpc
    async def SetPodPermission(
        self, request: pb.SetPodPermissionRequest, context: Context
    ) -> pb.SetPodPermissionResponse:
        who = self._auth.principal(context)
        grants = await self._pods.set_permission(who, request.pod_id, request.user, request.level)
        return pb.SetPodPermissionResponse(
            result=permissions_message(grants),
            **envelope(f"{request.user} now has {request.level} on pod '{request.pod_id}'."),
        )

    @rpc
    async def DeletePodPermission(
        self, request: pb.DeletePodPermissionRequest, context: Context
    ) -> pb.DeletePodPermissionResponse:
        who = self._auth.principal(context)
        grants = await self._pods.delete_permission(who, request.pod_id, request.user)
        return pb.DeletePodPermissionResponse(
            result=permissions_message(grants),
            **envelope(f"{request.user} no longer has access to pod '{request.pod_id}'."),
        )

    @rpc
    async def ExecPod(self, request: pb.ExecPodRequest, context: Context) -> pb.ExecPodResponse:
        who = self._auth.principal(context)
        report = await self._pods.exec(who, request.pod_id, exec_request(request))
        return pb.ExecPodResponse(
            result=[exec_output(o) for o in report.outputs],
            **envelope(f"Pod '{request.pod_id}': {report.message}"),
        )

    @rpc
    async def ListTemplates(
        self, request: pb.ListTemplatesRequest, context: Context
    ) -> pb.ListTemplatesResponse:
        who = self._auth.principal(context)
        templates = await self._catalog.list_templates(who)
        return pb.ListTemplatesResponse(
            result=[template_message(t) for t in templates],
            **envelope(f"{len(templates)} templates found."),
        )

    @rpc
    async def GetTemplate(
        self, request: pb.GetTemplateRequest, context: Context
    ) -> pb.GetTemplateResponse:
        who = self._auth.principal(context)
        template = await self._catalog.get_template(who, request.template_id)
        return pb.GetTemplateResponse(
            result=template_message(template), **envelope(f"Template '{template.template_id}'.")
        )

    @rpc
    async def CreateTemplate(
        self, request: pb.CreateTemplateRequest, context: Context
    ) -> pb.CreateTemplateResponse:
        who = self._auth.principal(context)
        given = template_request(request.template, request.template.template_id)
        template = await self._catalog.create_template(who, given)
        return pb.CreateTemplateResponse(
            result=template_message(template),
            **envelope(f"Template '{template.template_id}' created."),
        )

    @rpc
    async def UpdateTemplate(
        self, request: pb.UpdateTemplateRequest, context: Context
    ) -> pb.UpdateTemplateResponse:
        who = self._auth.principal(context)
        given = template_request(request.template, request.template_id)
        template = await self._catalog.update_template(who, given)
        return pb.UpdateTemplateResponse(
            result=template_message(template),
            **envelope(f"Template '{template.template_id}' updated; existing pods keep theirs."),
        )

    @rpc
    async def DeleteTemplate(
        self, request: pb.DeleteTemplateRequest, context: Context
    ) -> pb.DeleteTemplateResponse:
        who = self._auth.principal(context)
        await self._catalog.delete_template(who, request.template_id)
        return pb.DeleteTemplateResponse(
            result="", **envelope(f"Template '{request.template_id}' deleted.")
        )

    @rpc
    async def GetTemplatePermissions(
        self, request: pb.GetTemplatePermissionsRequest, context: Context
    ) -> pb.GetTemplatePermissionsResponse:
        who = self._auth.principal(context)
        grants = await self._catalog.template_permissions(who, request.template_id)
        return pb.GetTemplatePermissionsResponse(
            result=permissions_message(grants),
            **envelope(f"Permissions of template '{request.template_id}'."),
        )

    @rpc
    async def SetTemplatePermission(
        self, request: pb.SetTemplatePermissionRequest, context: Context
    ) -> pb.SetTemplatePermissionResponse:
        who = self._auth.principal(context)
        grants = await self._catalog.set_template_permission(
            who, request.template_id, request.user, request.level
        )
        return pb.SetTemplatePermissionResponse(
            result=permissions_message(grants),
            **envelope(
                f"{request.user} now has {request.level} on template '{request.template_id}'."
            ),
        )

    @rpc
    async def DeleteTemplatePermission(
        self, request: pb.DeleteTemplatePermissionRequest, context: Context
    ) -> pb.DeleteTemplatePermissionResponse:
        who = self._auth.principal(context)
        grants = await self._catalog.delete_template_permission(
            who, request.template_id, request.user
        )
        return pb.DeleteTemplatePermissionResponse(
            result=permissions_message(grants),
            **envelope(f"{request.user} no longer has access to template '{request.template_id}'."),
        )

    @rpc
    async def ListImages(
        self, request: pb.ListImagesRequest, context: Context
    ) -> pb.ListImagesResponse:
        who = self._auth.principal(context)
        rules = await self._catalog.list_images(who)
        return pb.ListImagesResponse(
            result=[image_rule_message(r, who.tenant_id) for r in rules],
            **envelope(
                f"{len(rules)} allowed images." if rules else "No rules: every image is allowed."
            ),
        )

    @rpc
    async def AddImage(self, request: pb.AddImageRequest, context: Context) -> pb.AddImageResponse:
        who = self._auth.principal(context)
        rule = await self._catalog.add_image(who, request.image.image, request.image.description)
        return pb.AddImageResponse(
            result=image_rule_message(rule, who.tenant_id),
            **envelope(f"Image '{rule.image}' allowed."),
        )

    @rpc
    async def DeleteImage(
        self, request: pb.DeleteImageRequest, context: Context
    ) -> pb.DeleteImageResponse:
        who = self._auth.principal(context)
        await self._catalog.delete_image(who, request.image_id)
        return pb.DeleteImageResponse(
            result="", **envelope(f"Image '{request.image_id}' removed from the allow-list.")
        )

    # -- quotas ----------------------------------------------------------------------------

    @rpc
    async def GetQuota(self, request: pb.GetQuotaRequest, context: Context) -> pb.GetQuotaResponse:
        who = self._auth.principal(context)
        view = await self._quotas.get(who, request.username)
        return pb.GetQuotaResponse(
            result=quota_message(view), **envelope(f"Quota of '{view.username}'.")
        )

    @rpc
    async def SetQuota(self, request: pb.SetQuotaRequest, context: Context) -> pb.SetQuotaResponse:
        who = self._auth.principal(context)
        if not request.username:
            raise InvalidArgumentError("username", "is required")
        view = await self._quotas.set(who, request.username, quota_overrides(request.limits))
        return pb.SetQuotaResponse(
            result=quota_message(view), **envelope(f"Quota of '{view.username}' set.")
        )

    # -- volumes ---------------------------------------------------------------------------

    @rpc
    async def CreateVolume(
        self, request: pb.CreateVolumeRequest, context: Context
    ) -> pb.CreateVolumeResponse:
        who = self._auth.principal(context)
        record = await self._volumes.create_volume(who, volume_request(request.volume))
        return pb.CreateVolumeResponse(
            result=volume_message(record),
            **envelope(f"Volume '{record.key.volume_id}' created."),
        )

    @rpc
    async def ListVolumes(
        self, request: pb.ListVolumesRequest, context: Context
    ) -> pb.ListVolumesResponse:
        who = self._auth.principal(context)
        records = await self._volumes.list_volumes(who)
        return pb.ListVolumesResponse(
            result=[volume_message(r) for r in records],
            **envelope(f"{len(records)} volumes found."),
        )

    @rpc
    async def GetVolume(
        self, request: pb.GetVolumeRequest, context: Context
    ) -> pb.GetVolumeResponse:
        who = self._auth.principal(context)
        record = await self._volumes.get_volume(who, request.volume_id)
        return pb.GetVolumeResponse(
            result=volume_message(record), **envelope(f"Volume '{record.key.volume_id}'.")
        )

    @rpc
    async def UpdateVolume(
        self, request: pb.UpdateVolumeRequest, context: Context
    ) -> pb.UpdateVolumeResponse:
        who = self._auth.principal(context)
        given = volume_update(request.volume, request.volume_id)
        updated = await self._volumes.update_volume(who, given)
        return pb.UpdateVolumeResponse(
            result=volume_message(updated.record), **envelope(updated.message)
        )

    @rpc
    async def DeleteVolume(
        self, request: pb.DeleteVolumeRequest, context: Context
    ) -> pb.DeleteVolumeResponse:
        who = self._auth.principal(context)
        await self._volumes.delete_volume(who, request.volume_id, force=request.force)
        return pb.DeleteVolumeResponse(
            result="", **envelope(f"Volume '{request.volume_id}' deleted.")
        )

    @rpc
    async def ListVolumeFiles(
        self, request: pb.ListVolumeFilesRequest, context: Context
    ) -> pb.ListVolumeFilesResponse:
        who = self._auth.principal(context)
        page = await self._volumes.list_volume_files_page(
            who,
            request.volume_id,
            request.path,
            request.recursive,
            request.page_size,
            request.page_token,
        )
        return pb.ListVolumeFilesResponse(
            result=[file_message(e) for e in page.entries],
            next_page_token=page.next_token,
            **envelope(f"{len(page.entries)} entries in volume '{request.volume_id}'."),
        )

    @rpc
    async def UploadToVolume(
        self, request: pb.UploadToVolumeRequest, context: Context
    ) -> pb.UploadToVolumeResponse:
        who = self._auth.principal(context)
        data = uploaded_file(request.file.content_type, request.file.data)
        entry = await self._volumes.upload(who, request.volume_id, request.path, data)
        return pb.UploadToVolumeResponse(
            result=entry.path,
            **envelope(
                f"Uploaded {entry.size} bytes to '{entry.path}' in volume '{request.volume_id}'."
            ),
        )

    @streamed_rpc
    async def GetVolumeContents(
        self, request: pb.GetVolumeContentsRequest, context: Context
    ) -> AsyncIterator[httpbody_pb2.HttpBody]:
        who = self._auth.principal(context)
        _refuse_zip(request.zip)
        chunks = await self._volumes.download(who, request.volume_id, request.path)
        async for body in file_bodies(chunks):
            yield body

    @rpc
    async def GetVolumePermissions(
        self, request: pb.GetVolumePermissionsRequest, context: Context
    ) -> pb.GetVolumePermissionsResponse:
        who = self._auth.principal(context)
        grants = await self._volumes.volume_permissions(who, request.volume_id)
        return pb.GetVolumePermissionsResponse(
            result=storage_permissions_message(grants),
            **envelope(f"Permissions of volume '{request.volume_id}'."),
        )

    @rpc
    async def SetVolumePermission(
        self, request: pb.SetVolumePermissionRequest, context: Context
    ) -> pb.SetVolumePermissionResponse:
        who = self._auth.principal(context)
        grants = await self._volumes.set_volume_permission(
            who, request.volume_id, request.user, request.level
        )
        return pb.SetVolumePermissionResponse(
            result=storage_permissions_message(grants),
            **envelope(f"{request.user} now has {request.level} on volume '{request.volume_id}'."),
        )

    @rpc
    async def DeleteVolumePermission(
        self, request: pb.DeleteVolumePermissionRequest, context: Context
    ) -> pb.DeleteVolumePermissionResponse:
        who = self._auth.principal(context)
        grants = await self._volumes.delete_volume_permission(who, request.volume_id, request.user)
        return pb.DeleteVolumePermissionResponse(
            result=storage_permissions_message(grants),
            **envelope(f"{request.user} no longer has access to volume '{request.volume_id}'."),
        )

    # -- snapshots -------------------------------------------------------------------------

    @rpc
    async def CreateSnapshot(
        self, request: pb.CreateSnapshotRequest, context: Context
    ) -> pb.CreateSnapshotResponse:
        who = self._auth.principal(context)
        record = await self._volumes.create_snapshot(who, snapshot_request(request.snapshot))
        return pb.CreateSnapshotResponse(
            result=snapshot_message(record),
            **envelope(
                f"Snapshot '{record.key.snapshot_id}' taken from volume "
                f"'{record.source_volume_id}'."
            ),
        )

    @rpc
    async def ListSnapshots(
        self, request: pb.ListSnapshotsRequest, context: Context
    ) -> pb.ListSnapshotsResponse:
        who = self._auth.principal(context)
        records = await self._volumes.list_snapshots(who)
        return pb.ListSnapshotsResponse(
            result=[snapshot_message(r) for r in records],
            **envelope(f"{len(records)} snapshots found."),
        )

    @rpc
    async def GetSnapshot(
        self, request: pb.GetSnapshotRequest, context: Context
    ) -> pb.GetSnapshotResponse:
        who = self._auth.principal(context)
        record = await self._volumes.get_snapshot(who, request.snapshot_id)
        return pb.GetSnapshotResponse(
            result=snapshot_message(record), **envelope(f"Snapshot '{record.key.snapshot_id}'.")
        )

    @rpc
    async def UpdateSnapshot(
        self, request: pb.UpdateSnapshotRequest, context: Context
    ) -> pb.UpdateSnapshotResponse:
        who = self._auth.principal(context)
        given = snapshot_update(request.snapshot, request.snapshot_id)
        updated = await self._volumes.update_snapshot(who, given)
        return pb.UpdateSnapshotResponse(
            result=snapshot_message(updated.record), **envelope(updated.message)
        )

    @rpc
    async def DeleteSnapshot(
        self, request: pb.DeleteSnapshotRequest, context: Context
    ) -> pb.DeleteSnapshotResponse:
        who = self._auth.principal(context)
        await self._volumes.delete_snapshot(who, request.snapshot_id, force=request.force)
        return pb.DeleteSnapshotResponse(
            result="", **envelope(f"Snapshot '{request.snapshot_id}' deleted.")
        )

    @rpc
    async def ListSnapshotFiles(
        self, request: pb.ListSnapshotFilesRequest, context: Context
    ) -> pb.ListSnapshotFilesResponse:
        who = self._auth.principal(context)
        page = await self._volumes.list_snapshot_files_page(
            who,
            request.snapshot_id,
            request.path,
            request.recursive,
            request.page_size,
            request.page_token,
        )
        return pb.ListSnapshotFilesResponse(
            result=[file_message(e) for e in page.entries],
            next_page_token=page.next_token,
            **envelope(f"{len(page.entries)} entries in snapshot '{request.snapshot_id}'."),
        )

    @streamed_rpc
    async def GetSnapshotContents(
        self, request: pb.GetSnapshotContentsRequest, context: Context
    ) -> AsyncIterator[httpbody_pb2.HttpBody]:
        who = self._auth.principal(context)
        _refuse_zip(request.zip)
        chunks = await self._volumes.download_snapshot(who, request.snapshot_id, request.path)
        async for body in file_bodies(chunks):
            yield body

    @rpc
    async def GetSnapshotPermissions(
        self, request: pb.GetSnapshotPermissionsRequest, context: Context
    ) -> pb.GetSnapshotPermissionsResponse:
        who = self._auth.principal(context)
        grants = await self._volumes.snapshot_permissions(who, request.snapshot_id)
        return pb.GetSnapshotPermissionsResponse(
            result=storage_permissions_message(grants),
            **envelope(f"Permissions of snapshot '{request.snapshot_id}'."),
        )

    @rpc
    async def SetSnapshotPermission(
        self, request: pb.SetSnapshotPermissionRequest, context: Context
    ) -> pb.SetSnapshotPermissionResponse:
        who = self._auth.principal(context)
        grants = await self._volumes.set_snapshot_permission(
            who, request.snapshot_id, request.user, request.level
        )
        return pb.SetSnapshotPermissionResponse(
            result=storage_permissions_message(grants),
            **envelope(
                f"{request.user} now has {request.level} on snapshot '{request.snapshot_id}'."
            ),
        )

    @rpc
    async def DeleteSnapshotPermission(
        self, request: pb.DeleteSnapshotPermissionRequest, context: Context
    ) -> pb.DeleteSnapshotPermissionResponse:
        who = self._auth.principal(context)
        grants = await self._volumes.delete_snapshot_permission(
            who, request.snapshot_id, request.user
        )
        return pb.DeleteSnapshotPermissionResponse(
            result=storage_permissions_message(grants),
            **envelope(f"{request.user} no longer has access to snapshot '{request.snapshot_id}'."),
        )

    def _changed(self, changed: Changed) -> dict[str, Any]:
        return {
            "result": pod_message(changed.record, self._domain, self._port),
            **envelope(changed.message),
        }


def _refuse_zip(zip_requested: bool) -> None:
    if zip_requested:
        raise InvalidArgumentError(
            "zip", "zip downloads are not supported; download the files one at a time"
        )

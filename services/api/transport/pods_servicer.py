"""PodsService over gRPC: authenticates the call, runs the use case, wraps the result in the
Tapis envelope. Registered by services/api/server.py."""

from __future__ import annotations

from typing import Any

import grpc

from services.api.domain.catalog import Catalog
from services.api.domain.pods import Changed, Pods
from services.api.transport.auth import Authenticator
from services.api.transport.convert import (
    envelope,
    exec_output,
    exec_request,
    image_rule_message,
    permissions_message,
    pod_message,
    pod_request,
    pod_update,
    template_message,
    template_request,
)
from services.api.transport.status import rpc
from services.common.generated.pods.v1 import pod_pb2
from services.common.generated.pods.v1 import pods_service_pb2 as pb
from services.common.generated.pods.v1 import pods_service_pb2_grpc as pb_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class PodsServicer(pb_grpc.PodsServiceServicer):
    """Thin transport over domain.pods.Pods."""

    def __init__(
        self, pods: Pods, catalog: Catalog, auth: Authenticator, pod_domain: str, pods_port: int
    ) -> None:
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

    def _changed(self, changed: Changed) -> dict[str, Any]:
        return {
            "result": pod_message(changed.record, self._domain, self._port),
            **envelope(changed.message),
        }

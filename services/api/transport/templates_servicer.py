"""TemplatesService over gRPC: the tenant's pod templates, who may use each, and its image
allow-list. Each method runs one use case of domain.catalog; enveloped.py authenticates the
call and wraps the reply in the Tapis envelope. Registered by services/api/server.py."""

from __future__ import annotations

from google.protobuf.struct_pb2 import Struct, Value

from services.api.domain.catalog import Catalog
from services.api.domain.principal import Principal
from services.api.transport.auth import Authenticator
from services.api.transport.enveloped import Authenticated, GrantCalls, Reply, enveloped
from services.api.transport.templates_convert import (
    image_rule_message,
    template_message,
    template_request,
)
from services.common.generated.pods.v1 import pod_pb2
from services.common.generated.pods.v1 import templates_service_pb2 as pb
from services.common.generated.pods.v1 import templates_service_pb2_grpc as pb_grpc


class TemplatesServicer(Authenticated, pb_grpc.TemplatesServiceServicer):
    """Thin transport over domain.catalog.Catalog."""

    def __init__(self, catalog: Catalog, auth: Authenticator) -> None:
        super().__init__(auth)
        self._catalog = catalog
        grants = (
            catalog.template_permissions,
            catalog.set_template_permission,
            catalog.delete_template_permission,
        )
        self._grants = GrantCalls("template", *grants, pod_pb2.PodPermissions)

    @enveloped(pb.ListTemplatesResponse)
    async def ListTemplates(self, request: pb.ListTemplatesRequest, who: Principal) -> Reply:
        templates = await self._catalog.list_templates(who)
        found = [template_message(t) for t in templates]
        return Reply(found, f"{len(templates)} templates found.")

    @enveloped(pb.GetTemplateResponse)
    async def GetTemplate(self, request: pb.GetTemplateRequest, who: Principal) -> Reply:
        template = await self._catalog.get_template(who, request.template_id)
        return Reply(template_message(template), f"Template '{template.template_id}'.")

    @enveloped(pb.CreateTemplateResponse)
    async def CreateTemplate(self, request: pb.CreateTemplateRequest, who: Principal) -> Reply:
        given = template_request(request.template, request.template.template_id)
        template = await self._catalog.create_template(who, given)
        return Reply(template_message(template), f"Template '{template.template_id}' created.")

    @enveloped(pb.UpdateTemplateResponse)
    async def UpdateTemplate(self, request: pb.UpdateTemplateRequest, who: Principal) -> Reply:
        given = template_request(request.template, request.template_id)
        template = await self._catalog.update_template(who, given)
        message = f"Template '{template.template_id}' updated; existing pods keep theirs."
        return Reply(template_message(template), message)

    @enveloped(pb.DeleteTemplateResponse)
    async def DeleteTemplate(self, request: pb.DeleteTemplateRequest, who: Principal) -> Reply:
        await self._catalog.delete_template(who, request.template_id)
        return Reply("", f"Template '{request.template_id}' deleted.")

    @enveloped(pb.GetTemplatePermissionsResponse)
    async def GetTemplatePermissions(
        self, request: pb.GetTemplatePermissionsRequest, who: Principal
    ) -> Reply:
        return await self._grants.listed(who, request.template_id)

    @enveloped(pb.SetTemplatePermissionResponse)
    async def SetTemplatePermission(
        self, request: pb.SetTemplatePermissionRequest, who: Principal
    ) -> Reply:
        return await self._grants.granted(who, request.template_id, request.user, request.level)

    @enveloped(pb.DeleteTemplatePermissionResponse)
    async def DeleteTemplatePermission(
        self, request: pb.DeleteTemplatePermissionRequest, who: Principal
    ) -> Reply:
        return await self._grants.revoked(who, request.template_id, request.user)

    # -- the image allow-list ---------------------------------------------------------------

    @enveloped(pb.ListImagesResponse)
    async def ListImages(self, request: pb.ListImagesRequest, who: Principal) -> Reply:
        rules = await self._catalog.list_images(who)
        message = f"{len(rules)} allowed images." if rules else "No rules: every image is allowed."
        return Reply([image_rule_message(r, who.tenant_id) for r in rules], message)

    @enveloped(pb.AddImageResponse)
    async def AddImage(self, request: pb.AddImageRequest, who: Principal) -> Reply:
        rule = await self._catalog.add_image(who, request.image.image, request.image.description)
        return Reply(image_rule_message(rule, who.tenant_id), f"Image '{rule.image}' allowed.")

    @enveloped(pb.DeleteImageResponse)
    async def DeleteImage(self, request: pb.DeleteImageRequest, who: Principal) -> Reply:
        await self._catalog.delete_image(who, request.image_id)
        return Reply("", f"Image '{request.image_id}' removed from the allow-list.")

    @enveloped(pb.AddImagesResponse)
    async def AddImages(self, request: pb.AddImagesRequest, who: Principal) -> Reply:
        rules = [(rule.image, rule.description) for rule in request.images]
        added, skipped = await self._catalog.add_images(who, rules, request.skip_duplicates)
        result = [image_rule_message(r, who.tenant_id) for r in added]
        return Reply(result, f"{len(added)} images allowed.", skipped_notice(skipped))

    @enveloped(pb.GetImageResponse)
    async def GetImage(self, request: pb.GetImageRequest, who: Principal) -> Reply:
        rule = await self._catalog.get_image(who, request.image_id)
        return Reply(image_rule_message(rule, who.tenant_id), f"Image '{rule.image}'.")


def skipped_notice(skipped: list[str]) -> dict[str, object]:
    """Tapis's `metadata.notice` naming the duplicates a bulk add skipped (none: no notice)."""
    if not skipped:
        return {}
    notice = f"skipped {len(skipped)} duplicate image(s): {', '.join(skipped)}"
    return {"metadata": Struct(fields={"notice": Value(string_value=notice)})}

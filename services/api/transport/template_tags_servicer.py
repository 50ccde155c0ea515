"""TemplateTagsService over gRPC: template versions (tags), saving a pod as one, and a pod's
derived definition. Each method runs one use case of domain.template_tags (or domain.pods for
the derived pod); enveloped.py authenticates the call and wraps the reply in the Tapis
envelope. Registered by services/api/server.py."""

from __future__ import annotations

from services.api.domain.pods import Pods
from services.api.domain.principal import Principal
from services.api.domain.template_tags import NewTag, TemplateTags
from services.api.transport.auth import Authenticator
from services.api.transport.enveloped import Authenticated, Reply, enveloped
from services.api.transport.pods_convert import pod_message
from services.api.transport.template_tags_convert import (
    definition_request,
    tag_message,
    template_with_tags,
)
from services.common.generated.pods.v1 import template_tags_service_pb2 as pb
from services.common.generated.pods.v1 import template_tags_service_pb2_grpc as pb_grpc


class TemplateTagsServicer(Authenticated, pb_grpc.TemplateTagsServiceServicer):
    """Thin transport over domain.template_tags.TemplateTags."""

    def __init__(
        self, tags: TemplateTags, pods: Pods, auth: Authenticator, pod_domain: str, pods_port: int
    ) -> None:
        super().__init__(auth)
        self._tags = tags
        self._pods = pods
        self._domain = pod_domain
        self._port = pods_port

    @enveloped(pb.ListTemplatesAndTagsResponse)
    async def ListTemplatesAndTags(
        self, request: pb.ListTemplatesAndTagsRequest, who: Principal
    ) -> Reply:
        full = request.full if request.HasField("full") else True
        found = await self._tags.templates_and_tags(who)
        result = {t.template_id: template_with_tags(t, tags, full) for t, tags in found}
        return Reply(result, f"{len(found)} templates and their tags found.")

    @enveloped(pb.ListTemplateTagsResponse)
    async def ListTemplateTags(self, request: pb.ListTemplateTagsRequest, who: Principal) -> Reply:
        full = request.full if request.HasField("full") else True
        tags = await self._tags.list_tags(who, request.template_id)
        message = f"Template '{request.template_id}' has {len(tags)} tags."
        return Reply([tag_message(t, full) for t in tags], message)

    @enveloped(pb.AddTemplateTagResponse)
    async def AddTemplateTag(self, request: pb.AddTemplateTagRequest, who: Principal) -> Reply:
        new = NewTag(
            template_id=request.template_id,
            definition=definition_request(request.pod_definition),
            commit_message=request.commit_message,
            tag=request.tag,
        )
        tag = await self._tags.add_tag(who, new)
        return Reply(tag_message(tag), f"Tag '{tag.tag_timestamp}' added.")

    @enveloped(pb.GetTemplateTagResponse)
    async def GetTemplateTag(self, request: pb.GetTemplateTagRequest, who: Principal) -> Reply:
        tags = await self._tags.get_tag(who, request.template_id, request.tag_id)
        return Reply([tag_message(t) for t in tags], f"{len(tags)} versions found.")

    @enveloped(pb.SavePodAsTemplateTagResponse)
    async def SavePodAsTemplateTag(
        self, request: pb.SavePodAsTemplateTagRequest, who: Principal
    ) -> Reply:
        tag = await self._tags.save_pod(
            who, request.pod_id_net, request.template_id, request.commit_message, request.tag
        )
        message = f"Pod '{request.pod_id_net}' saved as tag '{tag.tag_timestamp}'."
        return Reply(tag_message(tag), message)

    @enveloped(pb.GetDerivedPodResponse)
    async def GetDerivedPod(self, request: pb.GetDerivedPodRequest, who: Principal) -> Reply:
        record = await self._pods.get(who, request.pod_id)
        message = f"Pod '{request.pod_id}' as derived from its templates."
        return Reply(pod_message(record, self._domain, self._port), message)

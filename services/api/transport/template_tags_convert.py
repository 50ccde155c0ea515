"""Converts between the TemplateTagsService messages (tags, pod definitions) and domain
records. Pure functions, called by template_tags_servicer.py."""

from __future__ import annotations

from google.protobuf import json_format

from services.api.domain.pod_definitions import definition_from_json, definition_to_json
from services.api.domain.validation import PodRequest
from services.api.transport.convert import timestamp
from services.common.generated.pods.v1 import template_tags_service_pb2 as pb
from services.common.templates import TemplateDef, TemplateTagRecord


def definition_request(message: pb.PodDefinition) -> PodRequest:
    """A pod definition in domain terms (unset and empty fields alike: not given)."""
    return definition_from_json(
        json_format.MessageToDict(message, preserving_proto_field_name=True)
    )


def tag_message(tag: TemplateTagRecord, full: bool = True) -> pb.TemplateTag:
    """A tag; without its pod definition unless `full`."""
    message = pb.TemplateTag(
        template_id=tag.template_id,
        commit_message=tag.commit_message,
        tag=tag.tag,
        tag_timestamp=tag.tag_timestamp,
        added_by=tag.added_by,
        creation_ts=timestamp(tag.creation_ts),
    )
    if full:
        stored = definition_to_json(definition_from_json(tag.pod_definition))
        json_format.ParseDict(stored, message.pod_definition)
    return message


def template_with_tags(
    template: TemplateDef, tags: list[TemplateTagRecord], full: bool
) -> pb.TemplateWithTags:
    return pb.TemplateWithTags(
        template_id=template.template_id,
        description=template.description,
        metatags=list(template.metatags),
        archive_message=template.archive_message,
        creation_ts=timestamp(template.creation_ts),
        update_ts=timestamp(template.update_ts),
        owner=template.owner,
        tags=[tag_message(t, full) for t in tags],
    )

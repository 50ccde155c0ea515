"""Converts between the TemplatesService messages (templates, image rules) and domain records.
Pure functions, called by templates_servicer.py."""

from __future__ import annotations

from services.api.domain.catalog import TemplateRequest
from services.api.transport.convert import timestamp
from services.api.transport.networking_convert import networking_message, stanza_requests
from services.common.generated.pods.v1 import template_pb2
from services.common.records import ImageRule
from services.common.templates import CredentialsRecipe, TemplateDef


def template_message(template: TemplateDef) -> template_pb2.Template:
    message = template_pb2.Template(
        template_id=template.template_id,
        description=template.description,
        metatags=list(template.metatags),
        archive_message=template.archive_message,
        image=template.image,
        environment_variables=dict(template.environment),
        creation_ts=timestamp(template.creation_ts),
        update_ts=timestamp(template.update_ts),
        owner=template.owner,
        read_only_root=template.read_only_root,
    )
    for name, stanza in template.networking.items():
        message.networking[name].CopyFrom(networking_message(stanza))
    if template.credentials is not None:
        message.credentials.CopyFrom(
            template_pb2.CredentialsRecipe(
                username=template.credentials.username,
                environment_variables=dict(template.credentials.environment),
            )
        )
    return message


def template_request(template: template_pb2.Template, template_id: str) -> TemplateRequest:
    """Fields present (optional scalars, messages) or not empty (lists, maps) count as given."""
    recipe = template.credentials if template.HasField("credentials") else None
    return TemplateRequest(
        template_id=template_id,
        image=template.image or None,
        description=template.description if template.HasField("description") else None,
        metatags=list(template.metatags) or None,
        archive_message=template.archive_message if template.HasField("archive_message") else None,
        networking=stanza_requests(template.networking) or None,
        environment=dict(template.environment_variables) or None,
        credentials=None
        if recipe is None
        else CredentialsRecipe(
            username=recipe.username, environment=dict(recipe.environment_variables)
        ),
        read_only_root=template.read_only_root if template.HasField("read_only_root") else None,
    )


def image_rule_message(rule: ImageRule, tenant_id: str) -> template_pb2.ImageRule:
    return template_pb2.ImageRule(
        image=rule.image,
        description=rule.description,
        tenants=[tenant_id],
        creation_ts=timestamp(rule.creation_ts),
        added_by=rule.added_by,
    )

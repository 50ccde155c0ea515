"""Template versions ("tags"): listing them, adding one (from a pod definition, or from a pod),
with the same checks as a pod create. Called by transport/template_tags_servicer.py.

Who may do what: a template's tags are read with READ on it; a tag is added with ADMIN on it
(a new version changes what every user of `id` or `id:tag` gets next); the images a tag names
must be on the tenant's allow-list, and a template it builds on must be one the caller may
use. A tag names the template it builds on by the exact version it resolved to when added,
so a tag never changes meaning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from services.api.domain.access import Access
from services.api.domain.catalog import Catalog
from services.api.domain.derivation import MAX_DEPTH, Resolver
from services.api.domain.pod_definitions import (
    check_definition,
    definition_to_json,
    own_fields,
    renamed,
)
from services.api.domain.pods import check_image_allowed
from services.api.domain.ports import ApiStore
from services.api.domain.principal import Principal
from services.api.domain.template_refs import (
    DEFAULT_TAG,
    check_tag,
    check_template_id,
    parse_template_ref,
    tag_timestamp,
)
from services.api.domain.validation import MAX_DESCRIPTION, Limits, PodRequest
from services.api.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from services.common.pods_model import Level
from services.common.records import AlreadyExistsError as StoreAlreadyExists
from services.common.templates import TemplateDef, TemplateTagRecord


@dataclass(frozen=True)
class NewTag:
    """A tag as the caller gives it."""

    template_id: str
    definition: PodRequest
    commit_message: str
    tag: str = ""


class TemplateTags:
    """Template tag use cases."""

    def __init__(
        self,
        store: ApiStore,
        catalog: Catalog,
        limits: Limits,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._access = Access(store, clock)
        self._resolver = Resolver(store, limits)
        self._limits = limits
        self._clock = clock

    async def templates_and_tags(
        self, who: Principal
    ) -> list[tuple[TemplateDef, list[TemplateTagRecord]]]:
        """The templates the caller may READ, each with its tags (oldest first)."""
        templates = await self._catalog.list_templates(who)
        tags = await self._store.template_tags.list_tags(
            who.tenant_id, [t.template_id for t in templates]
        )
        return [(t, [g for g in tags if g.template_id == t.template_id]) for t in templates]

    async def list_tags(self, who: Principal, template_id: str) -> list[TemplateTagRecord]:
        await self._catalog.authorize_template(who, template_id, Level.READ)
        return await self._store.template_tags.list_tags(who.tenant_id, [template_id])

    async def get_tag(
        self, who: Principal, template_id: str, tag_id: str
    ) -> list[TemplateTagRecord]:
        """The versions of `tag_id` (`tag`: all of them; `tag@timestamp`: that one)."""
        await self._catalog.authorize_template(who, template_id, Level.READ)
        ref = parse_template_ref(f"{template_id}:{tag_id}", "tag_id")
        stamp = f"{ref.tag}@{ref.timestamp}" if ref.timestamp else None
        found = await self._store.template_tags.list_tags(
            who.tenant_id, [template_id], tag=ref.tag, tag_timestamp=stamp
        )
        if not found:
            raise NotFoundError(f"template '{template_id}' has no tag '{tag_id[:100]}'")
        return found

    async def add_tag(self, who: Principal, new: NewTag) -> TemplateTagRecord:
        """Records a new version after checking it as a pod create would be."""
        check_template_id(new.template_id)  # a malformed id is a 400, not a template not found
        await self._catalog.authorize_template(who, new.template_id, Level.ADMIN)
        tag = check_tag(new.tag or DEFAULT_TAG)
        if not new.commit_message or len(new.commit_message) > MAX_DESCRIPTION:
            raise InvalidArgumentError(
                "commit_message", f"is required, at most {MAX_DESCRIPTION} characters"
            )
        definition = await self._checked(who, new.definition)
        now = self._clock()
        record = TemplateTagRecord(
            template_id=new.template_id,
            tag=tag,
            tag_timestamp=tag_timestamp(tag, now),
            pod_definition=definition_to_json(definition),
            commit_message=new.commit_message,
            added_by=who.username,
            creation_ts=now,
        )
        try:
            added = await self._store.template_tags.add_tag(who.tenant_id, record)
        except StoreAlreadyExists as exc:
            raise AlreadyExistsError(str(exc)) from None
        if added is None:
            raise NotFoundError(f"template '{new.template_id}' not found")
        return added

    async def save_pod(
        self, who: Principal, pod_id: str, template_id: str, commit_message: str, tag: str
    ) -> TemplateTagRecord:
        """A new version of `template_id` from a pod: the template the pod was made from
        (its exact version) and what the pod has of its own over it, or the whole pod."""
        record = await self._access.pod(who, pod_id, Level.READ)
        spec = record.spec
        if spec.template:
            ref = parse_template_ref(spec.template)
            inherited = await self._resolver.derived_spec(who.tenant_id, pod_id, ref)
            definition = replace(own_fields(spec, inherited), template=spec.template)
        else:
            definition = own_fields(spec, None)
        return await self.add_tag(who, NewTag(template_id, definition, commit_message, tag))

    async def _checked(self, who: Principal, definition: PodRequest) -> PodRequest:
        """The definition, each field checked; the template it names pinned to the exact
        version it resolves to now."""
        check_definition(definition, self._limits)
        if definition.image:
            await check_image_allowed(self._store.catalog, who.tenant_id, definition.image, "")
        if not definition.template:
            return definition
        field_name = "pod_definition.template"
        ref = parse_template_ref(definition.template, field_name)
        if ref.template_id not in await self._resolver.usable_templates(who):
            raise InvalidArgumentError(
                field_name, f"unknown template {ref.template_id!r} (or not one you may use)"
            )
        try:
            derivation = await self._resolver.derive(who.tenant_id, ref)
        except InvalidArgumentError as exc:
            raise renamed(exc, field_name) from None
        if len(derivation.chain) >= MAX_DEPTH:
            raise InvalidArgumentError(
                field_name, f"templates may build on each other at most {MAX_DEPTH} deep"
            )
        return replace(definition, template=derivation.label)

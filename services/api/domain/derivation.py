"""Resolving a pod's `template`: the template and tag versions it names, layered into the one
definition a pod is created from. Called by domain/pods.py (create, and start/restart with
`grab_latest_template_tag`) and domain/template_tags.py (adding a tag that names a template,
saving a pod as a tag).

A name without a tag (`postgres`) means the template's own stored definition when it has an
image (the seeded templates and those made with one), else its newest `latest` tag; `id:tag`
means the newest version of the tag; `id:tag@timestamp` that version. A tag's pod definition
may name another template; the chain is followed to at most MAX_DEPTH templates, and a chain
that comes back to a version it passed is refused (400 naming `template`). The deepest
definition is applied first, and each closer one over it; the pod's own fields last.
A stored template's own definition can only end a chain: its networking is forced on the pod,
its credentials recipe and read-only root apply, as for a pod made from it directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import reduce

from services.api.domain.pod_definitions import BLANK, definition_from_json, overlay, own_fields
from services.api.domain.ports import ApiStore
from services.api.domain.principal import Principal
from services.api.domain.template_refs import DEFAULT_TAG, TemplateRef, parse_template_ref
from services.api.domain.validation import (
    Limits,
    PodRequest,
    validate_networking,
    validate_new_pod,
)
from services.api.errors import InvalidArgumentError, PermissionDeniedError
from services.common.pods_model import Level, PodSpec
from services.common.templates import TemplateDef, TemplateTagRecord

MAX_DEPTH = 10


@dataclass(frozen=True)
class Derivation:
    """A resolved template name: the exact versions passed (`chain`, the named one first),
    their definitions layered (`definition`), the stored template ending the chain (`base`),
    and the template named (`top`)."""

    chain: tuple[str, ...]
    definition: PodRequest
    base: TemplateDef | None
    top: TemplateDef

    @property
    def label(self) -> str:
        """What a pod made from it records as its `template`: the exact version."""
        return self.chain[0]

    def apply(self, request: PodRequest) -> tuple[PodRequest, dict[str, TemplateDef]]:
        """The pod request with the definition under it, and the one template
        validate_new_pod resolves it with (image, networking, environment, credentials)."""
        base = self.base
        merged = overlay(self.definition, replace(request, environment_variables={}))
        if not (merged.image or base):
            raise InvalidArgumentError(
                "template", f"{self.label} gives no image (none of its versions names one)"
            )
        networking = base.networking if base and base.networking else None
        template = TemplateDef(
            template_id=self.label,
            image=merged.image or (base.image if base else ""),
            archive_message=self.top.archive_message,
            networking=networking or validate_networking(merged.networking),
            environment={
                **(base.environment if base else {}),
                **self.definition.environment_variables,
            },
            credentials=base.credentials if base else None,
            owner=self.top.owner,
            read_only_root=base.read_only_root if base else False,
        )
        pod = replace(
            merged,
            image="",
            template=self.label,
            environment_variables=dict(request.environment_variables),
            networking={},
        )
        return pod, {self.label: template}


class Resolver:
    """Resolves template names for pods and tags."""

    def __init__(self, store: ApiStore, limits: Limits) -> None:
        self._store = store
        self._limits = limits

    async def usable_templates(self, who: Principal) -> dict[str, TemplateDef]:
        """The templates the caller may create pods from (USER on them)."""
        templates = await self._store.catalog.list_templates(who.tenant_id)
        if who.is_admin:
            return {t.template_id: t for t in templates}
        levels = await self._store.grants.template_levels(who.tenant_id, who.username)
        return {
            t.template_id: t
            for t in templates
            if t.template_id in levels and levels[t.template_id].allows(Level.USER)
        }

    async def for_pod(
        self, who: Principal, request: PodRequest
    ) -> tuple[PodRequest, dict[str, TemplateDef]]:
        """The create request and the templates validate_new_pod resolves its `template`
        with (a stored definition as before; a tag's, layered, as one template)."""
        if not request.template:
            return request, {}
        usable = await self.usable_templates(who)
        if request.image:
            return request, usable  # validate_new_pod refuses image and template together
        ref = parse_template_ref(request.template)
        known = usable.get(ref.template_id)
        if known is None or (not ref.tag and known.image):
            return replace(request, template=ref.template_id), usable
        return (await self.derive(who.tenant_id, ref)).apply(request)

    async def derive(self, tenant_id: str, ref: TemplateRef) -> Derivation:
        """The versions `ref` leads to, layered; InvalidArgumentError naming `template` when
        one is missing, the chain is too deep or comes back on itself."""
        chain: list[str] = []
        layers: list[PodRequest] = []
        top: TemplateDef | None = None
        base: TemplateDef | None = None
        current: TemplateRef | None = ref
        while current is not None:
            template = await self._store.catalog.get_template(tenant_id, current.template_id)
            if template is None:
                raise InvalidArgumentError("template", _missing(current, chain))
            top = top or template
            if not current.tag and template.image:
                _passed(chain, current.template_id)
                base, current = template, None
                continue
            version = await self._version(tenant_id, current, chain)
            _passed(chain, f"{current.template_id}:{version.tag_timestamp}")
            layer = definition_from_json(version.pod_definition)
            layers.append(replace(layer, template=""))
            current = parse_template_ref(layer.template) if layer.template else None
        assert top is not None
        definition = reduce(overlay, reversed(layers), BLANK)
        return Derivation(tuple(chain), definition, base, top)

    async def derived_spec(self, tenant_id: str, pod_id: str, ref: TemplateRef) -> PodSpec:
        """The spec a pod with no fields of its own gets from `ref`."""
        request, templates = (await self.derive(tenant_id, ref)).apply(PodRequest(pod_id=pod_id))
        return validate_new_pod(request, templates, self._limits)

    async def latest_spec(self, who: Principal, pod_id: str, spec: PodSpec) -> PodSpec | None:
        """The spec of a pod made from a template tag moved to the newest version of that tag,
        its own fields kept (what differs from what its version gave); None when it was made
        from no tag or is on the newest version already."""
        ref = parse_template_ref(spec.template) if spec.template else None
        if ref is None or not ref.tag:
            return None
        if ref.template_id not in await self.usable_templates(who):
            raise PermissionDeniedError(
                f"grab_latest_template_tag needs USER permission on template '{ref.template_id}'"
            )
        newest = await self.derive(who.tenant_id, replace(ref, timestamp=""))
        if newest.label == spec.template:
            return None
        inherited = await self.derived_spec(who.tenant_id, pod_id, ref)
        request, templates = newest.apply(replace(own_fields(spec, inherited), pod_id=pod_id))
        return validate_new_pod(request, templates, self._limits)

    async def _version(
        self, tenant_id: str, ref: TemplateRef, chain: Sequence[str]
    ) -> TemplateTagRecord:
        tag = ref.tag or DEFAULT_TAG
        stamp = f"{tag}@{ref.timestamp}" if ref.timestamp else None
        versions = await self._store.template_tags.list_tags(
            tenant_id, [ref.template_id], tag=tag, tag_timestamp=stamp
        )
        if not versions:
            raise InvalidArgumentError("template", _missing(replace(ref, tag=tag), chain))
        return versions[-1]


def _passed(chain: list[str], version: str) -> None:
    if version in chain:
        path = " -> ".join([*chain, version])
        raise InvalidArgumentError("template", f"the templates form a cycle: {path}")
    if len(chain) >= MAX_DEPTH:
        raise InvalidArgumentError(
            "template", f"templates may build on each other at most {MAX_DEPTH} deep"
        )
    chain.append(version)


def _missing(ref: TemplateRef, chain: Sequence[str]) -> str:
    where = f" (named by {chain[-1]})" if chain else ""
    if not ref.tag:
        return f"unknown template {ref.template_id!r}{where}"
    version = f" version {ref.timestamp}" if ref.timestamp else ""
    return f"template {ref.template_id!r} has no tag {ref.tag!r}{version}{where}"

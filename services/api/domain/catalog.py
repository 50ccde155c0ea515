"""Templates and the image allow-list: templates are created by any user and changed by their
ADMINs, the allow-list is read by every user of a tenant and changed by its admins.
Called by transport/pods_servicer.py; stored through the repositories of domain/ports.py,
with grants checked and changed by domain/access.py."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from services.api.domain.access import Access
from services.api.domain.images import parse_rule
from services.api.domain.pods import check_image_allowed
from services.api.domain.ports import ApiStore
from services.api.domain.principal import Principal
from services.api.domain.template_refs import check_template_id
from services.api.domain.validation import (
    ENV_NAME_RE,
    MAX_DESCRIPTION,
    validate_image,
    validate_networking,
)
from services.api.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from services.common.pods_model import Level, NetworkStanza
from services.common.records import AlreadyExistsError as StoreAlreadyExists
from services.common.records import ImageRule, TemplateKey
from services.common.templates import PLACEHOLDERS, CredentialsRecipe, TemplateDef

METATAG_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
PREFIX_RULE_RE = re.compile(r"^[a-z0-9][a-z0-9._/:-]{0,254}\*$")
PLACEHOLDER_RE = re.compile(r"\{[^}]*\}")
MAX_BULK_IMAGES = 100


@dataclass(frozen=True)
class TemplateRequest:
    """A template as given by the caller (None: not given)."""

    template_id: str
    image: str | None = None
    description: str | None = None
    metatags: Sequence[str] | None = None
    archive_message: str | None = None
    networking: Mapping[str, NetworkStanza] | None = None
    environment: Mapping[str, str] | None = None
    credentials: CredentialsRecipe | None = None
    read_only_root: bool | None = None


class Catalog:
    """Template and image-rule use cases."""

    def __init__(self, store: ApiStore, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._access = Access(store, clock)
        self._clock = clock

    async def list_templates(self, who: Principal) -> list[TemplateDef]:
        """The templates the caller may READ."""
        templates = await self._store.catalog.list_templates(who.tenant_id)
        if who.is_admin:
            return templates
        levels = await self._store.grants.template_levels(who.tenant_id, who.username)
        return [t for t in templates if t.template_id in levels]

    async def get_template(self, who: Principal, template_id: str) -> TemplateDef:
        return await self.authorize_template(who, template_id, Level.READ)

    async def authorize_template(
        self, who: Principal, template_id: str, needed: Level
    ) -> TemplateDef:
        """The template if the caller holds `needed` on it (domain/access.py)."""
        return await self._access.template(who, template_id, needed)

    async def template_permissions(
        self, who: Principal, template_id: str
    ) -> list[tuple[str, Level]]:
        await self.authorize_template(who, template_id, Level.USER)  # USER, as in Tapis
        return await self._access.grants(TemplateKey(who.tenant_id, template_id))

    async def set_template_permission(
        self, who: Principal, template_id: str, user: str, level: str
    ) -> list[tuple[str, Level]]:
        await self.authorize_template(who, template_id, Level.ADMIN)
        return await self._access.grant(who, TemplateKey(who.tenant_id, template_id), user, level)

    async def delete_template_permission(
        self, who: Principal, template_id: str, user: str
    ) -> list[tuple[str, Level]]:
        await self.authorize_template(who, template_id, Level.ADMIN)
        return await self._access.revoke(who, TemplateKey(who.tenant_id, template_id), user)

    async def create_template(self, who: Principal, request: TemplateRequest) -> TemplateDef:
        """Any user may create a template (its ADMIN), as in Tapis; its image, if it has one,
        must be on the allow-list; one without an image gets its pod definitions from its tags
        (domain/template_tags.py)."""
        template = _checked(
            TemplateDef(
                template_id=check_template_id(request.template_id), image="", owner=who.username
            ),
            request,
        )
        if template.image:
            await check_image_allowed(self._store.catalog, who.tenant_id, template.image, "")
        try:
            return await self._store.catalog.create_template(who.tenant_id, template, self._clock())
        except StoreAlreadyExists as exc:
            raise AlreadyExistsError(str(exc)) from None

    async def update_template(self, who: Principal, request: TemplateRequest) -> TemplateDef:
        # ADMIN, stricter than Tapis's USER: USER is what lets a user create pods from a
        # template, and the seeded ones give it to everyone ("*").
        current = await self.authorize_template(who, request.template_id, Level.ADMIN)
        changed = _checked(current, request)
        if changed.image != current.image:
            await check_image_allowed(self._store.catalog, who.tenant_id, changed.image, "")
        updated = await self._store.catalog.replace_template(who.tenant_id, changed, self._clock())
        if updated is None:
            raise NotFoundError(f"template '{request.template_id}' not found")
        return updated

    async def delete_template(self, who: Principal, template_id: str) -> None:
        await self.authorize_template(who, template_id, Level.ADMIN)
        if not await self._store.catalog.delete_template(who.tenant_id, template_id):
            raise NotFoundError(f"template '{template_id}' not found")

    async def list_images(self, who: Principal) -> list[ImageRule]:
        return await self._store.catalog.list_image_rules(who.tenant_id)

    async def add_image(self, who: Principal, image: str, description: str) -> ImageRule:
        _admin(who, "change the image allow-list")
        _check_image_rule(image, description, "")
        try:
            return await self._store.catalog.add_image_rule(
                who.tenant_id, image, description, who.username, self._clock()
            )
        except StoreAlreadyExists as exc:
            raise AlreadyExistsError(str(exc)) from None

    async def add_images(
        self, who: Principal, rules: Sequence[tuple[str, str]], skip_duplicates: bool
    ) -> tuple[list[ImageRule], list[str]]:
        """Adds every (image, description) rule or none; returns those added and the images
        skipped as already listed (only with `skip_duplicates`)."""
        _admin(who, "change the image allow-list")
        if not rules or len(rules) > MAX_BULK_IMAGES:
            raise InvalidArgumentError("images", f"must hold 1 to {MAX_BULK_IMAGES} images")
        seen: set[str] = set()
        for index, (image, description) in enumerate(rules):
            _check_image_rule(image, description, f"images[{index}].")
            if image in seen:
                raise InvalidArgumentError(f"images[{index}].image", f"'{image}' is given twice")
            seen.add(image)
        try:
            return await self._store.catalog.add_image_rules(
                who.tenant_id, rules, who.username, self._clock(), skip_duplicates
            )
        except StoreAlreadyExists as exc:
            raise AlreadyExistsError(
                f"{exc}; nothing was added (skip_duplicates=true skips them)"
            ) from None

    async def get_image(self, who: Principal, image: str) -> ImageRule:
        rule = await self._store.catalog.get_image_rule(who.tenant_id, image)
        if rule is None:
            raise NotFoundError(f"image '{image[:100]}' is not on the allow-list")
        return rule

    async def delete_image(self, who: Principal, image: str) -> None:
        _admin(who, "change the image allow-list")
        if not await self._store.catalog.delete_image_rule(who.tenant_id, image):
            raise NotFoundError(f"image '{image[:100]}' is not on the allow-list")


def _check_image_rule(image: str, description: str, where: str) -> None:
    """InvalidArgumentError naming `where`image or `where`description and the rule."""
    if PREFIX_RULE_RE.fullmatch(image):
        try:
            parse_rule(image)
        except ValueError as exc:
            raise InvalidArgumentError(f"{where}image", str(exc)) from None
    else:
        try:
            validate_image(image)
        except InvalidArgumentError as exc:
            if not where:
                raise
            raise InvalidArgumentError(f"{where}image", exc.rule) from None
    if len(description) > MAX_DESCRIPTION:
        raise InvalidArgumentError(
            f"{where}description", f"must be at most {MAX_DESCRIPTION} characters"
        )


def _admin(who: Principal, action: str) -> None:
    if not who.is_admin:
        raise PermissionDeniedError(f"only tenant admins may {action}")


def _checked(current: TemplateDef, request: TemplateRequest) -> TemplateDef:
    """`current` with the given fields applied, each checked."""
    updated = current
    if request.image is not None:
        updated = replace(updated, image=validate_image(request.image))
    if request.description is not None:
        if len(request.description) > MAX_DESCRIPTION:
            raise InvalidArgumentError(
                "description", f"must be at most {MAX_DESCRIPTION} characters"
            )
        updated = replace(updated, description=request.description)
    if request.metatags is not None:
        if len(request.metatags) > 20 or not all(METATAG_RE.fullmatch(t) for t in request.metatags):
            raise InvalidArgumentError("metatags", "at most 20 tags of 1-64 letters, digits, _.:-")
        updated = replace(updated, metatags=tuple(request.metatags))
    if request.archive_message is not None:
        updated = replace(updated, archive_message=request.archive_message[:MAX_DESCRIPTION])
    if request.networking is not None:
        updated = replace(updated, networking=validate_networking(request.networking))
    if request.environment is not None:
        _check_env("environment_variables", request.environment)
        updated = replace(updated, environment=dict(request.environment))
    if request.credentials is not None:
        updated = replace(updated, credentials=_recipe(request.credentials))
    if request.read_only_root is not None:
        updated = replace(updated, read_only_root=request.read_only_root)
    return updated


def _recipe(recipe: CredentialsRecipe) -> CredentialsRecipe:
    if not recipe.username or len(recipe.username) > 64:
        raise InvalidArgumentError("credentials.username", "must be 1 to 64 characters")
    if not recipe.environment:
        raise InvalidArgumentError(
            "credentials.environment_variables", "must name where the credentials go"
        )
    _check_env("credentials.environment_variables", recipe.environment)
    for text in (recipe.username, *recipe.environment.values()):
        for placeholder in PLACEHOLDER_RE.findall(text):
            if placeholder not in PLACEHOLDERS:
                raise InvalidArgumentError(
                    "credentials",
                    f"unknown placeholder {placeholder[:40]}; use {', '.join(PLACEHOLDERS)}",
                )
    return recipe


def _check_env(field_name: str, env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if not ENV_NAME_RE.fullmatch(name) or len(value) > 4096:
            raise InvalidArgumentError(field_name, f"bad variable {name[:64]!r}")

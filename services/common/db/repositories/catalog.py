"""The tenant's catalog: pod templates (created with their owner as ADMIN, and everyone as
USER when public; seeded at start; deleted with their tags) and the image allow-list.

Used by services/api/domain/catalog.py and pods.py through the Protocols of
services/api/domain/ports.py, and by services/api/server.py (seeding). Template grants are
in repositories/grants.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from services.common.db.codec import template_to_json
from services.common.db.mapping import image_rule, template_def
from services.common.db.models import ImageRuleRow, TemplateRow, TemplateTagRow
from services.common.db.repositories.grants import delete_grants, grant_row
from services.common.db.sessions import Sessions
from services.common.pods_model import Level
from services.common.records import EVERYONE, AlreadyExistsError, ImageRule, TemplateKey
from services.common.templates import TemplateDef


class CatalogRepository:
    """Template and image-rule rows."""

    def __init__(self, sessions: Sessions) -> None:
        self._session = sessions

    async def list_templates(self, tenant_id: str) -> list[TemplateDef]:
        async with self._session() as session:
            rows = await session.scalars(
                select(TemplateRow)
                .where(TemplateRow.tenant_id == tenant_id)
                .order_by(TemplateRow.template_id)
            )
            return [template_def(r) for r in rows.all()]

    async def get_template(self, tenant_id: str, template_id: str) -> TemplateDef | None:
        async with self._session() as session:
            row = await self._template_row(session, tenant_id, template_id)
            return template_def(row) if row else None

    async def create_template(
        self,
        tenant_id: str,
        template: TemplateDef,
        now: datetime,
        *,
        public: bool = False,
    ) -> TemplateDef:
        """Inserts a template, its owner as its ADMIN (and every user as USER when
        `public`); AlreadyExistsError if the id is taken."""
        row = TemplateRow(
            tenant_id=tenant_id,
            template_id=template.template_id,
            definition=template_to_json(template),
            owner=template.owner,
            creation_ts=now,
            update_ts=now,
        )
        key = TemplateKey(tenant_id, template.template_id)
        try:
            async with self._session.begin() as session:
                session.add(row)
                await session.flush()  # the template first: a duplicate fails here
                session.add(grant_row(key, template.owner, Level.ADMIN))
                if public:
                    session.add(grant_row(key, EVERYONE, Level.USER))
        except IntegrityError:
            raise AlreadyExistsError(
                f"template_id '{template.template_id}' already exists"
            ) from None
        return template_def(row)

    async def replace_template(
        self, tenant_id: str, template: TemplateDef, now: datetime
    ) -> TemplateDef | None:
        async with self._session.begin() as session:
            row = await self._template_row(session, tenant_id, template.template_id)
            if row is None:
                return None
            row.definition = template_to_json(template)
            row.update_ts = now
            return template_def(row)

    async def delete_template(self, tenant_id: str, template_id: str) -> bool:
        async with self._session.begin() as session:
            await delete_grants(session, TemplateKey(tenant_id, template_id))
            await session.execute(
                delete(TemplateTagRow).where(
                    TemplateTagRow.tenant_id == tenant_id, TemplateTagRow.template_id == template_id
                )
            )
            result = await session.execute(
                delete(TemplateRow).where(
                    TemplateRow.tenant_id == tenant_id, TemplateRow.template_id == template_id
                )
            )
            return bool(getattr(result, "rowcount", 0))

    async def seed_templates(
        self, tenant_id: str, templates: Iterable[TemplateDef], now: datetime
    ) -> None:
        """Creates the templates the tenant lacks, usable by everyone (concurrent seeders
        are fine)."""
        for template in templates:
            if await self.get_template(tenant_id, template.template_id) is None:
                with contextlib.suppress(AlreadyExistsError):  # a concurrent seeder won
                    await self.create_template(tenant_id, template, now, public=True)

    async def list_image_rules(self, tenant_id: str) -> list[ImageRule]:
        async with self._session() as session:
            rows = await session.scalars(
                select(ImageRuleRow)
                .where(ImageRuleRow.tenant_id == tenant_id)
                .order_by(ImageRuleRow.image)
            )
            return [image_rule(r) for r in rows.all()]

    async def add_image_rule(
        self, tenant_id: str, image: str, description: str, added_by: str, now: datetime
    ) -> ImageRule:
        row = ImageRuleRow(
            tenant_id=tenant_id,
            image=image,
            description=description,
            added_by=added_by,
            creation_ts=now,
        )
        try:
            async with self._session.begin() as session:
                session.add(row)
        except IntegrityError:
            raise AlreadyExistsError(f"image '{image}' is already allowed") from None
        return image_rule(row)

    async def get_image_rule(self, tenant_id: str, image: str) -> ImageRule | None:
        async with self._session() as session:
            row = await session.scalar(
                select(ImageRuleRow).where(
                    ImageRuleRow.tenant_id == tenant_id, ImageRuleRow.image == image
                )
            )
            return image_rule(row) if row is not None else None

    async def add_image_rules(
        self,
        tenant_id: str,
        rules: Sequence[tuple[str, str]],
        added_by: str,
        now: datetime,
        skip_existing: bool,
    ) -> tuple[list[ImageRule], list[str]]:
        """Adds (image, description) rules in one transaction: all or none. An image already
        listed raises AlreadyExistsError, or with `skip_existing` is skipped; returns the
        rules added and the images skipped."""
        images = [image for image, _ in rules]
        try:
            async with self._session.begin() as session:
                existing = set(
                    await session.scalars(
                        select(ImageRuleRow.image).where(
                            ImageRuleRow.tenant_id == tenant_id, ImageRuleRow.image.in_(images)
                        )
                    )
                )
                if existing and not skip_existing:
                    listed = ", ".join(sorted(existing)[:10])
                    raise AlreadyExistsError(f"already allowed: {listed}")
                rows = [
                    ImageRuleRow(
                        tenant_id=tenant_id,
                        image=image,
                        description=description,
                        added_by=added_by,
                        creation_ts=now,
                    )
                    for image, description in rules
                    if image not in existing
                ]
                session.add_all(rows)
        except IntegrityError:
            raise AlreadyExistsError("an image was allowed meanwhile; try again") from None
        skipped = [image for image in images if image in existing]
        return [image_rule(row) for row in rows], skipped

    async def delete_image_rule(self, tenant_id: str, image: str) -> bool:
        async with self._session.begin() as session:
            result = await session.execute(
                delete(ImageRuleRow).where(
                    ImageRuleRow.tenant_id == tenant_id, ImageRuleRow.image == image
                )
            )
            return bool(getattr(result, "rowcount", 0))

    @staticmethod
    async def _template_row(session: Any, tenant_id: str, template_id: str) -> TemplateRow | None:
        row: TemplateRow | None = await session.scalar(
            select(TemplateRow).where(
                TemplateRow.tenant_id == tenant_id, TemplateRow.template_id == template_id
            )
        )
        return row

"""Template versions ("tags"): immutable pod definitions of a template, each named
`tag@timestamp`. Added only while the template exists; removed with it
(repositories/catalog.py `delete_template`).

Used by services/api/domain/template_tags.py and derivation.py through the TemplateTagStore
Protocol of services/api/domain/ports.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common.db.codec import aware
from services.common.db.models import TemplateRow, TemplateTagRow
from services.common.db.sessions import Sessions
from services.common.records import AlreadyExistsError
from services.common.templates import TemplateTagRecord


class TemplateTagRepository:
    """Template tag rows."""

    def __init__(self, sessions: Sessions) -> None:
        self._session = sessions

    async def add_tag(self, tenant_id: str, tag: TemplateTagRecord) -> TemplateTagRecord | None:
        """Records a tag; None when the template does not exist (any more), AlreadyExistsError
        when its `tag@timestamp` is taken."""
        row = TemplateTagRow(
            tenant_id=tenant_id,
            template_id=tag.template_id,
            tag=tag.tag,
            tag_timestamp=tag.tag_timestamp,
            pod_definition=dict(tag.pod_definition),
            commit_message=tag.commit_message,
            added_by=tag.added_by,
            creation_ts=tag.creation_ts,
        )
        try:
            async with self._session.begin() as session:
                template = await session.scalar(
                    select(TemplateRow.id).where(
                        TemplateRow.tenant_id == tenant_id,
                        TemplateRow.template_id == tag.template_id,
                    )
                )
                if template is None:
                    return None
                session.add(row)
        except IntegrityError:
            raise AlreadyExistsError(
                f"template '{tag.template_id}' already has a version '{tag.tag_timestamp}'; "
                "tags with the same name are one second apart at least"
            ) from None
        return _record(row)

    async def list_tags(
        self,
        tenant_id: str,
        template_ids: Sequence[str],
        tag: str | None = None,
        tag_timestamp: str | None = None,
    ) -> list[TemplateTagRecord]:
        """The tags of these templates (optionally only one tag name, or one version),
        oldest first."""
        if not template_ids:
            return []
        query = select(TemplateTagRow).where(
            TemplateTagRow.tenant_id == tenant_id,
            TemplateTagRow.template_id.in_(list(template_ids)),
        )
        if tag is not None:
            query = query.where(TemplateTagRow.tag == tag)
        if tag_timestamp is not None:
            query = query.where(TemplateTagRow.tag_timestamp == tag_timestamp)
        query = query.order_by(TemplateTagRow.creation_ts, TemplateTagRow.id)
        async with self._session() as session:
            return [_record(r) for r in (await session.scalars(query)).all()]


def _record(row: TemplateTagRow) -> TemplateTagRecord:
    created = aware(row.creation_ts)
    assert created is not None
    return TemplateTagRecord(
        template_id=row.template_id,
        tag=row.tag,
        tag_timestamp=row.tag_timestamp,
        pod_definition=dict(row.pod_definition),
        commit_message=row.commit_message,
        added_by=row.added_by,
        creation_ts=created,
    )
